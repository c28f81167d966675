import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWorld, type World } from './routing/world.ts';

describe('the checks set the metrics they own', () => {
  let w: World;
  before(async () => {
    w = await startWorld('record');
  });
  after(() => w.close());

  it('/mesh status sets the verdict per cluster; /mesh vpn sets loss and RTT per pair', async () => {
    await w.h.command('status', { channel: 'C0STATUS' });
    await w.h.waitForVerdict('C0STATUS', '/mesh status', 30_000);
    await w.h.command('vpn', { channel: 'C0VPN' });
    await w.h.waitForVerdict('C0VPN', '/mesh vpn', 60_000);
    const text = await (await fetch(`${w.h.meshops.opsUrl}/metrics`)).text();
    assert.match(text, /^meshops_health_verdict\{cluster="icp"\} 0$/m);
    assert.match(text, /^meshops_health_verdict\{cluster="iks"\} 0$/m);
    assert.match(text, /^meshops_drift_findings\{cluster="iks"\} 0$/m);
    assert.match(text, /^meshops_vpn_loss_ratio\{from="icp",to="iks",target="[^"]+"\} 0$/m);
    assert.match(text, /^meshops_vpn_rtt_seconds\{from="iks",to="icp",target="[^"]+"\} 0\.\d+$/m);
  });
});
