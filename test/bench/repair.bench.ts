// `/mesh repair drift iks` from the signed Slack request to the approval message (the plan read from the live
// state, diffed and put up for approval), next to `/mesh status iks` on the same mesh: the read-only check of
// the same remote, which the plan reads through too. Pilot has restarted, so iks drifts; with the seed's one
// injected pod, and with 2,000 more injected pods (200 Deployments) holding the old address. 20 ms is added
// to every API call. The simulation runs in a child process (this file with --sim); meshops in this one.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimMesh } from '../../src/sim/index.ts';
import { startHarness } from '../helpers/harness.ts';
import { machine, writeSection } from './report.ts';

const LATENCY_MS = 20;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const SIZES = (process.env.BENCH_SIZES ?? '0,2000').split(',').map(Number);

function startSim(extra: number, dir: string): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--sim', String(extra), dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) resolve(proc);
    });
    proc.on('exit', (code) => reject(new Error(`the simulation exited with ${code}`)));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(dir: string): Promise<{ status: number; plan: number; summary: string }> {
  const configYaml = `clusters:
  - { name: icp, role: primary, kubeconfig: ./icp.kubeconfig }
  - { name: iks, role: remote, kubeconfig: ./iks.kubeconfig, remoteSecret: iriscluster }
access:
  operators: [U0ALICE]
  approvers: [U0ALICE, U0BOB]
  rateLimit: { commands: 1000, per: 60s }
checks:
  clusterTimeout: 20s
jobs:
  timeout: 60s
`;
  const h = await startHarness({
    configYaml,
    configDir: dir,
    label: 'benchrepair',
    env: { LOG_LEVEL: 'info' },
  });
  let seq = 0;
  /** Time from the signed command to the first message matching `done` in the channel. */
  const timed = async (text: string, done: (m: { thread_ts?: string; blocks?: unknown }) => boolean) => {
    const channel = `C0BENCH${++seq}`;
    const seen = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no answer to "${text}" in ${channel} within 60 s`)),
        60_000,
      );
      const off = h.slack.onChange((e) => {
        if (e.kind === 'message' && e.message.channel === channel && done(e.message)) {
          off();
          clearTimeout(timer);
          resolve(performance.now());
        }
      });
    });
    const started = performance.now();
    await h.command(text, { channel, user: 'U0ALICE' });
    return { ms: (await seen) - started, channel };
  };
  const isApproval = (m: { thread_ts?: string; blocks?: unknown }) =>
    !m.thread_ts && JSON.stringify(m.blocks ?? []).includes('"action_id":"mesh.approve"');
  /** Rejects the pending request in `channel`, so the next run may lock the remote again. */
  const reject = async (channel: string) => {
    const message = h.parents(channel).find(isApproval)!;
    const id = /"value":"(ap-[0-9a-f]+)"/.exec(JSON.stringify(message.blocks))![1]!;
    await h.click({ user: 'U0BOB', channel, messageTs: message.ts, actionId: 'mesh.reject', value: id });
    await h.waitForVerdict(channel, '/mesh repair drift iks', 60_000);
    for (
      let i = 0;
      i < 600 && !/Rejected/.test(h.parents(channel).find((m) => m.ts === message.ts)!.text);
      i++
    )
      await new Promise((r) => setTimeout(r, 50));
  };
  try {
    const status: number[] = [];
    const plan: number[] = [];
    let summary = '';
    for (let i = 0; i < RUNS + 1; i++) {
      const s = await timed('status iks', (m) => Boolean(m.thread_ts));
      const p = await timed('repair drift iks', isApproval);
      await reject(p.channel);
      summary = h.parents(p.channel).find((m) => /repair drift iks/.test(m.text))!.text;
      // The first round warms up connections and code paths.
      if (i === 0) continue;
      status.push(s.ms);
      plan.push(p.ms);
    }
    return { status: median(status), plan: median(plan), summary };
  } finally {
    await h.close();
  }
}

async function main() {
  const rows: string[] = [];
  for (const extra of SIZES) {
    const dir = mkdtempSync(join(tmpdir(), 'meshops-bench-repair-'));
    const sim = await startSim(extra, dir);
    try {
      const r = await measure(dir);
      const pods = extra + 1;
      console.log(`${pods} drifted pods: status ${r.status.toFixed(0)} ms, plan ${r.plan.toFixed(0)} ms`);
      rows.push(
        `| ${pods} | ${r.status.toFixed(0)} ms | ${r.plan.toFixed(0)} ms | ${(r.plan / r.status).toFixed(2)}× |`,
      );
    } finally {
      sim.kill('SIGTERM');
    }
  }
  writeSection(
    'Drift repair: plan latency',
    `\`/mesh repair drift iks\` after a pilot restart, from the signed Slack request to the approval message
(drift gathered through the status check's own reader, the remote's ConfigMap and Endpoints read with their
resourceVersions, the Deployments of drifted pods listed, the plan diffed and the request locked, stored and
posted), next to \`/mesh status iks\` (request to thread reply) on the same mesh in the same run. 20 ms added to
every API call; the simulation in its own process; median of ${RUNS} runs after one warm-up.
Machine: ${machine()}.

| injected pods holding the old address | /mesh status iks | /mesh repair drift iks | repair / status |
| --- | --- | --- | --- |
${rows.join('\n')}

The plan costs about one status check of the remote plus one round of reads; nothing is written before
the approval.`,
  );
}

if (process.argv[2] === '--sim') {
  const extra = Number(process.argv[3]);
  const mesh = await startSimMesh({ dir: process.argv[4]! });
  if (extra > 0) {
    // Injected from the start, so every pod carries pilot's first address.
    mesh.clusters.get('iks')!.state.put('namespaces', {
      metadata: {
        name: 'bulk',
        labels: { 'kubernetes.io/metadata.name': 'bulk', 'istio-injection': 'enabled' },
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    } as never);
    await mesh.faults.addPods('iks', extra, { namespace: 'bulk' });
  }
  await mesh.faults.restartPod('icp', 'istio-system', { labelSelector: 'istio=pilot' });
  for (const name of mesh.clusters.keys()) mesh.faults.setApiLatency(name, LATENCY_MS);
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => void mesh.close().then(() => process.exit(0)));
} else {
  await main();
}
