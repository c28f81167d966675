// The simulated clusters' own cost, so other benchmarks can tell meshops' time from the
// simulation's: per-request overhead (GET /version, a small pod list, an exec), and a list of
// 5,000 pods (target < 100 ms). The simulation runs in a child process (this file with --sim),
// as a real API server would run elsewhere; the client side runs here.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { startSimMesh } from '../../src/sim/index.ts';
import { startProcess } from './processes.ts';
import { machine, percentile, writeSection } from './report.ts';

const BULK = 5000;
const SMALL_RUNS = 500;
const BIG_RUNS = 30;
const EXEC_RUNS = 100;

/** SIGTERM, then SIGKILL if the simulation has not exited within 5 s: never leave it behind. */
async function stopSim(proc: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

interface Stats {
  p50: number;
  p99: number;
}

async function time(
  label: string,
  runs: number,
  fn: () => Promise<unknown>,
  warmup = Math.min(50, runs),
): Promise<Stats> {
  process.stderr.write(`measuring ${label}\n`);
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

// Kept-alive connections, as a real client holds them: no TLS handshake inside the figures.
let agent: Agent | undefined;

/** The bytes of a response, without client-node's object mapping. */
function rawGet(kc: k8s.KubeConfig, path: string, accept = 'application/json'): Promise<number> {
  const cluster = kc.getCurrentCluster()!;
  agent ??= new Agent({ keepAlive: true, ca: Buffer.from(cluster.caData!, 'base64') });
  return new Promise((resolve, reject) => {
    const req = request(
      `${cluster.server}${path}`,
      { agent, headers: { authorization: `Bearer ${kc.getCurrentUser()!.token}`, accept } },
      (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve(bytes));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function execTrue(kc: k8s.KubeConfig, pod: string, argv: string[]): Promise<void> {
  const sink = new Writable({ write: (_c, _e, done) => done() });
  return new Promise((resolve, reject) => {
    new k8s.Exec(kc)
      .exec('default', pod, 'strongswan', argv, sink, sink, null, false, () => resolve())
      .catch(reject);
  });
}

function ms(n: number): string {
  return `${n.toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'meshops-simbench-'));
  const load = loadavg()[0]!.toFixed(1);
  const { proc: sim } = await startProcess([fileURLToPath(import.meta.url), '--sim', dir], {}, /ready/);
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(join(dir, 'icp.kubeconfig'));
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const version = kc.makeApiClient(k8s.VersionApi);
    const vpn = (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=strongswan' }))
      .items[0]!.metadata!.name!;
    const pilot = (await core.listNamespacedPod({ namespace: 'istio-system', labelSelector: 'istio=pilot' }))
      .items[0]!.status!.podIP!;

    const versionStats = await time('GET /version', SMALL_RUNS, () => version.getCode());
    const smallList = await time('small list', SMALL_RUNS, () =>
      core.listNamespacedPod({ namespace: 'istio-system' }),
    );
    const execStats = await time('exec true', EXEC_RUNS, () => execTrue(kc, vpn, ['true']), 10);
    const pingStats = await time(
      'exec ping',
      EXEC_RUNS,
      () => execTrue(kc, vpn, ['ping', '-c', '3', pilot]),
      10,
    );
    const bytes = await rawGet(kc, '/api/v1/namespaces/bulk/pods');
    const bigRaw = await time('5000 pods raw', BIG_RUNS, () => rawGet(kc, '/api/v1/namespaces/bulk/pods'), 5);
    const bigTable = await time(
      '5000 pods Table',
      BIG_RUNS,
      () => rawGet(kc, '/api/v1/namespaces/bulk/pods', 'application/json;as=Table;v=v1;g=meta.k8s.io'),
      5,
    );
    const bigClient = await time(
      '5000 pods client-node',
      BIG_RUNS,
      () => core.listNamespacedPod({ namespace: 'bulk' }),
      5,
    );

    const rows: [string, Stats][] = [
      ['`GET /version` (client-node `VersionApi`)', versionStats],
      ['list pods in `istio-system` (15 pods, client-node)', smallList],
      ['exec `true` (client-node `Exec`, WebSocket v5)', execStats],
      ['exec `ping -c 3` to pilot (2 s simulated × timeScale 0.01)', pingStats],
      [`list ${BULK} pods, raw HTTPS (${(bytes / 2 ** 20).toFixed(1)} MiB JSON)`, bigRaw],
      [`list ${BULK} pods as a Table (what kubectl asks for), raw HTTPS`, bigTable],
      [`list ${BULK} pods, client-node \`listNamespacedPod\` (includes its object mapping)`, bigClient],
    ];
    const table = rows.map(([what, s]) => `| ${what} | ${ms(s.p50)} | ${ms(s.p99)} |`).join('\n');
    const body = `
What the simulation itself costs per request, measured with the simulation in its own process and the
client in this one (\`npm run bench sim\`). Small requests: ${SMALL_RUNS} each after 50 warm-up; exec: ${EXEC_RUNS}
each with the mesh's \`execLatencyMs\` set to 0 (the default 50 ms answer delay comes on top);
5,000-pod lists: ${BIG_RUNS} each, over a kept-alive connection. Machine: ${machine()}; load average
${load} when the run started (other work on the machine shows up in the p99s).

| request | p50 | p99 |
| --- | --- | --- |
${table}

Target: a list of 5,000 pods answers in < 100 ms — raw p50 **${ms(bigRaw.p50)}** (${bigRaw.p50 < 100 ? 'met' : 'missed'}).
Later benchmarks against the simulation should subtract about ${ms(smallList.p50)} per API call and
${ms(execStats.p50)} + \`execLatencyMs\` per exec as the simulation's share.
`;
    process.stdout.write(body);
    writeSection('Simulated clusters', body);
  } finally {
    agent?.destroy();
    await stopSim(sim);
  }
}

// Dispatch last: the module's constants and helpers above must be initialised first.
if (process.argv[2] === '--sim') {
  // execLatencyMs 0: measure the exec machinery itself, not the configured answer delay.
  const mesh = await startSimMesh({ dir: process.argv[3]!, execLatencyMs: 0 });
  await mesh.faults.addPods('icp', BULK);
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => void mesh.close().then(() => process.exit(0)));
} else {
  await main();
}
