import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { humanDuration, type PodLike, summarizePod } from '../../src/sim/api/pod-printer.ts';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const MIN = 60_000;

function pod(
  status: PodLike['status'],
  spec: PodLike['spec'] = { containers: [{}, {}] },
  extra = {},
): PodLike {
  return { metadata: { name: 'p', creationTimestamp: ago(5 * MIN), ...extra }, spec, status };
}

const running = { running: { startedAt: ago(4 * MIN) } };

describe('humanDuration (apimachinery duration.HumanDuration)', () => {
  it('formats each range like kubectl', () => {
    const cases: [number, string][] = [
      [-5000, '<invalid>'],
      [-500, '0s'],
      [119_000, '119s'],
      [2 * MIN, '2m'],
      [9 * MIN + 5000, '9m5s'],
      [179 * MIN, '179m'],
      [3 * 60 * MIN, '3h'],
      [7 * 60 * MIN + 30 * MIN, '7h30m'],
      [47 * 60 * MIN, '47h'],
      [3 * 24 * 60 * MIN + 60 * MIN, '3d1h'],
      [45 * 24 * 60 * MIN, '45d'],
      [3 * 365 * 24 * 60 * MIN + 24 * 60 * MIN, '3y1d'],
      [9 * 365 * 24 * 60 * MIN, '9y'],
    ];
    for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, String(ms));
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
