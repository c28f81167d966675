import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { humanDuration, type PodLike, podCells, podWideCells } from '../../src/sim/api/pod-printer.ts';

// The simulation's own port of kubectl's printPod (not meshops'): the cases follow the branches of
// printPod in kubernetes pkg/printers/internalversion/printers.go, with the cells kubectl prints for them.

const NOW = Date.parse('2026-11-27T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const pod = (p: Omit<PodLike, 'metadata'> & { metadata?: Partial<PodLike['metadata']> }): PodLike => ({
  ...p,
  metadata: { name: 'p', creationTimestamp: ago(3_600_000), ...p.metadata },
});
const running = { running: {} };
const one = { containers: [{}] };

describe('the simulated API server prints pods as kubectl does', () => {
  it('a running, ready pod: 1/1 Running 0', () => {
    const p = pod({
      spec: one,
      status: { phase: 'Running', containerStatuses: [{ name: 'a', ready: true, state: running }] },
    });
    assert.deepEqual(podCells(p, NOW), ['p', '1/1', 'Running', '0', '60m']);
  });

  it('a crash loop shows the waiting reason and the restarts with the time since the last one', () => {
    const p = pod({
      spec: { containers: [{}, {}] },
      status: {
        phase: 'Running',
        containerStatuses: [
          { name: 'a', ready: true, state: running },
          {
            name: 'b',
            restartCount: 4,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: ago(90_000) } },
          },
        ],
      },
    });
    assert.deepEqual(podCells(p, NOW).slice(1, 4), ['1/2', 'CrashLoopBackOff', '4 (90s ago)']);
  });

  it('a terminated container without a reason shows its signal, else its exit code', () => {
    const terminated = (t: { exitCode?: number; signal?: number }) =>
      pod({
        spec: one,
        status: { phase: 'Running', containerStatuses: [{ name: 'a', state: { terminated: t } }] },
      });
    assert.equal(podCells(terminated({ exitCode: 137, signal: 9 }), NOW)[2], 'Signal:9');
    assert.equal(podCells(terminated({ exitCode: 3 }), NOW)[2], 'ExitCode:3');
  });

  it('init containers: Init:i/n while waiting, the reason of a failed one, its signal or exit code', () => {
    const init = (state: NonNullable<PodLike['status']>['initContainerStatuses']) =>
      pod({
        spec: { ...one, initContainers: [{ name: 'i0' }, { name: 'i1' }] },
        status: { phase: 'Pending', initContainerStatuses: state, containerStatuses: [{ name: 'a' }] },
      });
    const done = { name: 'i0', state: { terminated: { exitCode: 0 } } };
    assert.equal(
      podCells(init([done, { name: 'i1', state: { waiting: { reason: 'PodInitializing' } } }]), NOW)[2],
      'Init:1/2',
    );
    assert.equal(
      podCells(init([{ name: 'i0', state: { waiting: { reason: 'ImagePullBackOff' } } }]), NOW)[2],
      'Init:ImagePullBackOff',
    );
    assert.equal(
      podCells(init([{ name: 'i0', state: { terminated: { exitCode: 1, reason: 'Error' } } }]), NOW)[2],
      'Init:Error',
    );
    assert.equal(
      podCells(init([{ name: 'i0', state: { terminated: { exitCode: 1, signal: 15 } } }]), NOW)[2],
      'Init:Signal:15',
    );
    assert.equal(
      podCells(init([{ name: 'i0', state: { terminated: { exitCode: 2 } } }]), NOW)[2],
      'Init:ExitCode:2',
    );
  });

  it('a restartable init container (native sidecar) counts in READY and its restarts stay', () => {
    const p = pod({
      spec: { ...one, initContainers: [{ name: 'proxy', restartPolicy: 'Always' }] },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [
          { name: 'proxy', started: true, ready: true, restartCount: 2, state: running },
        ],
        containerStatuses: [{ name: 'a', ready: true, state: running }],
      },
    });
    assert.deepEqual(podCells(p, NOW).slice(1, 4), ['2/2', 'Running', '2']);
  });

  it('Completed with a container still running reads Running when the pod is Ready, else NotReady', () => {
    const p = (ready: 'True' | 'False') =>
      pod({
        spec: { containers: [{}, {}] },
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: ready }],
          containerStatuses: [
            { name: 'a', ready: true, state: running },
            { name: 'b', state: { terminated: { exitCode: 0, reason: 'Completed' } } },
          ],
        },
      });
    assert.equal(podCells(p('True'), NOW)[2], 'Running');
    assert.equal(podCells(p('False'), NOW)[2], 'NotReady');
  });

  it('a pod being deleted is Terminating, Unknown when its node is lost, and a finished one keeps its phase', () => {
    const deleted = (phase: string, reason?: string) =>
      pod({
        metadata: { deletionTimestamp: ago(1000) },
        spec: one,
        status: { phase, ...(reason ? { reason } : {}) },
      });
    assert.equal(podCells(deleted('Running'), NOW)[2], 'Terminating');
    assert.equal(podCells(deleted('Running', 'NodeLost'), NOW)[2], 'Unknown');
    assert.equal(podCells(deleted('Succeeded'), NOW)[2], 'Succeeded');
  });

  it('a scheduling-gated pod says so', () => {
    const p = pod({
      spec: one,
      status: {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }],
      },
    });
    assert.equal(podCells(p, NOW)[2], 'SchedulingGated');
  });

  it('AGE as duration.HumanDuration writes it, <unknown> without a creation time', () => {
    const cases: [number, string][] = [
      [-3000, '<invalid>'],
      [-1500, '0s'],
      [119_000, '119s'],
      [120_000, '2m'],
      [9 * 60_000 + 5000, '9m5s'],
      [179 * 60_000, '179m'],
      [3 * 3_600_000 + 30 * 60_000, '3h30m'],
      [47 * 3_600_000, '47h'],
      [3 * 86_400_000 + 5 * 3_600_000, '3d5h'],
      [400 * 86_400_000, '400d'],
      [3 * 365 * 86_400_000 + 10 * 86_400_000, '3y10d'],
      [9 * 365 * 86_400_000, '9y'],
    ];
    for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, `${ms} ms`);
    assert.equal(podCells({ metadata: { name: 'p' } }, NOW)[4], '<unknown>');
  });
});

describe('podWideCells (kubectl get pods -o wide)', () => {
  it('shows IP, node, nominated node and readiness gates, <none> when absent', () => {
    assert.deepEqual(podWideCells({ metadata: { name: 'p' } }), ['<none>', '<none>', '<none>', '<none>']);
    assert.deepEqual(
      podWideCells({
        metadata: { name: 'p' },
        spec: { nodeName: 'node-1', readinessGates: [{ conditionType: 'a' }, { conditionType: 'b' }] },
        status: {
          podIP: '10.0.0.9',
          podIPs: [{ ip: '10.0.0.7' }],
          nominatedNodeName: 'node-2',
          conditions: [
            { type: 'a', status: 'True' },
            { type: 'b', status: 'False' },
          ],
        },
      }),
      ['10.0.0.7', 'node-1', 'node-2', '1/2'],
    );
  });
});
