import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, onPath } from './redis.ts';

export interface PrometheusOptions {
  /** `host:port` scrape targets (path `/metrics`). */
  targets: string[];
  /** How often Prometheus scrapes (default 1s: tests and the demo need the data soon). */
  scrapeInterval?: string;
  ruleFiles?: string[];
}

export interface RunningPrometheus {
  url: string;
  stop(): Promise<void>;
}

/** The Debian `prometheus` binary is not installed: the message says what to install. */
export class PrometheusUnavailableError extends Error {}

/**
 * A real Prometheus server on a free loopback port, with its own data directory and a generated config
 * scraping `targets`. Resolves once `/-/ready` answers.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const binary = onPath('prometheus');
  if (!binary)
    throw new PrometheusUnavailableError('prometheus is not installed (apt-get install prometheus)');
  const interval = options.scrapeInterval ?? '1s';
  const dir = await mkdtemp(join(tmpdir(), 'meshops-prometheus-'));
  const config = [
    'global:',
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    ...(options.ruleFiles?.length
      ? ['rule_files:', ...options.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`)]
      : []),
    'scrape_configs:',
    '  - job_name: istio-mesh',
    '    static_configs:',
    `      - targets: [${options.targets.map((t) => JSON.stringify(t)).join(', ')}]`,
  ].join('\n');
  await writeFile(join(dir, 'prometheus.yml'), `${config}\n`);
  const port = await freePort();
  const child = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const ready = await fetch(`${url}/-/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) return { url, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(
    `prometheus did not become ready on ${url}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
  );
}
