// node src/sim/cli.ts --dir ./.sim [--scenario seed|modern|file.yaml] [--clusters N] [--port name=6443]
// Starts the simulated mesh, writes one kubeconfig per cluster, prints where, runs until
// SIGINT/SIGTERM.

import { parseArgs } from 'node:util';
import { startSimMesh } from './mesh.ts';
import { generateScenario } from './scenario/generate.ts';

const USAGE = `usage: node src/sim/cli.ts --dir DIR [--scenario seed|modern|FILE] [--clusters N] [--port NAME=PORT]...

  --dir        where the kubeconfig files are written (created if missing)
  --scenario   built-in scenario name or a scenario YAML file (default: seed)
  --clusters   grow the scenario to N clusters by copying its remote (default: as written)
  --port       fixed port for a cluster, e.g. --port icp=6443 (default: a free port)
`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    scenario: { type: 'string', default: 'seed' },
    clusters: { type: 'string' },
    port: { type: 'string', multiple: true, default: [] },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (!values.dir) fail('--dir is required');

const ports: Record<string, number> = {};
for (const entry of values.port) {
  const [name, port] = entry.split('=');
  if (!name || !port || !/^\d+$/.test(port)) fail(`--port wants NAME=PORT, got ${entry}`);
  ports[name] = Number(port);
}
const clusters = values.clusters === undefined ? undefined : Number(values.clusters);
if (clusters !== undefined && !(Number.isInteger(clusters) && clusters >= 2))
  fail('--clusters wants a number >= 2');

const scenario = clusters ? generateScenario({ clusters, base: values.scenario }) : values.scenario;
const mesh = await startSimMesh({ scenario, dir: values.dir, ports });
process.stdout.write(`simulated mesh "${mesh.scenario.name}" is up:\n`);
for (const c of mesh.clusters.values()) {
  process.stdout.write(
    `  ${c.name.padEnd(10)} ${c.role.padEnd(8)} ${c.url}  kubeconfig: ${c.kubeconfigPath}\n`,
  );
}
process.stdout.write(
  `try: kubectl --kubeconfig ${[...mesh.clusters.values()][0]?.kubeconfigPath} get pods -A\n`,
);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await mesh.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
