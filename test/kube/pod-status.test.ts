import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  humanDuration,
  type PodShape,
  restartsCell,
  since,
  summarizePod,
} from '../../src/kube/pod-status.ts';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const MIN = 60_000;

function pod(
  status: PodShape['status'],
  spec: PodShape['spec'] = { containers: [{}, {}] },
  extra = {},
): PodShape {
  return { metadata: { creationTimestamp: ago(5 * MIN), ...extra }, spec, status };
}

const running = { running: { startedAt: ago(4 * MIN) } };

describe('humanDuration (apimachinery duration.HumanDuration)', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;

  it('formats each range like kubectl', () => {
    const cases: [number, string][] = [
      [-5 * s, '<invalid>'],
      [-500, '0s'],
      [119 * s, '119s'],
      [2 * m, '2m'],
      [5 * m + 7 * s, '5m7s'],
      [9 * m + 5 * s, '9m5s'],
      [179 * m, '179m'],
      [3 * h, '3h'],
      [7 * h + 30 * m, '7h30m'],
      [7 * h + 59 * m, '7h59m'],
      [47 * h, '47h'],
      [2 * d, '2d'],
      [3 * d + h, '3d1h'],
      [3 * d + 4 * h, '3d4h'],
      [8 * d, '8d'],
      [45 * d, '45d'],
      [729 * d, '729d'],
      [2 * 365 * d, '2y'],
      [3 * 365 * d + d, '3y1d'],
      [3 * 365 * d + 10 * d, '3y10d'],
      [9 * 365 * d, '9y'],
    ];
    for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, `${ms} ms`);
  });

  it('since: the age of a Date or an RFC 3339 string, <unknown> without one', () => {
    assert.equal(since(ago(5 * m), NOW), '5m');
    assert.equal(since(new Date(NOW - 5 * m), NOW), '5m');
    assert.equal(since(undefined, NOW), '<unknown>');
  });

  it('restartsCell: the count, and how long ago the last restart ended when known', () => {
    assert.equal(restartsCell(0, 0, NOW), '0');
    assert.equal(restartsCell(3, 0, NOW), '3');
    assert.equal(restartsCell(3, NOW - 5 * m, NOW), '3 (5m ago)');
  });
});

describe('summarizePod (kubectl printPod)', () => {
  it('shows a healthy sidecar pod as 2/2 Running', () => {
    const s = summarizePod(
      pod({
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [
          { name: 'app', ready: true, restartCount: 0, state: running },
          { name: 'istio-proxy', ready: true, restartCount: 0, state: running },
        ],
      }),
      NOW,
    );
    assert.deepEqual(s, { ready: '2/2', status: 'Running', restarts: '0', age: '5m' });
  });

  it('shows CrashLoopBackOff with restarts and when the last one ended', () => {
    const s = summarizePod(
      pod({
        phase: 'Running',
        containerStatuses: [
          {
            name: 'mixer',
            ready: false,
            restartCount: 4,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: ago(3 * MIN) } },
          },
          { name: 'istio-proxy', ready: true, restartCount: 0, state: running },
        ],
      }),
      NOW,
    );
    assert.deepEqual(s, { ready: '1/2', status: 'CrashLoopBackOff', restarts: '4 (3m ago)', age: '5m' });
  });

  it('shows a finished Job pod as 0/1 Completed', () => {
    const s = summarizePod(
      pod(
        {
          phase: 'Succeeded',
          containerStatuses: [
            {
              name: 'job',
              ready: false,
              restartCount: 0,
              state: { terminated: { exitCode: 0, reason: 'Completed' } },
            },
          ],
        },
        { containers: [{}] },
      ),
      NOW,
    );
    assert.equal(s.ready, '0/1');
    assert.equal(s.status, 'Completed');
  });

  it('reports init container progress and failures', () => {
    const spec = { containers: [{}], initContainers: [{ name: 'istio-init' }] };
    const waitingInit = summarizePod(
      pod(
        {
          phase: 'Pending',
          initContainerStatuses: [{ name: 'istio-init', state: { waiting: { reason: 'PodInitializing' } } }],
        },
        spec,
      ),
      NOW,
    );
    assert.equal(waitingInit.status, 'Init:0/1');
    const failedInit = summarizePod(
      pod(
        {
          phase: 'Pending',
          initContainerStatuses: [{ name: 'istio-init', state: { terminated: { exitCode: 2 } } }],
        },
        spec,
      ),
      NOW,
    );
    assert.equal(failedInit.status, 'Init:ExitCode:2');
  });

  it('counts restartable init containers (native sidecars) as containers', () => {
    const s = summarizePod(
      pod(
        {
          phase: 'Running',
          conditions: [{ type: 'Initialized', status: 'True' }],
          initContainerStatuses: [
            { name: 'istio-proxy', started: true, ready: true, restartCount: 1, state: running },
          ],
          containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: running }],
        },
        { containers: [{}], initContainers: [{ name: 'istio-proxy', restartPolicy: 'Always' }] },
      ),
      NOW,
    );
    assert.deepEqual([s.ready, s.status, s.restarts], ['2/2', 'Running', '1']);
  });

  it('shows Terminating for a pod being deleted, and ImagePullBackOff / NotReady', () => {
    const terminating = summarizePod(
      pod(
        { phase: 'Running', containerStatuses: [{ name: 'a', ready: true, state: running }] },
        { containers: [{}] },
        { deletionTimestamp: ago(0) },
      ),
      NOW,
    );
    assert.equal(terminating.status, 'Terminating');
    const pull = summarizePod(
      pod(
        {
          phase: 'Pending',
          containerStatuses: [
            { name: 'a', ready: false, state: { waiting: { reason: 'ImagePullBackOff' } } },
          ],
        },
        { containers: [{}] },
      ),
      NOW,
    );
    assert.equal(pull.status, 'ImagePullBackOff');
    const notReady = summarizePod(
      pod({
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [
          { name: 'a', ready: true, state: running },
          { name: 'b', ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        ],
      }),
      NOW,
    );
    assert.equal(notReady.status, 'NotReady');
  });
});

describe('printPod on client-node objects and plain JSON alike', () => {
  it('gives the same cells whether timestamps are Date objects or strings', () => {
    const json = pod({
      phase: 'Running',
      containerStatuses: [
        {
          name: 'mixer',
          ready: false,
          restartCount: 2,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(7 * MIN) } },
        },
        { name: 'istio-proxy', ready: true, restartCount: 0, state: running },
      ],
    });
    const dated: PodShape = {
      metadata: { creationTimestamp: new Date(NOW - 5 * MIN), deletionTimestamp: new Date(NOW) },
      spec: json.spec,
      status: {
        ...json.status,
        containerStatuses: json.status?.containerStatuses?.map((c) => ({
          ...c,
          ...(c.lastState?.terminated
            ? {
                lastState: { terminated: { ...c.lastState.terminated, finishedAt: new Date(NOW - 7 * MIN) } },
              }
            : {}),
        })),
      },
    };
    const withDeletion = { ...json, metadata: { ...json.metadata, deletionTimestamp: ago(0) } };
    assert.deepEqual(summarizePod(dated, NOW), summarizePod(withDeletion, NOW));
    assert.deepEqual(summarizePod(dated, NOW), {
      ready: '1/2',
      status: 'Terminating',
      restarts: '2 (7m ago)',
      age: '5m',
    });
  });
});
