// pods/exec through client-node's Exec: exit codes, ping over the network model, strongSwan
// status, and the checks the apiserver makes before upgrading.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { loadScenario } from '../../src/sim/index.ts';
import { execIn, kubeConfig, podNamed, raw, startTestMesh } from './helpers.ts';

type TestMesh = Awaited<ReturnType<typeof startTestMesh>>;
let t: TestMesh;
let icp: k8s.KubeConfig;
let iks: k8s.KubeConfig;
let pilotIp: string;
let reviewsV3Ip: string;
let vpnIks: string;
let vpnIcp: string;

before(async () => {
  t = await startTestMesh();
  icp = kubeConfig(t.mesh, 'icp');
  iks = kubeConfig(t.mesh, 'iks');
  const coreIcp = icp.makeApiClient(k8s.CoreV1Api);
  const coreIks = iks.makeApiClient(k8s.CoreV1Api);
  pilotIp = (await podNamed(coreIcp, 'istio-system', 'istio=pilot')).status!.podIP!;
  reviewsV3Ip = (await podNamed(coreIks, 'default', 'app=reviews,version=v3')).status!.podIP!;
  vpnIks = (await podNamed(coreIks, 'default', 'app=strongswan,release=vpn')).metadata!.name!;
  vpnIcp = (await podNamed(coreIcp, 'default', 'app=strongswan,release=vpn')).metadata!.name!;
});
afterEach(() => t.mesh.faults.reset());
after(() => t.stop());

const pingFromIks = (...args: string[]) => execIn(iks, 'default', vpnIks, 'strongswan', ['ping', ...args]);

describe('exec exit codes', () => {
  it('0 with stdout, 1, and 127 for a missing command', async () => {
    const ok = await execIn(iks, 'default', vpnIks, 'strongswan', ['echo', 'hello', 'mesh']);
    assert.deepEqual([ok.exitCode, ok.stdout, ok.status.status], [0, 'hello mesh\n', 'Success']);
    const fail = await execIn(iks, 'default', vpnIks, 'strongswan', ['false']);
    assert.equal(fail.exitCode, 1);
    assert.equal(fail.status.reason, 'NonZeroExitCode');
    const missing = await execIn(iks, 'default', vpnIks, 'strongswan', ['curl', 'http://x']);
    assert.deepEqual([missing.exitCode, missing.stderr], [127, 'sh: curl: not found\n']);
  });

  it('never hands argv to a shell', async () => {
    const r = await pingFromIks('-c', '1', `${pilotIp}; rm -rf /`);
    assert.deepEqual([r.exitCode, r.stderr], [2, `ping: ${pilotIp}; rm -rf /: Name or service not known\n`]);
  });

  it('refuses before upgrading: 404 pod, 400 container, 403 when exec is forbidden', async () => {
    const query = 'command=true&stdout=true&stderr=true';
    const missing = await raw(t.mesh, 'iks', 'GET', `/api/v1/namespaces/default/pods/nope/exec?${query}`);
    assert.equal(missing.status, 404);
    const reviews = (await podNamed(iks.makeApiClient(k8s.CoreV1Api), 'default', 'app=reviews')).metadata!
      .name!;
    const ambiguous = await raw(
      t.mesh,
      'iks',
      'POST',
      `/api/v1/namespaces/default/pods/${reviews}/exec?${query}`,
    );
    assert.equal(ambiguous.status, 400);
    assert.match(
      JSON.parse(ambiguous.body).message,
      /a container name must be specified for pod .*, choose one of: \[reviews istio-proxy\] or one of the init containers: \[istio-init\]/,
    );
    t.mesh.faults.forbidExec('iks', 'default');
    const forbidden = await raw(
      t.mesh,
      'iks',
      'POST',
      `/api/v1/namespaces/default/pods/${vpnIks}/exec?${query}&container=strongswan`,
    );
    assert.equal(forbidden.status, 403);
    assert.match(
      JSON.parse(forbidden.body).message,
      /pods "vpn-strongswan-[a-z0-9-]+" is forbidden: User ".*" cannot create resource "pods\/exec" in API group "" in the namespace "default"/,
    );
    await assert.rejects(execIn(iks, 'default', vpnIks, 'strongswan', ['true']));
  });
});

describe('ping over the simulated network', () => {
  it("reaches icp's pilot through the tunnel from iks, ttl 62, ~52 ms", async () => {
    const r = await pingFromIks('-c', '3', pilotIp);
    assert.equal(r.exitCode, 0);
    assert.match(r.stdout, new RegExp(`^PING ${pilotIp} \\(${pilotIp}\\) 56\\(84\\) bytes of data\\.\\n`));
    const times = [...r.stdout.matchAll(/icmp_seq=\d ttl=62 time=([\d.]+) ms/g)].map((m) => Number(m[1]));
    assert.equal(times.length, 3);
    assert.ok(
      times.every((ms) => ms > 40 && ms < 65),
      String(times),
    );
    assert.match(r.stdout, /3 packets transmitted, 3 received, 0% packet loss/);
  });

  it('answers inside a cluster in well under a millisecond', async () => {
    const r = await execIn(icp, 'default', vpnIcp, 'strongswan', ['ping', '-c', '1', pilotIp]);
    assert.equal(r.exitCode, 0);
    assert.match(r.stdout, /ttl=6[34] time=0\.\d{3} ms/);
  });

  it('loses everything with the tunnel down or half-up (exit 1)', async () => {
    for (const state of ['down', 'half-up'] as const) {
      t.mesh.faults.setTunnel('icp', 'iks', state, { side: 'iks' });
      const r = await pingFromIks('-c', '2', '-W', '1', pilotIp);
      assert.equal(r.exitCode, 1, state);
      assert.match(r.stdout, /2 packets transmitted, 0 received, 100% packet loss/);
    }
  });

  it('applies loss per direction and per destination CIDR', async () => {
    t.mesh.faults.setLink('iks', 'icp', { lossPct: 100 }, { cidr: '10.1.0.0/16' });
    assert.equal((await pingFromIks('-c', '2', pilotIp)).exitCode, 1);
    const icpToIks = await execIn(icp, 'default', vpnIcp, 'strongswan', ['ping', '-c', '2', reviewsV3Ip]);
    // icp's requests reach iks, but the replies travel iks→icp towards 10.1.0.0/16 and are lost.
    assert.equal(icpToIks.exitCode, 1);
    await t.mesh.faults.reset();
    t.mesh.faults.setLink('iks', 'icp', { rttMs: 250 });
    const slow = await pingFromIks('-c', '1', pilotIp);
    assert.match(slow.stdout, /time=2\d\d ms/);
  });

  it('times out towards addresses nobody holds and refuses unknown hosts', async () => {
    const nobody = await pingFromIks('-c', '1', '-W', '1', '10.1.255.254');
    assert.equal(nobody.exitCode, 1);
    const name = await pingFromIks('-c', '1', 'istio-pilot.istio-system');
    assert.equal(name.exitCode, 2);
  });

  it("a Service's ClusterIP answers no ping under kube-proxy's iptables mode, across the tunnel or not", async () => {
    const service = await icp
      .makeApiClient(k8s.CoreV1Api)
      .readNamespacedService({ name: 'istio-pilot', namespace: 'istio-system' });
    const clusterIp = service.spec!.clusterIP!;
    const across = await pingFromIks('-c', '2', '-W', '1', clusterIp);
    assert.equal(across.exitCode, 1);
    assert.match(across.stdout, /2 packets transmitted, 0 received, 100% packet loss/);
    const inside = await execIn(icp, 'default', vpnIcp, 'strongswan', [
      'ping',
      '-c',
      '1',
      '-W',
      '1',
      clusterIp,
    ]);
    assert.equal(inside.exitCode, 1);
  });

  it('prints BusyBox ping in BusyBox pods and 127 where there is no ping', async () => {
    await t.mesh.faults.addPods('iks', 1, { namespace: 'tools', ping: 'busybox' });
    const [alpine] = t.mesh.clusters.get('iks')!.state.list('pods', 'tools');
    const r = await execIn(iks, 'tools', alpine!.metadata.name, 'app', ['ping', '-c', '1', pilotIp]);
    assert.equal(r.exitCode, 0);
    assert.match(r.stdout, /: 56 data bytes\n64 bytes from .*: seq=0 ttl=62/);
    await t.mesh.faults.addPods('iks', 1, { namespace: 'slim', ping: 'none' });
    const [slim] = t.mesh.clusters.get('iks')!.state.list('pods', 'slim');
    const none = await execIn(iks, 'slim', slim!.metadata.name, 'app', ['ping', '-c', '1', pilotIp]);
    assert.equal(none.exitCode, 127);
  });
});

describe('strongSwan status', () => {
  const ipsec = (kc: k8s.KubeConfig, pod: string, ...args: string[]) =>
    execIn(kc, 'default', pod, 'strongswan', ['ipsec', ...args]);

  it('shows ESTABLISHED and INSTALLED while the tunnel is up', async () => {
    const r = await ipsec(iks, vpnIks, 'status');
    assert.equal(r.exitCode, 0);
    assert.match(
      r.stdout,
      /^Security Associations \(1 up, 0 connecting\):\n {4}k8s-conn\[1\]: ESTABLISHED 17 minutes ago, 172\.30\.\d+\.\d+\[ibm-cloud\]\.\.\.198\.51\.100\.20\[on-prem\]\n {4}k8s-conn\{2\}: {2}INSTALLED, TUNNEL/,
    );
    const all = await ipsec(iks, vpnIks, 'statusall');
    assert.match(all.stdout, /^Status of IKE charon daemon \(strongSwan 5\.9\.14/);
    assert.match(
      all.stdout,
      /k8s-conn: {3}child: {2}172\.30\.0\.0\/16 172\.21\.0\.0\/16 === 10\.0\.0\.0\/24 10\.1\.0\.0\/16 TUNNEL/,
    );
  });

  it('half-up: IKE SA without CHILD SA; down: CONNECTING on the initiator, none on the responder', async () => {
    t.mesh.faults.setTunnel('icp', 'iks', 'half-up');
    const half = await ipsec(iks, vpnIks, 'status');
    assert.match(half.stdout, /ESTABLISHED/);
    assert.doesNotMatch(half.stdout, /INSTALLED/);
    t.mesh.faults.setTunnel('icp', 'iks', 'down');
    assert.equal(
      (await ipsec(iks, vpnIks, 'status')).stdout,
      'Security Associations (0 up, 0 connecting):\n  none\n',
    );
    assert.match(
      (await ipsec(icp, vpnIcp, 'status')).stdout,
      /\(0 up, 1 connecting\):\n {4}k8s-conn\[1\]: CONNECTING, 10\.1\.\d+\.\d+\[%any\]\.\.\.203\.0\.113\.10\[%any\]/,
    );
    t.mesh.faults.setTunnel('icp', 'iks', 'up');
    assert.match((await ipsec(iks, vpnIks, 'status')).stdout, /ESTABLISHED \d+ seconds? ago/);
  });

  it('only strongSwan pods have ipsec', async () => {
    const reviews = (await podNamed(iks.makeApiClient(k8s.CoreV1Api), 'default', 'app=reviews')).metadata!
      .name!;
    assert.equal((await execIn(iks, 'default', reviews, 'reviews', ['ipsec', 'status'])).exitCode, 127);
  });
});

describe('ping to a ClusterIP with kube-proxy in IPVS mode', () => {
  it('is answered: the node holds every ClusterIP on kube-ipvs0', async () => {
    const seed = loadScenario('seed');
    const ipvs = await startTestMesh({
      scenario: { ...seed, clusters: seed.clusters.map((c) => ({ ...c, kubeProxyMode: 'ipvs' as const })) },
    });
    try {
      const kc = kubeConfig(ipvs.mesh, 'iks');
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const service = await kubeConfig(ipvs.mesh, 'icp')
        .makeApiClient(k8s.CoreV1Api)
        .readNamespacedService({ name: 'istio-pilot', namespace: 'istio-system' });
      const vpn = (await podNamed(core, 'default', 'app=strongswan,release=vpn')).metadata!.name!;
      const r = await execIn(kc, 'default', vpn, 'strongswan', ['ping', '-c', '1', service.spec!.clusterIP!]);
      assert.equal(r.exitCode, 0);
      assert.match(r.stdout, /1 packets transmitted, 1 received, 0% packet loss/);
    } finally {
      await ipvs.stop();
    }
  });
});
