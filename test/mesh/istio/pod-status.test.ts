import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { podState, restartsText } from '../../../src/mesh/istio/pod-status.ts';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms);
const MIN = 60_000;

const running = (name: string, extra: Partial<V1ContainerStatus> = {}): V1ContainerStatus => ({
  name,
  image: `${name}:1`,
  imageID: '',
  ready: true,
  restartCount: 0,
  started: true,
  state: { running: { startedAt: ago(20 * MIN) } },
  ...extra,
});

function pod(p: {
  containers?: string[];
  phase?: string;
  reason?: string;
  statuses?: V1ContainerStatus[];
  init?: { name: string; restartPolicy?: string }[];
  initStatuses?: V1ContainerStatus[];
  conditions?: { type: string; status: string; reason?: string }[];
  deleting?: boolean;
  age?: number;
}): V1Pod {
  return {
    metadata: {
      name: 'p-1',
      namespace: 'istio-system',
      creationTimestamp: ago(p.age ?? 20 * 86_400_000),
      ...(p.deleting ? { deletionTimestamp: ago(0) } : {}),
    },
    spec: {
      containers: (p.containers ?? ['app']).map((name) => ({ name })),
      ...(p.init ? { initContainers: p.init } : {}),
    },
    status: {
      phase: p.phase ?? 'Running',
      ...(p.reason ? { reason: p.reason } : {}),
      conditions: p.conditions ?? [],
      containerStatuses: p.statuses ?? (p.containers ?? ['app']).map((n) => running(n)),
      ...(p.initStatuses ? { initContainerStatuses: p.initStatuses } : {}),
    },
  };
}

// kubectl's printPod and HumanDuration themselves: test/kube/pod-status.test.ts.
describe('pod status as kubectl get pods computes it', () => {
  it('a running pod with every container ready is healthy', () => {
    const s = podState(pod({ containers: ['discovery', 'istio-proxy'] }), NOW);
    assert.deepEqual([s.ready, s.status, s.restarts, s.age, s.healthy], ['2/2', 'Running', 0, '20d', true]);
  });

  it('CrashLoopBackOff wins over Running, with restarts, their age and the OOMKilled exit', () => {
    const s = podState(
      pod({
        containers: ['mixer', 'istio-proxy'],
        statuses: [
          running('mixer', {
            ready: false,
            restartCount: 7,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: ago(5 * MIN) } },
          }),
          running('istio-proxy'),
        ],
      }),
      NOW,
    );
    assert.equal(s.status, 'CrashLoopBackOff');
    assert.equal(s.ready, '1/2');
    assert.equal(restartsText(s, NOW), '7 (5m ago)');
    assert.equal(s.recentRestart, true);
    assert.deepEqual(s.lastTermination, {
      container: 'mixer',
      reason: 'OOMKilled',
      exitCode: 137,
      finishedAt: ago(5 * MIN).toISOString(),
    });
    assert.equal(s.healthy, false);
  });

  it('a restart two hours ago is counted but not flagged as recent', () => {
    const s = podState(
      pod({
        statuses: [
          running('app', {
            restartCount: 1,
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(120 * MIN) } },
          }),
        ],
      }),
      NOW,
    );
    assert.equal(restartsText(s, NOW), '1 (120m ago)');
    assert.equal(s.recentRestart, false);
    assert.equal(s.healthy, true);
  });

  it('ImagePullBackOff and Pending', () => {
    const pull = podState(
      pod({
        statuses: [running('app', { ready: false, state: { waiting: { reason: 'ImagePullBackOff' } } })],
      }),
      NOW,
    );
    assert.deepEqual([pull.status, pull.ready, pull.healthy], ['ImagePullBackOff', '0/1', false]);
    const pending = podState(pod({ phase: 'Pending', statuses: [] }), NOW);
    assert.deepEqual([pending.status, pending.ready, pending.healthy], ['Pending', '0/1', false]);
  });

  it('a finished Job pod is Completed 0/1 and healthy; a failed one is Error and not', () => {
    const done = podState(
      pod({
        phase: 'Succeeded',
        statuses: [
          running('cleanup', { ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } }),
        ],
        containers: ['cleanup'],
      }),
      NOW,
    );
    assert.deepEqual(
      [done.status, done.ready, done.healthy, done.finished],
      ['Completed', '0/1', true, true],
    );
    assert.equal(done.lastTermination, undefined, 'a clean exit is not a termination worth showing');
    const failed = podState(
      pod({
        phase: 'Failed',
        statuses: [
          running('cleanup', { ready: false, state: { terminated: { exitCode: 2, reason: 'Error' } } }),
        ],
        containers: ['cleanup'],
      }),
      NOW,
    );
    assert.deepEqual([failed.status, failed.healthy, failed.finished], ['Error', false, true]);
  });

  it('a terminated container without a reason shows its exit code or signal', () => {
    const code = podState(
      pod({ statuses: [running('app', { ready: false, state: { terminated: { exitCode: 3 } } })] }),
      NOW,
    );
    assert.equal(code.status, 'ExitCode:3');
    const signal = podState(
      pod({
        statuses: [running('app', { ready: false, state: { terminated: { exitCode: 0, signal: 9 } } })],
      }),
      NOW,
    );
    assert.equal(signal.status, 'Signal:9');
  });

  it('Completed with a container still running is Running or NotReady by the Ready condition', () => {
    const statuses = [
      running('app'),
      running('job', { ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } }),
    ];
    const ready = podState(
      pod({ containers: ['app', 'job'], statuses, conditions: [{ type: 'Ready', status: 'True' }] }),
      NOW,
    );
    assert.equal(ready.status, 'Running');
    const notReady = podState(pod({ containers: ['app', 'job'], statuses }), NOW);
    assert.equal(notReady.status, 'NotReady');
  });

  it('a pod being deleted is Terminating, unless its phase is final or its node was lost', () => {
    assert.equal(podState(pod({ deleting: true }), NOW).status, 'Terminating');
    assert.equal(podState(pod({ deleting: true }), NOW).terminating, true);
    assert.equal(podState(pod({ deleting: true, reason: 'NodeLost' }), NOW).status, 'Unknown');
    const done = pod({
      deleting: true,
      phase: 'Succeeded',
      containers: ['c'],
      statuses: [running('c', { ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } })],
    });
    assert.equal(podState(done, NOW).status, 'Completed');
  });

  it('init containers: Init:i/n while waiting, Init:<reason> on failure, Init:ExitCode without reason', () => {
    const init = [{ name: 'istio-init' }, { name: 'second' }];
    const waiting = podState(
      pod({
        phase: 'Pending',
        init,
        statuses: [running('app', { ready: false, state: { waiting: { reason: 'PodInitializing' } } })],
        initStatuses: [
          running('istio-init', {
            ready: false,
            state: { terminated: { exitCode: 0, reason: 'Completed' } },
          }),
          running('second', { ready: false, state: { waiting: { reason: 'PodInitializing' } } }),
        ],
      }),
      NOW,
    );
    assert.equal(waiting.status, 'Init:1/2');
    const crashing = podState(
      pod({
        phase: 'Pending',
        init,
        initStatuses: [
          running('istio-init', {
            ready: false,
            restartCount: 4,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(MIN) } },
          }),
        ],
        statuses: [running('app', { ready: false, state: { waiting: { reason: 'PodInitializing' } } })],
      }),
      NOW,
    );
    assert.equal(crashing.status, 'Init:CrashLoopBackOff');
    assert.equal(restartsText(crashing, NOW), '4 (60s ago)', 'init restarts count while initializing');
    const exit = podState(
      pod({
        phase: 'Pending',
        init,
        initStatuses: [running('istio-init', { ready: false, state: { terminated: { exitCode: 126 } } })],
        statuses: [],
      }),
      NOW,
    );
    assert.equal(exit.status, 'Init:ExitCode:126');
  });

  it('a native sidecar (restartable init container) counts in READY', () => {
    const s = podState(
      pod({
        containers: ['app'],
        init: [{ name: 'istio-proxy', restartPolicy: 'Always' }],
        initStatuses: [running('istio-proxy', { ready: false })],
        conditions: [{ type: 'Initialized', status: 'True' }],
      }),
      NOW,
    );
    assert.deepEqual([s.ready, s.status, s.healthy], ['1/2', 'Running', false]);
  });

  it('SchedulingGated comes from the PodScheduled condition', () => {
    const s = podState(
      pod({
        phase: 'Pending',
        statuses: [],
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }],
      }),
      NOW,
    );
    assert.equal(s.status, 'SchedulingGated');
  });

  it("reads the API server's plain JSON (RFC 3339 strings) as it reads client-node's models (Dates)", () => {
    const model = pod({
      statuses: [
        running('app', {
          restartCount: 3,
          lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: ago(5 * MIN) } },
        }),
      ],
    });
    // The API server writes seconds without a fraction, e.g. "2026-11-27T11:55:00Z".
    const json = JSON.parse(JSON.stringify(model).replaceAll('.000Z', 'Z')) as unknown;
    assert.match(JSON.stringify(json), /"creationTimestamp":"2026-11-07T12:00:00Z"/);
    const fromJson = podState(json as Parameters<typeof podState>[0], NOW);
    assert.deepEqual(fromJson, podState(model, NOW));
    assert.equal(fromJson.lastTermination?.finishedAt, '2026-11-27T11:55:00.000Z');
    assert.equal(fromJson.createdAt, '2026-11-07T12:00:00.000Z');
    assert.equal(fromJson.recentRestart, true);
  });
});
