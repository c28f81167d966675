// A routing change through meshops against the seed simulation with 20 ms added to every API call:
// `/mesh route apply <preset>` (signed Slack request → approval message posted, after planning and
// pre-flight on both clusters), then the approver's click (→ VirtualService written and the message saying
// applied). Baseline in the same run: the seed's manual way, `kubectl replace -f <preset>.yaml` on the
// primary (which overwrites blindly, with no plan, check or approval). The simulation runs in a child
// process (this file with --sim); meshops' app and worker run in this process.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEFAULT_PRESETS_DIR, loadPresets } from '../../src/mesh/routing/presets.ts';
import { startSimMesh } from '../../src/sim/index.ts';
import { startHarness } from '../helpers/harness.ts';
import { waitFor } from '../helpers/wait.ts';
import { startProcess } from './processes.ts';
import { machine, writeSection } from './report.ts';

const LATENCY_MS = 20;
const RUNS = 9;
const KUBECTL = '/usr/bin/kubectl';
// Alternating, so every run has something to change.
const PRESETS = ['reviews-v3', 'all-v1'];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;

async function main(): Promise<void> {
  const cold = performance.now();
  const shipped = loadPresets(DEFAULT_PRESETS_DIR, 'default').length;
  const loadMs = performance.now() - cold;

  const dir = mkdtempSync(join(tmpdir(), 'meshops-bench-routing-'));
  const { proc: sim } = await startProcess([fileURLToPath(import.meta.url), '--sim', dir], {}, /ready/);
  const h = await startHarness({
    label: 'bench-routing',
    configDir: dir,
    configYaml: `
clusters:
  - {name: icp, role: primary, kubeconfig: ./icp.kubeconfig}
  - {name: iks, role: remote, kubeconfig: ./iks.kubeconfig, remoteSecret: iriscluster}
access:
  operators: [U0ALICE]
  approvers: [U0BOB]
`,
  });
  const request: number[] = [];
  const approve: number[] = [];
  const kubectl: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const preset = PRESETS[i % PRESETS.length]!;
      const channel = `C0BENCH${i}`;
      let started = performance.now();
      await h.command(`route apply ${preset}`, { user: 'U0ALICE', channel });
      const message = await waitFor(
        'the approval message',
        () => h.parents(channel).find((m) => JSON.stringify(m.blocks).includes('mesh.approve')),
        60_000,
      );
      request.push(performance.now() - started);
      const id = /"value":"(ap-[0-9a-f]+)"/.exec(JSON.stringify(message.blocks))![1]!;
      started = performance.now();
      await h.click({ user: 'U0BOB', channel, messageTs: message.ts, actionId: 'mesh.approve', value: id });
      await waitFor('the apply', () => /Applied\* at/.test(message.text), 60_000);
      approve.push(performance.now() - started);
    }
    if (existsSync(KUBECTL)) {
      const run = promisify(execFile);
      for (let i = 0; i < RUNS; i++) {
        const preset = PRESETS[i % PRESETS.length]!;
        const started = performance.now();
        await run(KUBECTL, [
          '--kubeconfig',
          join(dir, 'icp.kubeconfig'),
          'replace',
          // The simulation serves no OpenAPI document for kubectl's client-side validation.
          '--validate=false',
          '-n',
          'default',
          '-f',
          join(DEFAULT_PRESETS_DIR, `${preset}.yaml`),
        ]);
        kubectl.push(performance.now() - started);
      }
    }
  } finally {
    await h.close();
    sim.kill('SIGTERM');
  }

  const baseline = kubectl.length > 0 ? median(kubectl) : Number.NaN;
  const rows = [
    `| meshops: \`/mesh route apply\` → approval message (plan, pre-flight on both clusters incl. tunnel) | ${ms(median(request))} | ${ms(Math.max(...request))} |`,
    `| meshops: Approve click → VirtualService written, message says applied (re-check, replace, audit) | ${ms(median(approve))} | ${ms(Math.max(...approve))} |`,
    kubectl.length > 0
      ? `| baseline: \`kubectl replace --validate=false -f <preset>.yaml\` on the primary | ${ms(baseline)} | ${ms(Math.max(...kubectl))} |`
      : `| baseline: kubectl not found at ${KUBECTL}; not measured | – | – |`,
  ];
  const body = `
A preset change through meshops against the seed simulation (icp + iks) with ${LATENCY_MS} ms added to every
API call, ${RUNS} runs alternating ${PRESETS.join(' and ')}, next to the seed's manual way measured in the same run:
\`kubectl replace --validate=false -f <preset>.yaml\` on the primary: a blind overwrite, with no plan, pre-flight,
approval or audit (\`--validate=false\` because the simulation serves no OpenAPI document for kubectl to validate with).
The simulation runs in its own process. Machine: ${machine()}.

| step | median | max |
| --- | --- | --- |
${rows.join('\n')}

The approval step (click → applied) takes ${kubectl.length > 0 ? `${(median(approve) / baseline).toFixed(1)}×` : 'n/a ×'} the time of the kubectl replace; the
request step does the extra reads the manual way skips (DestinationRules, Service, pods on every cluster,
\`ipsec statusall\` on both strongSwan pods). Loading and validating the ${shipped} shipped presets against the CRD
schema at start-up (cold, in this process): ${ms(loadMs)}.
`;
  process.stdout.write(body);
  writeSection('Routing presets: request and approval', body);
}

if (process.argv[2] === '--sim') {
  const mesh = await startSimMesh({ dir: process.argv[3]! });
  for (const name of mesh.clusters.keys()) mesh.faults.setApiLatency(name, LATENCY_MS);
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => void mesh.close().then(() => process.exit(0)));
} else {
  await main();
}
