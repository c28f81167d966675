import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Run } from '../../../src/mesh/history.ts';
import type { StatusRun } from '../../../src/mesh/istio/history.ts';
import { statusChanges } from '../../../src/mesh/timeline/changes.ts';

const HOUR = 3_600_000;
type Pods = [string, number][];
type Component = StatusRun['clusters'][number]['components'][number];

const component = (name: string, pods: Pods, health: Component['health'] = 'ok'): Component => ({
  name,
  health,
  ready: health === 'ok' ? pods.length : 0,
  total: pods.length,
  pods: pods.map(([n, restarts]) => ({ name: n, restarts })),
});

function run(
  at: number,
  pilot: Pods,
  telemetry: Component['health'] = 'ok',
  stale: string[] = [],
): Run<StatusRun> {
  return {
    at,
    health: telemetry === 'ok' && stale.length === 0 ? 'healthy' : 'degraded',
    clusters: [
      {
        name: 'icp',
        reachable: true,
        components: [
          component('istio-pilot', pilot),
          component('istio-telemetry', [['istio-telemetry-1', 0]], telemetry),
        ],
      },
    ],
    proxies: {
      total: 10,
      synced: 10 - stale.length,
      stale: stale.length,
      notSent: 0,
      unknown: 0,
      staleIds: stale,
    },
  };
}

describe('what changed since the previous status run', () => {
  it('counts container restarts and replaced pods over the day, and since the previous run', () => {
    const t = Date.UTC(2026, 11, 2, 9);
    const window = [
      run(t, [['pilot-a', 0]]),
      run(t + HOUR, [['pilot-a', 2]]), // two container restarts
      run(t + 2 * HOUR, [['pilot-b', 0]]), // the pod replaced
    ];
    const c = statusChanges(window, run(t + 3 * HOUR, [['pilot-b', 0]]), true);
    assert.deepEqual(c?.restarts, [
      { cluster: 'icp', component: 'istio-pilot', sincePrevious: 0, inWindow: 3 },
    ]);
    assert.equal(c?.windowFrom, t);
    assert.equal(c?.previousAt, t + 2 * HOUR);
  });

  it('a scale-up is not a restart; a component becoming unready and proxies going STALE are', () => {
    const t = Date.UTC(2026, 11, 2, 9);
    const c = statusChanges(
      [run(t, [['pilot-a', 0]])],
      run(
        t + HOUR,
        [
          ['pilot-a', 0],
          ['pilot-b', 0],
        ],
        'down',
        ['reviews-v3-1.default'],
      ),
      true,
    );
    assert.deepEqual(c?.restarts, []);
    assert.deepEqual(c?.components, [
      { cluster: 'icp', component: 'istio-telemetry', from: 'ok', to: 'down' },
    ]);
    assert.deepEqual(c?.verdict, { from: 'healthy', to: 'degraded' });
    assert.deepEqual(c?.proxies?.newlyStale, ['reviews-v3-1.default']);
  });

  it('one cluster asked about: proxy counts are not compared with the whole mesh', () => {
    const t = Date.UTC(2026, 11, 2, 9);
    const c = statusChanges([run(t, [['a', 0]])], run(t + 1, [['a', 0]], 'ok', ['x.default']), false);
    assert.equal(c?.proxies, undefined);
  });

  it('nothing kept: nothing to compare', () => {
    assert.equal(statusChanges([], run(0, []), true), undefined);
  });
});
