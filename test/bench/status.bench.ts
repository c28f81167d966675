// `/mesh status` end to end (signed Slack request → first thread reply) against the simulated mesh with
// 20 ms added to every API call, next to the baseline a user has today: `kubectl get pods -n istio-system`
// and `kubectl get pods -n default` on each cluster, one after another, against the same simulation.
// With 2 and with 10 clusters. The simulation runs in a child process (this file with --sim), as a real
// API server would run elsewhere; meshops' app and worker run in this process.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateScenario, shippedRbac, startSimMesh } from '../../src/sim/index.ts';
import { timeToFirstReply } from '../helpers/commands.ts';
import { startHarness } from '../helpers/harness.ts';
import { startProcess } from './processes.ts';
import { machine, writeSection } from './report.ts';

const LATENCY_MS = 20;
const RUNS = 41;
const WARMUP = 15;
const KUBECTL = '/usr/bin/kubectl';
const SIZES = [2, 10];

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)]!;
const median = (xs: number[]) => quantile(xs, 0.5);

interface Target {
  size: number;
  dir: string;
  names: [string, string][];
  once(): Promise<number>;
  verdict(): Promise<string>;
  close(): Promise<void>;
}

/** meshops (app + worker in this process) pointed at one simulation; `once` times one /mesh status. */
async function target(size: number): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), `meshops-bench-status-${size}-`));
  const started = await startProcess(
    [fileURLToPath(import.meta.url), '--sim', String(size), dir],
    {},
    /ready (\S+)\n/,
  );
  const sim = {
    proc: started.proc,
    names: started.match[1]!.split(',').map((e) => e.split(':') as [string, string]),
  };
  // The seed's one remote keeps its secret iriscluster; generated remotes' secrets are named after them.
  const secret = (n: string) => (n === 'iks' ? ', remoteSecret: iriscluster' : '');
  const configYaml = `clusters:\n${sim.names.map(([n, r]) => `  - { name: ${n}, role: ${r}, kubeconfig: ./${n}.kubeconfig${secret(n)} }`).join('\n')}
access: { rateLimit: { commands: 1000, per: 1m } }\n`;
  const h = await startHarness({
    configYaml,
    configDir: dir,
    label: `benchstatus${size}`,
    env: { LOG_LEVEL: 'info' },
  });
  let seq = 0;
  return {
    size,
    dir,
    names: sim.names,
    async once() {
      return timeToFirstReply(h, 'status', `C0BENCH${++seq}`);
    },
    async verdict() {
      const parent = await h.waitForVerdict(`C0BENCH${seq}`, '/mesh status');
      return /\*(healthy|degraded|down|failed)\*/.exec(parent.text)?.[1] ?? '?';
    },
    async close() {
      await h.close();
      sim.proc.kill('SIGTERM');
    },
  };
}

/**
 * Runs the sizes in turns (alternating which goes first) so that load from anything else on the machine
 * falls on both alike; the growth figure compares medians taken side by side.
 */
async function measureMeshops(targets: Target[]): Promise<number[][]> {
  for (let i = 0; i < WARMUP; i++) for (const t of targets) await t.once();
  const times = targets.map(() => [] as number[]);
  for (let i = 0; i < RUNS; i++) {
    const order = i % 2 === 0 ? targets.map((_, k) => k) : targets.map((_, k) => targets.length - 1 - k);
    for (const k of order) times[k]!.push(await targets[k]!.once());
  }
  return times;
}

async function measureKubectl(dir: string, names: [string, string][]): Promise<number> {
  const run = promisify(execFile);
  const home = mkdtempSync(join(tmpdir(), 'meshops-bench-kubectl-'));
  const once = async () => {
    const started = performance.now();
    for (const [name] of names) {
      for (const ns of ['istio-system', 'default']) {
        await run(
          KUBECTL,
          [
            '--kubeconfig',
            join(dir, `${name}.kubeconfig`),
            '--cache-dir',
            join(home, 'cache'),
            'get',
            'pods',
            '-n',
            ns,
          ],
          {
            env: { ...process.env, HOME: home },
          },
        );
      }
    }
    return performance.now() - started;
  };
  // The first run fills kubectl's discovery cache, as a user's shell would have it.
  await once();
  const times: number[] = [];
  for (let i = 0; i < Math.min(RUNS, 5); i++) times.push(await once());
  return median(times);
}

async function main() {
  const hasKubectl = existsSync(KUBECTL);
  const targets = await Promise.all(SIZES.map(target));
  const rows: {
    clusters: number;
    meshops: number;
    spread: string;
    verdict: string;
    kubectl?: number;
  }[] = [];
  try {
    const times = await measureMeshops(targets);
    for (const [k, t] of targets.entries()) {
      const kubectl = hasKubectl ? await measureKubectl(t.dir, t.names) : undefined;
      rows.push({
        clusters: t.size,
        meshops: median(times[k]!),
        spread: `${quantile(times[k]!, 0.25).toFixed(0)}–${quantile(times[k]!, 0.75).toFixed(0)} ms`,
        verdict: await t.verdict(),
        ...(kubectl ? { kubectl } : {}),
      });
      process.stdout.write(
        `${t.size} clusters: meshops ${median(times[k]!).toFixed(0)} ms, kubectl ${kubectl?.toFixed(0) ?? 'n/a'} ms\n`,
      );
    }
  } finally {
    await Promise.all(targets.map((t) => t.close()));
  }
  const ms = (x: number | undefined) => (x === undefined ? 'n/a' : `${x.toFixed(0)} ms`);
  const table = rows
    .map(
      (r) =>
        `| ${r.clusters} | ${ms(r.meshops)} (${r.verdict}) | ${r.spread} | ${ms(r.kubectl)} | ${r.kubectl ? `**${(r.meshops / r.kubectl).toFixed(2)}×**` : 'n/a'} |`,
    )
    .join('\n');
  const [small, large] = rows;
  const growth = small && large ? large.meshops / small.meshops : Number.NaN;
  // 2 clusters: issue 15's ≤ 0.2×; larger meshes keep the earlier ≤ 0.5×.
  const ratioTarget = (clusters: number) => (clusters <= 2 ? 0.2 : 0.5);
  const ratioMet = rows.every(
    (r) => r.kubectl !== undefined && r.meshops / r.kubectl <= ratioTarget(r.clusters),
  );
  const text = `\`/mesh status\` end to end: a signed slash command to meshops' app until the first thread reply reaches
the (fake) Slack Web API, through Redis, the worker and the simulated clusters, median of ${RUNS} runs after ${WARMUP} warm-up runs.
Every API request to every simulated cluster waits ${LATENCY_MS} ms first; the simulation runs in its own process.
Production defaults throughout: the command is written to Redis before the ack, the worker posts the parent, and
every post spends from the channel's posting budget in Redis; the fake Slack enforces its rate limits (each run
uses a fresh channel, as a user's command in a quiet channel).
Baseline in the same run: \`kubectl get pods -n istio-system\` and \`kubectl get pods -n default\` on each cluster,
one after another (kubectl ${hasKubectl ? '1.32 via /usr/bin/kubectl, discovery cache warm' : 'not installed here: baseline skipped'}), median of 5 runs.
Machine: ${machine()}.

| clusters | meshops /mesh status (median) | middle half of the runs | kubectl baseline | meshops / kubectl |
| --- | --- | --- | --- | --- |
${table}

Targets: meshops ≤ 0.2× the kubectl baseline at 2 clusters and ≤ 0.5× at 10 — ${hasKubectl ? (ratioMet ? 'met' : '**not met**') : 'not measured'}; from ${small?.clusters} to ${large?.clusters} clusters
the time grows **${growth.toFixed(3)}×**, target < 1.3× — ${growth < 1.3 ? 'met' : '**not met** on this machine'}. The sizes run in turns
against two simulations up at the same time, so other load on the machine falls on both alike.

meshops asks every cluster at once, in one round of parallel calls: per cluster all pods, the namespaces, the
Deployments and DaemonSets; on the primary its Services, each remote's secret, read by name (meshops' RBAC never
lists secrets), and pilot's proxy list (its pod list and /debug/syncz through the service proxy); on a remote its
\`istio\` ConfigMap and \`istio-pilot\` Endpoints. Before replying, the worker reads what changed from history (at
most four runs, however many are kept: runs pile up over the benchmark) and keeps this run, a few Redis round trips. The API latency is
paid once, however many clusters; what grows is the worker's CPU per answer (TLS, HTTP and JSON parsing, meshops'
own reduction to facts), since the answers of all clusters arrive within the same few milliseconds and one event
loop handles them one after another. Every answer is read as plain JSON into the few fields the check uses
(client-node's model conversion was most of that CPU), over undici's \`request\` rather than \`fetch\`, and each
cluster's calls share one undici Agent built once (client-node 2.0.1 built one in every request's authentication,
about 60 µs each, some 70 times per check of ten clusters). The simulation is one process for all clusters and does
each request's work after its 20 ms wait, so its own CPU, which also grows with the clusters, lands on the measured
time too. On this 2-core VM the simulation answers from its own process on the other core, and the growth figure
moves by several hundredths from run to run, more when other work shares the machine. kubectl pays a process start and a
round trip per command and cluster.`;
  process.stdout.write(`\n${text}\n`);
  writeSection('/mesh status', text);
  process.exit(0);
}

if (process.argv[2] === '--sim') {
  const clusters = Number(process.argv[3]);
  const scenario = generateScenario({ clusters });
  // The shipped RBAC names the seed's remote secrets; an operator with more remotes lists theirs the same way.
  const secrets = scenario.clusters.flatMap((c) => c.remoteSecrets.map((s) => `"${s.name}"`));
  const rbac = Object.fromEntries(
    scenario.clusters.map((c) => [
      c.name,
      shippedRbac(c.role).map((doc) =>
        doc.replace(
          'resourceNames: ["iriscluster", "istio-remote-secret-iks"]',
          `resourceNames: [${secrets.join(', ')}]`,
        ),
      ),
    ]),
  );
  const mesh = await startSimMesh({ dir: process.argv[4]!, scenario, rbac });
  for (const name of mesh.clusters.keys()) mesh.faults.setApiLatency(name, LATENCY_MS);
  process.stdout.write(`ready ${[...mesh.clusters.values()].map((c) => `${c.name}:${c.role}`).join(',')}\n`);
  process.on('SIGTERM', () => void mesh.close().then(() => process.exit(0)));
} else {
  await main();
}
