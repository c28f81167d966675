import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FaultPanel } from '../../src/console/server.ts';
import { ADDED_RTT_MS, BLACK_HOLE_MTU, simFaultPanel } from '../../src/demo/faults.ts';
import { type SimMesh, startSimMesh } from '../../src/sim/index.ts';
import { routeReviews } from '../sim/helpers.ts';

/** The parts of a simulated pod the assertions read. */
interface PodView {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { nodeName: string };
  status: {
    podIP: string;
    containerStatuses: { name: string; state?: { waiting?: { reason?: string }; running?: object } }[];
  };
}

describe('the demo’s fault panel drives the simulated mesh', () => {
  let sim: SimMesh;
  let panel: FaultPanel;
  const icp = () => sim.clusters.get('icp')!.state;
  const pods = (selector: (p: PodView) => boolean) =>
    (icp().list('pods', 'istio-system') as unknown as PodView[]).filter(selector);
  const pilot = () => pods((p) => p.metadata.labels?.istio === 'pilot')[0]!;
  const telemetry = () => pods((p) => p.metadata.labels?.['istio-mixer-type'] === 'telemetry')[0]!;
  /** GET /version on iks as a client with its kubeconfig would: the status, or the connection error's code. */
  const iksVersion = () => {
    const iks = sim.clusters.get('iks')!;
    return new Promise<number | string>((resolve) => {
      const req = request(
        `${iks.url}/version`,
        { ca: iks.caCert, agent: false, headers: { authorization: `Bearer ${iks.token}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.end();
    });
  };
  /** The tunnel's state as each side's strongSwan would report it. */
  const tunnel = () =>
    Object.fromEntries(
      ['icp', 'iks'].map((c) => [c, sim.network.sidesOf(c).find((v) => v.peer !== c)?.side.state]),
    );
  /** A pod IP on each side of the tunnel, to ask the network model what a probe would see. */
  const route = () => {
    const reviews = (sim.clusters.get('iks')!.state.list('pods', 'default') as unknown as PodView[]).find(
      (p) => p.metadata.labels?.app === 'reviews',
    )!;
    return sim.network.route('icp', pilot().spec.nodeName, pilot().status.podIP, reviews.status.podIP);
  };

  before(async () => {
    sim = await startSimMesh({ dir: mkdtempSync(join(tmpdir(), 'meshops-demo-faults-')) });
    panel = simFaultPanel(sim);
  });
  after(() => sim.close());

  it('offers the issue’s faults, reset last', () => {
    assert.deepEqual(
      panel.actions.map((a) => a.label),
      [
        'Restart pilot (drift)',
        'Crash-loop telemetry',
        'VPN tunnel down',
        'VPN tunnel half-up',
        'IKS unreachable',
        `Add VPN latency (${ADDED_RTT_MS} ms)`,
        'Injector down, details stuck',
        'Root expires in 5 days',
        'IKS on its own root',
        'IKS sidecar from Istio 1.2',
        'Routes down on a node',
        `MTU black hole (${BLACK_HOLE_MTU})`,
        'One-way ESP',
        'strongSwan 6 (swanctl only)',
        'Missing service CIDR',
        'TCP blocked, ICMP passes',
        'Break reviews-v3 (503 to 30 %)',
        'Slow reviews-v3 (+400 ms)',
        'Reset to healthy',
      ],
    );
  });

  it('restarts pilot with a new name and IP and says both', async () => {
    const before = pilot();
    const message = await panel.run('restart-pilot');
    const now = pilot();
    assert.notEqual(now.metadata.name, before.metadata.name);
    assert.notEqual(now.status.podIP, before.status.podIP);
    assert.ok(message.includes(before.status.podIP) && message.includes(now.status.podIP), message);
  });

  it('crash-loops telemetry’s mixer', async () => {
    await panel.run('crash-telemetry');
    const mixer = telemetry().status.containerStatuses.find((c) => c.name === 'mixer');
    assert.equal(mixer?.state?.waiting?.reason, 'CrashLoopBackOff');
  });

  it('takes the tunnel down, half-up, and slows it', async () => {
    await panel.run('tunnel-down');
    assert.deepEqual(tunnel(), { icp: 'down', iks: 'down' });
    await panel.run('tunnel-half-up');
    assert.deepEqual(tunnel(), { icp: 'half-up', iks: 'half-up' });
    assert.equal(route().reachable, false);
  });

  it('makes iks refuse connections', async () => {
    assert.equal(await iksVersion(), 200);
    await panel.run('remote-unreachable');
    assert.equal(await iksVersion(), 'ECONNREFUSED');
  });

  it('resets everything, then adds latency on a healthy tunnel', async () => {
    assert.match(await panel.run('reset'), /reset/);
    assert.deepEqual(tunnel(), { icp: 'up', iks: 'up' });
    const mixer = telemetry().status.containerStatuses.find((c) => c.name === 'mixer');
    assert.ok(mixer?.state?.running, 'telemetry runs again');
    assert.equal(await iksVersion(), 200, 'iks answers again');
    const healthy = route();
    assert.ok(healthy.reachable && healthy.rttMs < ADDED_RTT_MS);
    await panel.run('latency');
    const slow = route();
    assert.ok(slow.reachable && slow.rttMs >= ADDED_RTT_MS, JSON.stringify(slow));
  });

  it('brings the root to 5 days from expiry, and gives iks a root of its own', async () => {
    await panel.run('root-expiring');
    const days = (c: string) => (sim.controlPlane.certSettings(c).rootNotAfter - Date.now()) / 86_400_000;
    // As Envoy's "Days until Expiration" and /mesh certs count them (whole days left), still 5 when the user
    // runs /mesh certs a few minutes later.
    const later = (c: string) => Math.floor(days(c) - 600_000 / 86_400_000);
    assert.equal(later('icp'), 5);
    assert.equal(later('iks'), 5);
    await panel.run('root-mismatch');
    assert.notEqual(
      sim.controlPlane.certSettings('iks').trustGroup,
      sim.controlPlane.certSettings('icp').trustGroup,
    );
    await panel.run('reset');
    assert.ok(days('icp') > 30);
  });

  it('takes the injector down and leaves details-v1 with no pod; reset brings both back', async () => {
    const details = () =>
      (
        icp().list('deployments', 'default', 'apps') as unknown as {
          metadata: { name: string };
          status: { availableReplicas?: number; replicas?: number; conditions?: { type: string }[] };
        }[]
      ).find((d) => d.metadata.name === 'details-v1')!;
    assert.match(await panel.run('injector-down'), /details-v1 stays at 0 available/);
    assert.equal(details().status.replicas, 0);
    assert.ok(details().status.conditions?.some((c) => c.type === 'ReplicaFailure'));
    await panel.run('reset');
    assert.equal(details().status.availableReplicas, 1);
  });

  it('breaks and slows reviews v3 in the telemetry, and reset heals it', async () => {
    const reviewsV3 = async () => {
      // Istio 1.0 labels the remote's v3 pods "unknown"; route everything there first.
      routeReviews(sim, [['v3', 100]]);
      await fetch(sim.metrics.url).then((r) => r.text());
      await new Promise((r) => setTimeout(r, 200));
      return (await fetch(sim.metrics.url).then((r) => r.text()))
        .split('\n')
        .filter((l) => l.includes('reviews.default') && l.includes('reporter="destination"'));
    };
    assert.match(await panel.run('break-reviews-v3'), /503 to 30 %/);
    assert.ok((await reviewsV3()).some((l) => l.includes('response_code="503"')));
    assert.match(await panel.run('slow-reviews-v3'), /400 ms slower/);
    await panel.run('reset');
    const before = (await reviewsV3()).find(
      (l) => l.startsWith('istio_requests_total') && l.includes('"503"'),
    );
    await new Promise((r) => setTimeout(r, 300));
    const after = (await reviewsV3()).find(
      (l) => l.startsWith('istio_requests_total') && l.includes('"503"'),
    );
    assert.equal(after?.split(' ').pop(), before?.split(' ').pop(), 'no new 503 after reset');
    await panel.run('reset');
  });

  it('refuses an unknown fault', async () => {
    await assert.rejects(panel.run('meteor-strike'), /unknown fault "meteor-strike"/);
  });
});
