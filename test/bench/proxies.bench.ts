// `/mesh proxies` and `/mesh certs` end to end (signed Slack request → first thread reply) on 2 clusters with
// 200 proxies each and 20 ms added to every API call, next to what the same answers cost when asked one call
// at a time in the same run: the single slowest call each command makes, plus the exec rounds it needs.
// The simulation runs in a child process (this file with --sim); meshops' app and worker in this process.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/load.ts';
import { createClusters } from '../../src/kube/registry.ts';
import { runCertsCheck } from '../../src/mesh/certs/check.ts';
import { CERTS_ARGV, CHAIN_PEM_ARGV, ROOT_PEM_ARGV } from '../../src/mesh/certs/envoy-certs.ts';
import { synczProxyPath } from '../../src/mesh/istio/pilot.ts';
import { DISCOVERY_CONTAINER, SYNCZ_ARGV } from '../../src/mesh/istio/syncz.ts';
import { runProxiesCheck } from '../../src/mesh/proxies/check.ts';
import { startSimMesh } from '../../src/sim/index.ts';
import { timeToFirstReply } from '../helpers/commands.ts';
import { startHarness } from '../helpers/harness.ts';
import { startProcess } from './processes.ts';
import { machine, writeSection } from './report.ts';

const LATENCY_MS = 20;
const PROXIES_PER_CLUSTER = 200;
const RUNS = 15;
const WARMUP = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'meshops-bench-proxies-'));
  const sim = await startProcess([fileURLToPath(import.meta.url), '--sim', dir], {}, /ready\n/);
  const configYaml = `clusters:
  - { name: icp, role: primary, kubeconfig: ./icp.kubeconfig }
  - { name: iks, role: remote, kubeconfig: ./iks.kubeconfig }
access: { rateLimit: { commands: 1000, per: 1m } }
`;
  const h = await startHarness({
    configYaml,
    configDir: dir,
    label: 'benchproxies',
    env: { LOG_LEVEL: 'info' },
  });
  const config = parseConfig(configYaml, join(dir, 'meshops.yaml'), dir);
  const clusters = createClusters(config);
  let seq = 0;
  const once = (text: string) => timeToFirstReply(h, text, `C0BENCHP${++seq}`);
  const timed = async (fn: () => Promise<unknown>) => {
    const started = performance.now();
    await fn();
    return performance.now() - started;
  };

  try {
    const icp = clusters.get('icp')!;
    const pilot = (
      await icp.core.listNamespacedPod({ namespace: 'istio-system', labelSelector: 'istio=pilot' })
    ).items[0]!.metadata!.name!;
    const sidecar = (await icp.core.listNamespacedPod({ namespace: 'default' })).items[0]!.metadata!.name!;
    const exec = (pod: string, namespace: string, container: string, command: readonly string[]) =>
      icp.exec({ namespace, pod, container, command, timeoutMs: 10_000 });

    const single = {
      podList: [] as number[],
      namespaceList: [] as number[],
      pilotList: [] as number[],
      syncz: [] as number[],
      synczProxied: [] as number[],
      bareExec: [] as number[],
      certsRead: [] as number[],
    };
    const meshops = { proxies: [] as number[], certs: [] as number[], status: [] as number[] };
    // The checks alone, in this process with the same clients: the work the command does without Slack's path.
    const checks = { proxies: [] as number[], certs: [] as number[] };
    const deps = { config, clusters };
    for (let i = 0; i < WARMUP; i++) {
      await once('proxies');
      await once('certs');
    }
    for (let i = 0; i < RUNS; i++) {
      meshops.proxies.push(await once('proxies'));
      meshops.certs.push(await once('certs'));
      meshops.status.push(await once('status'));
      checks.proxies.push(await timed(() => runProxiesCheck(deps)));
      checks.certs.push(await timed(() => runCertsCheck(deps)));
      for (const c of clusters.all) {
        // As the checks list pods: the plain JSON, parsed (no client-node models; src/mesh/istio/sidecars.ts).
        single.podList.push(await timed(async () => JSON.parse((await c.get('/api/v1/pods')).body)));
        single.namespaceList.push(await timed(() => c.core.listNamespace({})));
      }
      single.pilotList.push(
        await timed(() =>
          icp.core.listNamespacedPod({ namespace: 'istio-system', labelSelector: 'istio=pilot' }),
        ),
      );
      single.synczProxied.push(await timed(() => icp.get(synczProxyPath('istio-system'))));
      single.syncz.push(await timed(() => exec(pilot, 'istio-system', DISCOVERY_CONTAINER, SYNCZ_ARGV)));
      single.bareExec.push(await timed(() => exec(sidecar, 'default', 'istio-proxy', ['true'])));
      // One proxy's read as /mesh certs does it on Istio 1.0: /certs and both mounted files at once.
      single.certsRead.push(
        await timed(() =>
          Promise.all([
            exec(sidecar, 'default', 'istio-proxy', CERTS_ARGV),
            exec(sidecar, 'default', 'istio-proxy', ROOT_PEM_ARGV),
            exec(sidecar, 'default', 'istio-proxy', CHAIN_PEM_ARGV),
          ]),
        ),
      );
    }
    const m = Object.fromEntries(Object.entries(single).map(([k, v]) => [k, median(v)])) as Record<
      keyof typeof single,
      number
    >;
    const { certSample, certConcurrency } = config.checks;
    const rounds = Math.ceil(certSample / certConcurrency);
    // /mesh proxies on Istio 1.0 with one pilot: the pod lists, the pilot list and the proxied GET, all at once.
    const proxiesBase = Math.max(m.podList, m.namespaceList, m.pilotList, m.synczProxied);
    // /mesh certs: the pod list, then `rounds` rounds of proxy reads (certSample proxies, certConcurrency at once).
    const certsBase = Math.max(m.podList, m.namespaceList) + rounds * m.certsRead;
    const p = median(checks.proxies);
    const c = median(checks.certs);
    const pe = median(meshops.proxies);
    const ce = median(meshops.certs);
    const s = median(meshops.status);
    const ms = (x: number) => `${x.toFixed(0)} ms`;
    const met = (x: number, y: number) => (x <= y ? 'met' : '**not met**');
    const text = `2 clusters (icp primary, iks remote), ${PROXIES_PER_CLUSTER} proxies each (the seed's bookinfo plus injected
Deployments), ${LATENCY_MS} ms added to every API call and exec; the simulation's exec answers after its default 50 ms.
Slash command to the first thread reply through the app, Redis and the worker, production defaults
(\`checks.certSample\` ${certSample}, \`checks.certConcurrency\` ${certConcurrency}); median of ${RUNS} runs after ${WARMUP} warm-up runs.
The single calls are measured in the same run, one at a time, with the same client. Machine: ${machine()}.

| command | end to end (median) | the check alone | one call at a time: the slowest it needs | check / that |
| --- | --- | --- | --- | --- |
| /mesh proxies | ${ms(pe)} | ${ms(p)} | ${ms(proxiesBase)} (the slowest of: pod list ${ms(m.podList)}, pilot list ${ms(m.pilotList)}, /debug/syncz through the service proxy ${ms(m.synczProxied)}) | **${(p / proxiesBase).toFixed(2)}×** |
| /mesh certs | ${ms(ce)} | ${ms(c)} | ${ms(certsBase)} (pod list ${ms(m.podList)} + ${rounds} rounds × one proxy's read ${ms(m.certsRead)}) | **${(c / certsBase).toFixed(2)}×** |
| /mesh status (with the proxy line) | ${ms(s)} | — | — | — |

A bare exec (\`true\` in istio-proxy) costs ${ms(m.bareExec)}: that is the exec overhead in the certs row. With several
pilot replicas (or modern istiod) /debug/syncz is read by exec in each pilot instead: ${ms(m.syncz)} per exec here.
Targets: each ≤ 3 s end to end — ${met(Math.max(pe, ce), 3000)}; each ≤ 1.5× its slowest call plus exec overhead — proxies
${met(p / proxiesBase, 1.5)}, certs ${met(c / certsBase, 1.5)}. The /mesh certs figure reads ${certSample} proxies of each
cluster's ${PROXIES_PER_CLUSTER} (one per workload first); the reply says so.`;
    process.stdout.write(`\n${text}\n`);
    writeSection('/mesh proxies and /mesh certs', text);
  } finally {
    await h.close();
    sim.proc.kill('SIGTERM');
  }
  process.exit(0);
}

if (process.argv[2] === '--sim') {
  const mesh = await startSimMesh({ dir: process.argv[3]! });
  for (const name of mesh.clusters.keys()) {
    const c = mesh.clusters.get(name)!.state;
    c.put('namespaces', {
      metadata: { name: 'mesh-bulk', labels: { 'istio-injection': 'enabled' } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
    const injected = c
      .list('pods')
      .filter((p) =>
        (p as { spec?: { containers?: { name: string }[] } }).spec?.containers?.some(
          (x) => x.name === 'istio-proxy',
        ),
      ).length;
    await mesh.faults.addPods(name, PROXIES_PER_CLUSTER - injected, { namespace: 'mesh-bulk' });
  }
  await mesh.settled();
  // Pods just started wait for their first push; the bench measures a mesh at rest.
  await new Promise((r) => setTimeout(r, 1500));
  for (const name of mesh.clusters.keys()) {
    mesh.faults.setApiLatency(name, LATENCY_MS);
    mesh.faults.setExecLatency(name, LATENCY_MS);
  }
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => void mesh.close().then(() => process.exit(0)));
} else {
  await main();
}
