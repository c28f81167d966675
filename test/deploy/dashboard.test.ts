import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { onPath } from '../../src/demo/redis.ts';
import { startPrometheus } from '../helpers/prometheus.ts';
import { waitFor } from '../helpers/wait.ts';
import { startWorld, type World } from '../mesh/routing/world.ts';

const dashboard = JSON.parse(readFileSync('deploy/grafana-dashboard.json', 'utf8')) as {
  panels: { title: string; targets: { expr: string }[] }[];
};

describe('deploy/grafana-dashboard.json against a real Prometheus scraping meshops', {
  skip: !onPath('prometheus') && 'prometheus not installed (Debian package prometheus)',
}, () => {
  let w: World;
  let prometheus: { url: string; stop(): Promise<void> };
  before(async () => {
    w = await startWorld('dashboard');
    prometheus = await startPrometheus({ targets: [new URL(w.h.meshops.opsUrl!).host] });
  });
  after(async () => {
    await prometheus?.stop();
    await w?.close();
  });

  it('every panel query returns data while commands run', async () => {
    // What an SRE's morning looks like: status, the VPN, a refused command, Slack pushing back once, a
    // cluster that rejects the token for a moment.
    w.h.slack.fault({ method: 'chat.update', status: 429, retryAfter: 1 });
    w.h.slack.fault({ method: 'chat.update', error: 'message_not_found' });
    await w.h.command('status', { channel: 'C0DASH1' });
    await w.h.waitForVerdict('C0DASH1', '/mesh status', 30_000);
    await w.h.command('vpn', { channel: 'C0DASH2' });
    await w.h.waitForVerdict('C0DASH2', '/mesh vpn', 60_000);
    await w.h.command('route apply reviews-v3', { user: 'U0CAROL', channel: 'C0DASH3' });
    w.sim.faults.revokeToken('iks');
    await w.h.command('clusters', { channel: 'C0DASH4' });
    await w.h.waitForVerdict('C0DASH4', '/mesh clusters', 30_000);
    w.sim.faults.revokeToken('iks', false);

    const query = async (expr: string) => {
      const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { status: string; data?: { result: unknown[] }; error?: string };
      assert.equal(body.status, 'success', `${expr}: ${body.error}`);
      return body.data!.result.length;
    };
    for (const panel of dashboard.panels)
      for (const target of panel.targets)
        await waitFor(
          `"${panel.title}" (${target.expr}) to return data`,
          async () => (await query(target.expr)) > 0,
          30_000,
        );
  });
});
