import type { Redis } from 'ioredis';
import type { Env } from '../config/env.ts';
import type { ConfigError } from '../config/load.ts';
import { describeTarget, type RedisTarget } from '../config/redis.ts';
import type { MeshConfig } from '../config/schema.ts';
import { type Cluster, createCluster } from '../kube/cluster.ts';
import { classifyKubeError } from '../kube/errors.ts';
import { createRedis } from '../queue/connection.ts';
import { withTimeout } from '../queue/producer.ts';
import { describeFacts, inspectRedis, judgeRedis } from '../queue/redis-facts.ts';
import { createSlackClient } from '../slack/poster.ts';
import { BOT_SCOPES } from '../slack/scopes.ts';
import { describePermission, neededPermissions } from './permissions-needed.ts';

export type Mark = 'ok' | 'warn' | 'FAIL';

export interface DoctorLine {
  mark: Mark;
  /** What was checked: "cluster icp", "redis", "slack". */
  subject: string;
  text: string;
}

export interface DoctorDeps {
  env: Env;
  config: MeshConfig;
  redis: RedisTarget;
  /** Per cluster and per Redis or Slack call. */
  timeoutMs?: number;
}

/**
 * Checks an install without starting it: each cluster's API server and every permission meshops needs
 * there (SelfSubjectAccessReview), Slack (auth.test and the granted scopes), Redis (version, eviction,
 * persistence, Sentinel topology). Starts no server, no worker and writes nothing.
 */
export async function runDoctor(deps: DoctorDeps): Promise<DoctorLine[]> {
  const timeoutMs = deps.timeoutMs ?? 5000;
  const results = await Promise.all([
    ...deps.config.clusters.map((c) => checkCluster(deps.config, c, timeoutMs)),
    checkSlack(deps.env, timeoutMs),
    checkRedis(deps.redis, timeoutMs),
  ]);
  return results.flat();
}

async function checkCluster(
  config: MeshConfig,
  clusterConfig: MeshConfig['clusters'][number],
  timeoutMs: number,
): Promise<DoctorLine[]> {
  const subject = `cluster ${clusterConfig.name}`;
  let cluster: Cluster;
  try {
    cluster = createCluster(clusterConfig, timeoutMs);
  } catch (err) {
    return [
      {
        mark: 'FAIL',
        subject,
        text: `${clusterConfig.kubeconfig ?? 'in-cluster ServiceAccount'}: ${(err as Error).message.split('\n')[0]}`,
      },
    ];
  }
  let version: string;
  try {
    version = (await cluster.version(timeoutMs)).gitVersion;
  } catch (err) {
    return [{ mark: 'FAIL', subject, text: `API server not reachable: ${classifyKubeError(err).reason}` }];
  }
  const lines: DoctorLine[] = [{ mark: 'ok', subject, text: `API server answers (Kubernetes ${version})` }];
  const perms = neededPermissions(config, clusterConfig);
  const answers = await Promise.all(
    perms.map(async (p) => {
      try {
        const review = await cluster.authorization.createSelfSubjectAccessReview(
          {
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectAccessReview',
              spec: {
                resourceAttributes: {
                  verb: p.verb,
                  group: p.group,
                  resource: p.resource,
                  ...(p.subresource ? { subresource: p.subresource } : {}),
                  ...(p.namespace ? { namespace: p.namespace } : {}),
                  ...(p.name ? { name: p.name } : {}),
                },
              },
            },
          },
          cluster.options(timeoutMs),
        );
        return review.status?.allowed === true ? 'granted' : 'missing';
      } catch (err) {
        return `not asked: ${classifyKubeError(err).reason}`;
      }
    }),
  );
  perms.forEach((p, i) => {
    const answer = answers[i]!;
    const mark: Mark = answer === 'granted' ? 'ok' : p.optional ? 'warn' : 'FAIL';
    lines.push({
      mark,
      subject,
      text: `${answer.padEnd(8)} ${describePermission(p)} — ${p.why}${p.optional && answer !== 'granted' ? ' (optional: deploy/rbac/remote-repair.yaml)' : ''}`,
    });
  });
  return lines;
}

async function checkSlack(env: Env, timeoutMs: number): Promise<DoctorLine[]> {
  const subject = 'slack';
  if (!env.SLACK_BOT_TOKEN) return [{ mark: 'FAIL', subject, text: 'SLACK_BOT_TOKEN is not set' }];
  const client = createSlackClient(env.SLACK_BOT_TOKEN, env.SLACK_API_URL, timeoutMs);
  try {
    const auth = await client.auth.test();
    const granted = new Set(auth.response_metadata?.scopes ?? []);
    const missing = BOT_SCOPES.filter((s) => !granted.has(s));
    return [
      {
        mark: 'ok',
        subject,
        text: `auth.test: bot ${auth.user} in workspace ${auth.team} (${auth.team_id})`,
      },
      missing.length === 0
        ? { mark: 'ok', subject, text: `scopes granted: ${BOT_SCOPES.join(', ')}` }
        : {
            mark: 'FAIL',
            subject,
            text: `scopes missing: ${missing.join(', ')} (add them under OAuth & Permissions and reinstall the app)`,
          },
    ];
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error ?? (err as Error).message;
    return [{ mark: 'FAIL', subject, text: `auth.test failed: ${code}` }];
  }
}

async function checkRedis(target: RedisTarget, timeoutMs: number): Promise<DoctorLine[]> {
  const subject = 'redis';
  const lines: DoctorLine[] = [];
  if (target.mode === 'sentinel') lines.push(...(await sentinelTopology(target, timeoutMs)));
  const redis = createRedis(target, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    sentinelRetryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await withTimeout(redis.connect(), timeoutMs);
    const facts = await withTimeout(inspectRedis(redis), timeoutMs);
    const verdict = judgeRedis(facts);
    lines.push({
      mark: verdict.refused.length ? 'FAIL' : 'ok',
      subject,
      text: `${describeTarget(target)}: ${describeFacts(facts)}`,
    });
    for (const r of verdict.refused) lines.push({ mark: 'FAIL', subject, text: r });
    for (const w of verdict.warnings) lines.push({ mark: 'warn', subject, text: w });
  } catch (err) {
    lines.push({
      mark: 'FAIL',
      subject,
      text: `${describeTarget(target)}: not reachable: ${(err as Error).message}`,
    });
  } finally {
    redis.disconnect();
  }
  return lines;
}

/** What each Sentinel says about the master group: who is master, replicas, whether a quorum can fail over. */
async function sentinelTopology(target: RedisTarget, timeoutMs: number): Promise<DoctorLine[]> {
  const { Redis: Client } = await import('ioredis');
  return Promise.all(
    target.nodes.map(async (node): Promise<DoctorLine> => {
      const subject = `sentinel ${node.host}:${node.port}`;
      const client: Redis = new Client({
        host: node.host,
        port: node.port,
        lazyConnect: true,
        connectTimeout: timeoutMs,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        ...(target.sentinelPassword ? { password: target.sentinelPassword } : {}),
      });
      client.on('error', () => {});
      try {
        await withTimeout(client.connect(), timeoutMs);
        const master = (await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', target.name!)) as
          | string[]
          | null;
        if (!master)
          return { mark: 'FAIL', subject, text: `does not monitor a master group "${target.name}"` };
        const replicas = (await client.call('SENTINEL', 'REPLICAS', target.name!)) as unknown[];
        const quorum = String(
          await client.call('SENTINEL', 'CKQUORUM', target.name!).catch((e: Error) => e.message),
        );
        const ok = quorum.startsWith('OK');
        return {
          mark: ok && replicas.length > 0 ? 'ok' : ok ? 'warn' : 'FAIL',
          subject,
          text: `master ${master[0]}:${master[1]}, ${replicas.length} replica${replicas.length === 1 ? '' : 's'}; ${quorum}`,
        };
      } catch (err) {
        return { mark: 'FAIL', subject, text: `not reachable: ${(err as Error).message}` };
      } finally {
        client.disconnect();
      }
    }),
  );
}

/** The report as a table, one check a line. */
export function formatDoctor(lines: readonly DoctorLine[]): string {
  const width = Math.max(...lines.map((l) => l.subject.length));
  return lines.map((l) => `${l.mark.padEnd(4)}  ${l.subject.padEnd(width)}  ${l.text}`).join('\n');
}

export function configProblemLines(err: ConfigError): DoctorLine[] {
  return err.problems.map((text) => ({ mark: 'FAIL' as const, subject: 'config', text }));
}
