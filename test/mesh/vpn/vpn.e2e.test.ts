import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { after, afterEach, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import type { KnownBlock } from '@slack/types';
import { type Harness, startHarness } from '../../helpers/harness.ts';
import { kubeConfigs } from '../../helpers/kube.ts';
import { blocksText, limitViolations } from '../../helpers/slack-limits.ts';
import { startVpnSim, type VpnSim, vpnConfigYaml } from './sim.ts';

/**
 * Every exec request this process sends (client-node opens exec as a WebSocket over node:https), seen on
 * Node's own HTTP client channel: what left for a cluster, not what meshops says it did.
 */
class ExecRecorder {
  readonly paths: string[] = [];
  readonly #listener = (message: unknown) => {
    const path = (message as { request: ClientRequest }).request.path;
    if (/\/pods\/[^/]+\/exec\?/.test(path)) this.paths.push(decodeURIComponent(path));
  };
  start(): void {
    subscribe('http.client.request.start', this.#listener);
  }
  stop(): void {
    unsubscribe('http.client.request.start', this.#listener);
  }
}

describe('/mesh vpn and /mesh ping end to end (Slack → queue → worker → simulated clusters → thread)', () => {
  let sim: VpnSim;
  let h: Harness;
  const execs = new ExecRecorder();
  before(async () => {
    sim = await startVpnSim();
    h = await startHarness({ configYaml: vpnConfigYaml(sim.mesh), configDir: sim.dir, label: 'vpn' });
    execs.start();
  });
  afterEach(() => sim.mesh.faults.reset());
  after(async () => {
    execs.stop();
    await h.close();
    await sim.close();
  });

  async function run(text: string, channel: string) {
    const ack = await h.command(text, { channel });
    assert.equal(ack.status, 200);
    assert.equal(ack.body, '', 'queued, no ephemeral error');
    const parent = await h.waitForVerdict(channel, `/mesh ${text}`, 30_000);
    const replies = h.thread(channel, parent.ts);
    const blocks = replies.map((m) => m.blocks as KnownBlock[]);
    assert.deepEqual(limitViolations(blocks), []);
    return { parent, text: blocks.map(blocksText).join('\n') };
  }

  it('/mesh vpn on a healthy mesh: the verdict on the parent, tunnels and every ping in the thread', async () => {
    const before = execs.paths.length;
    const { parent, text } = await run('vpn', 'C0VPNOK');
    assert.match(parent.text, /\*healthy\*: tunnel up; 6 of 6 ping targets answer, avg RTT \d+ ms/);
    assert.match(text, /VPN: strongSwan tunnels and pod-IP pings/);
    assert.match(
      text,
      /\*icp ⇄ iks\*: icp: up \(k8s-conn\[\d+\] ESTABLISHED, CHILD k8s-conn\{\d+\} INSTALLED, via `ipsec`; ESP \d+ k?B in, \d+ k?B out during the probes\)/,
    );
    assert.match(text, /\*iks → icp\* from `default\/vpn-strongswan-[a-z0-9-]+`/);
    assert.match(
      text,
      /:large_green_circle: pilot `10\.1\.[\d.]+` — 0% loss \(3\/3\), rtt [\d.]+\/[\d.]+\/[\d.]+ ms/,
    );
    assert.match(text, /:large_green_circle: reviews-v3 `172\.30\.[\d.]+`/);
    assert.match(text, /First run: nothing earlier to compare with/);
    const sent = execs.paths.slice(before);
    // Each side twice: before the probes and after them, for the ESP counters.
    assert.equal(sent.filter((p) => p.includes('command=ipsec&command=statusall')).length, 4);
    const pings = sent.filter((p) => p.includes('command=ping') && !p.includes('container=istio-proxy'));
    assert.equal(pings.length, 6);
    for (const p of pings)
      assert.match(p, /command=ping&command=-c&command=3&command=-W&command=2&command=\d+\.\d+\.\d+\.\d+&/);
    // From ordinary pods' istio-proxy containers: one ping per node with an app pod (two of icp's three
    // nodes run bookinfo, one of iks' runs reviews-v3),
    // a DF ping of vpn.mtu (1400) bytes each way, netcat to each control-plane port from iks, at the pods
    // and at their Services (icp's service CIDR is configured).
    const fromApps = sent.filter((p) => p.includes('container=istio-proxy'));
    const argv = (p: string) => [...new URLSearchParams(p.split('?')[1]).getAll('command')].join(' ');
    const shapes = fromApps.map((p) => argv(p).replace(/\d+\.\d+\.\d+\.\d+/, 'IP')).sort();
    assert.deepEqual(shapes, [
      'nc -z -n -v -w 2 -u IP 9125',
      'nc -z -n -v -w 2 -u IP 9125',
      'nc -z -n -v -w 2 IP 15010',
      'nc -z -n -v -w 2 IP 15010',
      'nc -z -n -v -w 2 IP 15011',
      'nc -z -n -v -w 2 IP 15011',
      'nc -z -n -v -w 2 IP 9091',
      'nc -z -n -v -w 2 IP 9091',
      'nc -z -n -v -w 2 IP 9091',
      'nc -z -n -v -w 2 IP 9091',
      'nc -z -n -v -w 2 IP 9411',
      'nc -z -n -v -w 2 IP 9411',
      'ping -M do -s 1372 -c 2 -W 2 IP',
      'ping -M do -s 1372 -c 2 -W 2 IP',
      'ping -c 3 -W 2 IP',
      'ping -c 3 -W 2 IP',
      'ping -c 3 -W 2 IP',
    ]);
  });

  it('/mesh vpn with the tunnel down: down on the parent, the cause in the thread, compared with the last run', async () => {
    sim.mesh.faults.setTunnel('icp', 'iks', 'down');
    const { parent, text } = await run('vpn', 'C0VPNDOWN');
    assert.match(
      parent.text,
      /\*down\*: tunnel down on both sides \(icp is CONNECTING with no answer, no SA on iks\)/,
    );
    assert.match(text, /:red_circle: tunnel down on both sides/);
    assert.match(text, /_check that strongSwan runs on iks/);
    assert.match(text, /Since the run at .*\n:red_circle: newly failing: iks → icp pilot/);
  });

  it('/mesh vpn with exec forbidden on iks: a clear finding, not a crash', async () => {
    sim.mesh.faults.forbidExec('iks');
    const { parent, text } = await run('vpn', 'C0VPN403');
    assert.match(parent.text, /\*degraded\*: meshops may not exec into pods on iks: 403/);
    assert.match(text, /:grey_question: meshops may not exec into pods on iks/);
  });

  it('/mesh ping iks icp: the same output for one direction', async () => {
    const { parent, text } = await run('ping iks icp', 'C0PINGOK');
    assert.match(parent.text, /\*healthy\*: tunnel up; 5 of 5 ping targets answer/);
    assert.match(text, /Ping iks → icp/);
    assert.match(text, /tracing `10\.1\.[\d.]+` — 0% loss/);
  });

  it('/mesh ping iks <a ClusterIP>: "a ClusterIP answers no ping", not subnet advice; "1 target" in the footer', async () => {
    const core = kubeConfigs(sim.mesh)('icp').makeApiClient(CoreV1Api);
    const ip = (await core.readNamespacedService({ name: 'istio-pilot', namespace: 'istio-system' })).spec!
      .clusterIP!;
    const { parent, text } = await run(`ping iks ${ip}`, 'C0PINGSVC');
    const said = `${ip} is a Service address on icp (service CIDR 10.0.0.0/24): a ClusterIP answers no ping`;
    assert.ok(parent.text.includes(`*healthy*: tunnel up; ${said}`), parent.text);
    assert.ok(text.includes(`:information_source: ${said}`), text);
    assert.match(
      text,
      /\/mesh vpn connects from every remote to the TCP ports of icp's control-plane Services/,
    );
    assert.doesNotMatch(text, /subnet/);
    assert.match(text, /\n1 target · ping -c 3/);
  });

  describe('/mesh ping refuses every target that is not a configured cluster or an address inside one, and executes nothing', () => {
    const refusedInApp = [
      [
        'a hostname',
        'ping iks example.com',
        /target must be a cluster name or a plain IPv4 address: unknown cluster "example.com"/,
      ],
      ['a semicolon', 'ping iks 10.1.0.5;reboot', /"10\.1\.0\.5;reboot" is not allowed/],
      ['$()', 'ping iks $(reboot)', /"\$\(reboot\)" is not allowed/],
      ['backticks', 'ping iks `reboot`', /"`reboot`" is not allowed/],
      ['a second word', 'ping iks 10.1.0.5 extra', /unexpected argument "extra"/],
      ['a quoted target with a space', 'ping iks "10.1.0.5 -f"', /""10\.1\.0\.5" is not allowed/],
      ['a flag', 'ping iks -f', /"-f" is not allowed/],
      ['an invalid address', 'ping iks 10.1.0.256', /"10\.1\.0\.256" is not a valid IPv4 address/],
      ['a shell pipe', 'ping iks 10.1.0.5|sh', /is not allowed/],
    ] as const;

    refusedInApp.forEach(([kind, text, expected], i) => {
      it(`${kind}: refused in the reply, nothing queued or executed`, async () => {
        const channel = `C0BADTARGET${i}`;
        const before = execs.paths.length;
        const res = await h.command(text, { channel });
        const body = JSON.parse(res.body) as { response_type: string; text: string };
        assert.equal(body.response_type, 'ephemeral');
        assert.match(body.text, expected);
        assert.equal(h.parents(channel).length, 0, 'nothing posted or queued');
        assert.deepEqual(execs.paths.slice(before), []);
      });
    });

    it('an address outside every CIDR that no pod has: refused in the thread, no exec', async () => {
      const before = execs.paths.length;
      const { parent, text } = await run('ping iks 192.0.2.10', 'C0OUTSIDE');
      assert.match(
        parent.text,
        /\*failed\*: refused: 192\.0\.2\.10 is not inside a pod or service CIDR of a configured cluster/,
      );
      assert.match(
        text,
        /Not pinged: 192\.0\.2\.10 is not inside .* and no pod has that IP: nothing was pinged/,
      );
      assert.deepEqual(execs.paths.slice(before), []);
    });

    it('an address on the sending cluster itself: refused, no exec', async () => {
      const before = execs.paths.length;
      const { parent } = await run('ping iks 172.30.0.9', 'C0OWNIP');
      assert.match(parent.text, /\*failed\*: refused: 172\.30\.0\.9 is on iks itself/);
      assert.deepEqual(execs.paths.slice(before), []);
    });

    it('the recorder sees an allowed ping (so the checks above can fail)', async () => {
      const before = execs.paths.length;
      await run('ping icp iks', 'C0CONTROL');
      assert.ok(execs.paths.slice(before).some((p) => p.includes('command=ping')));
    });
  });
});
