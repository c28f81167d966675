import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Run } from '../../../src/mesh/history.ts';
import type { StatusRun } from '../../../src/mesh/istio/history.ts';
import { carryRestarts, statusChanges } from '../../../src/mesh/timeline/changes.ts';

const HOUR = 3_600_000;
type Pods = [string, number][];
type Component = StatusRun['clusters'][number]['components'][number];

const component = (name: string, pods: Pods, health: Component['health'] = 'ok'): Component => ({
  name,
  health,
  ready: health === 'ok' ? pods.length : 0,
  total: pods.length,
  pods: pods.map(([n, restarts]) => ({ name: n, restarts })),
  restartsSoFar: 0,
});

/** The runs as history keeps them, one after another: each carries the running restart counts on. */
function kept(runs: Run<StatusRun>[]): Run<StatusRun>[] {
  const out: Run<StatusRun>[] = [];
  for (const r of runs) out.push({ ...carryRestarts(r, out.at(-1)), at: r.at });
  return out;
}

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
    const runs = kept([
      run(t - 2 * HOUR, [['pilot-0', 0]]),
      run(t - HOUR, [['pilot-a', 0]]), // the pod replaced before the day's window
      run(t, [['pilot-a', 0]]),
      run(t + HOUR, [['pilot-a', 2]]), // two container restarts
      run(t + 2 * HOUR, [['pilot-b', 0]]), // the pod replaced
      run(t + 3 * HOUR, [['pilot-b', 0]]),
    ]);
    const c = statusChanges(runs[2]!, runs[4]!, runs[5]!, true);
    assert.deepEqual(c?.restarts, [
      { cluster: 'icp', component: 'istio-pilot', sincePrevious: 0, inWindow: 3 },
    ]);
    assert.equal(c?.windowFrom, t);
    assert.equal(c?.previousAt, t + 2 * HOUR);
  });

  it('a scale-up is not a restart; a component becoming unready and proxies going STALE are', () => {
    const t = Date.UTC(2026, 11, 2, 9);
    const [before, after] = kept([
      run(t, [['pilot-a', 0]]),
      run(
        t + HOUR,
        [
          ['pilot-a', 0],
          ['pilot-b', 0],
        ],
        'down',
        ['reviews-v3-1.default'],
      ),
    ]);
    const c = statusChanges(before!, before!, after!, true);
    assert.deepEqual(c?.restarts, []);
    assert.deepEqual(c?.components, [
      { cluster: 'icp', component: 'istio-telemetry', from: 'ok', to: 'down' },
    ]);
    assert.deepEqual(c?.verdict, { from: 'healthy', to: 'degraded' });
    assert.deepEqual(c?.proxies?.newlyStale, ['reviews-v3-1.default']);
  });

  it('a cluster that did not answer for a while: its restarts are counted on from its last known pods', () => {
    const t = Date.UTC(2026, 11, 2, 9);
    const away = { ...run(t + HOUR, []), clusters: [{ name: 'icp', reachable: false, components: [] }] };
    const runs = kept([run(t, [['pilot-a', 1]]), away, run(t + 2 * HOUR, [['pilot-a', 3]])]);
    const c = statusChanges(runs[0]!, runs[1]!, runs[2]!, true);
    assert.deepEqual(c.restarts, [
      { cluster: 'icp', component: 'istio-pilot', sincePrevious: 2, inWindow: 2 },
    ]);
    assert.deepEqual(
      c.components,
      [],
      'unanswered is not "became unready": the reachability finding says it',
    );
  });

  it('one cluster asked about: proxy counts are not compared with the whole mesh', () => {
    const t = Date.UTC(2026, 11, 2, 9);
    const before = run(t, [['a', 0]]);
    const c = statusChanges(before, before, run(t + 1, [['a', 0]], 'ok', ['x.default']), false);
    assert.equal(c.proxies, undefined);
  });

  it('a running count that went back (an unreadable run between) counts from 0 instead of going negative', () => {
    const t = Date.UTC(2026, 11, 2, 9);
    const [first, previous] = kept([run(t, [['p', 0]]), run(t + HOUR, [['p', 4]])]);
    const current = { ...carryRestarts(run(t + 2 * HOUR, [['p', 5]]), undefined), at: t + 2 * HOUR };
    assert.deepEqual(statusChanges(first!, previous!, current, true).restarts, []);
  });
});
