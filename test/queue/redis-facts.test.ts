import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startSlackApi } from '../../src/console/slack-api.ts';
import { freePort, redisAnswers } from '../../src/demo/redis.ts';
import { RedisRefusedError } from '../../src/queue/redis-facts.ts';
import { startHarness, unreachableKubeconfig } from '../helpers/harness.ts';
import { waitFor } from '../helpers/wait.ts';

const children: ChildProcess[] = [];
const dirs: string[] = [];

async function redisWith(args: string[]): Promise<string> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'meshops-redis-facts-'));
  dirs.push(dir);
  children.push(
    spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, ...args],
      {
        stdio: 'ignore',
      },
    ),
  );
  const url = `redis://127.0.0.1:${port}`;
  await waitFor('redis-server', () => redisAnswers(url));
  return url;
}

async function refusal(redisUrl: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'meshops-redis-facts-'));
  dirs.push(dir);
  unreachableKubeconfig(dir, 'icp');
  const slack = await startSlackApi();
  try {
    const h = await startHarness({
      slack,
      configYaml: 'clusters: [{name: icp, role: primary, kubeconfig: ./icp.kubeconfig}]',
      configDir: dir,
      redisUrl,
      label: 'facts',
    });
    await h.close();
    return [];
  } catch (err) {
    await slack.close();
    assert.ok(err instanceof RedisRefusedError, String(err));
    return err.problems;
  }
}

describe('start-up checks the Redis it is given', () => {
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('refuses Redis Cluster, saying why and what to use instead', async () => {
    const url = await redisWith(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf']);
    const [problem, ...rest] = await refusal(url);
    assert.deepEqual(rest, []);
    assert.match(
      problem!,
      /^Redis at 127\.0\.0\.1:\d+ \(db 0\): Redis Cluster is not supported: BullMQ and meshops run multi-key scripts that need every key on one shard/,
    );
  });

  it('refuses an eviction policy that would drop approvals', async () => {
    const url = await redisWith(['--maxmemory-policy', 'allkeys-lru']);
    assert.deepEqual(
      (await refusal(url)).map((p) => p.replace(/^Redis at [^:]+:\d+ \(db 0\): /, '')),
      [
        'maxmemory-policy is allkeys-lru: it must be noeviction, or Redis silently drops jobs, pending approvals and locks when memory runs out',
      ],
    );
  });
});
