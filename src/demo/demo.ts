import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { DestinationStream } from 'pino';
import { parseEnv } from '../config/env.ts';
import { loadConfig } from '../config/load.ts';
import { type SlackConsole, startConsole } from '../console/server.ts';
import { type Meshops, startMeshops } from '../runtime.ts';
import { type SimMesh, startSimMesh } from '../sim/index.ts';
import { demoConfigYaml } from './config.ts';
import { simFaultPanel } from './faults.ts';
import { startPrometheus } from './prometheus.ts';
import { clearPrefix, type DemoRedis, onPath, resolveRedis } from './redis.ts';
import { DEMO_WORKSPACE } from './workspace.ts';

/** Never the production REDIS_PREFIX: the demo clears its keys at start. */
export const DEMO_REDIS_PREFIX = 'meshops-demo';

export interface DemoOptions {
  /** Console port; 0 picks a free one. */
  port: number;
  /** Console listen address (0.0.0.0 inside a container). */
  host: string;
  /** Folder for the kubeconfigs, the config and the bot's log. */
  dir: string;
  redisUrl: string;
  prefix?: string;
  logLevel?: string;
  /** Where the bot logs; by default `<dir>/meshops.log`, keeping the terminal for the demo's own lines. */
  logDestination?: DestinationStream;
  /** Progress lines while starting. */
  say?: (line: string) => void;
}

export interface Demo {
  console: SlackConsole;
  sim: SimMesh;
  meshops: Meshops;
  redis: DemoRedis;
  configPath: string;
  logPath?: string;
  stop(): Promise<void>;
}

/**
 * Starts the whole product on one machine: the simulated clusters, a config for them, the console (Slack's
 * stand-in) and meshops (app + worker) talking to it. Stops in the reverse order; a failed start undoes itself.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const say = options.say ?? (() => {});
  const dir = resolve(options.dir);
  const prefix = options.prefix ?? DEMO_REDIS_PREFIX;
  const undo: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const step of undo.splice(0).reverse()) await step().catch(() => {});
  };
  try {
    // The console first: a taken port fails the start before anything else runs.
    const signingSecret = randomBytes(16).toString('hex');
    const slackConsole = await startConsole({
      workspace: DEMO_WORKSPACE,
      signingSecret,
      port: options.port,
      host: options.host,
    });
    undo.push(() => slackConsole.close());

    const [redisStart, simStart] = await Promise.allSettled([
      resolveRedis(options.redisUrl),
      mkdir(dir, { recursive: true }).then(() => startSimMesh({ dir: join(dir, 'kube') })),
    ]);
    if (redisStart.status === 'fulfilled') undo.push(() => redisStart.value.stop());
    if (simStart.status === 'fulfilled') undo.push(() => simStart.value.close());
    if (redisStart.status === 'rejected') throw redisStart.reason;
    if (simStart.status === 'rejected') throw simStart.reason;
    const redis = redisStart.value;
    const sim = simStart.value;
    slackConsole.useFaults(simFaultPanel(sim));
    say(
      redis.privateServer
        ? `redis     private redis-server on 127.0.0.1:${redis.privateServer.port} (stopped on exit)`
        : `redis     ${redis.url} (keys under ${prefix}:)`,
    );
    say(`clusters  ${[...sim.clusters.values()].map((c) => `${c.name} (${c.role}) ${c.url}`).join(', ')}`);
    // A real Prometheus scraping the mesh's telemetry, behind the primary's `prometheus` Service, for the
    // verification after routing changes. Without it the demo runs, and the thread says verification could not run.
    if (onPath('prometheus')) {
      const prom = await startPrometheus({ targets: [sim.metrics.target] });
      undo.push(() => prom.stop());
      const primary = sim.scenario.clusters.find((c) => c.role === 'primary')!.name;
      sim.connectService(primary, 'istio-system', 'prometheus', 9090, prom.url);
      say(`metrics   Prometheus ${prom.url} scraping the mesh every 1 s (the primary's prometheus:9090)`);
    } else {
      say(
        'metrics   prometheus is not installed (apt-get install prometheus): routing changes are not verified',
      );
    }
    await clearPrefix(redis.url, prefix);

    const configPath = join(dir, 'meshops.yaml');
    await writeFile(
      configPath,
      demoConfigYaml(
        sim.scenario.clusters.map((c) => ({
          name: c.name,
          role: c.role,
          kubeconfig: `./${relative(dir, sim.kubeconfigPath(c.name))}`,
          podCidr: c.podCidr,
          serviceCidr: c.serviceCidr,
          // Named as the scenario names it (the seed's is iriscluster), so a visitor sees the key in use.
          ...secretOf(sim, c.name),
        })),
      ),
    );
    const config = loadConfig(configPath);

    const logPath = options.logDestination ? undefined : join(dir, 'meshops.log');
    let logDestination = options.logDestination;
    if (!logDestination) {
      const file = createWriteStream(logPath!, { flags: 'w' });
      undo.push(() => new Promise<void>((r) => file.end(() => r())));
      logDestination = file;
    }
    const env = parseEnv(
      {
        SLACK_SIGNING_SECRET: signingSecret,
        SLACK_BOT_TOKEN: `xoxb-demo-${randomBytes(12).toString('hex')}`,
        SLACK_API_URL: slackConsole.apiUrl,
        REDIS_URL: redis.url,
        REDIS_PREFIX: prefix,
        PORT: '0',
        OPS_PORT: '0',
        MESHOPS_CONFIG: configPath,
        LOG_LEVEL: options.logLevel ?? 'info',
      },
      'all',
    );
    const meshops = await startMeshops({
      role: 'all',
      env,
      config,
      host: '127.0.0.1',
      logDestination,
      // A demo has nobody waiting on long jobs at Ctrl-C.
      shutdownGraceMs: 2000,
    });
    undo.push(() => meshops.stop());
    slackConsole.connect(`${meshops.url}/slack/events`);

    return { console: slackConsole, sim, meshops, redis, configPath, ...(logPath ? { logPath } : {}), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function secretOf(sim: SimMesh, cluster: string): { remoteSecret?: string } {
  const name = sim.scenario.clusters.flatMap((c) => c.remoteSecrets).find((s) => s.cluster === cluster)?.name;
  return name ? { remoteSecret: name } : {};
}
