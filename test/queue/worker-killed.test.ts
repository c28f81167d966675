import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { parseEnv } from '../../src/config/env.ts';
import { parseConfig } from '../../src/config/load.ts';
import { startMeshops } from '../../src/runtime.ts';
import { BOT_TOKEN, startHarness, unreachableKubeconfig } from '../helpers/harness.ts';
import { REDIS_URL } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';

describe('a worker killed mid-job', () => {
  it('leaves the job to another worker after stall detection, which finishes it', async () => {
    // An API server that accepts connections and never answers: the job runs until its cluster timeout.
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'meshops-kill-'));
    unreachableKubeconfig(dir, 'icp', port);
    const configYaml =
      'clusters: [{name: icp, role: primary, kubeconfig: ./icp.kubeconfig}]\nchecks: {clusterTimeout: 4s}\n';
    const h = await startHarness({ configDir: dir, label: 'kill', role: 'app', configYaml });
    const env = {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: h.slack.url,
      REDIS_URL,
      REDIS_PREFIX: h.prefix,
      PORT: '0',
      OPS_PORT: '0',
      LOG_LEVEL: 'warn',
    };
    const child = spawn(
      process.execPath,
      ['test/helpers/worker-child.ts', JSON.stringify({ env, configYaml, dir })],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    let survivor: Awaited<ReturnType<typeof startMeshops>> | undefined;
    try {
      await waitFor('the child worker', () => out.includes('worker-ready'), 20_000);
      await h.command('clusters', { channel: 'C0KILL' });
      const first = await waitFor('the child to start the job', () =>
        h.parents('C0KILL').find((m) => m.text.includes('running')),
      );
      // Killed once the parent's ts is recorded: the job is mid-check, its parent known to whoever takes over.
      const redis = new Redis(REDIS_URL);
      await waitFor('the parent ts recorded', async () => {
        const [key] = await redis.keys(`${h.prefix}:run:*:parent`);
        return key !== undefined && (await redis.get(key)) === first.ts;
      }).finally(() => redis.disconnect());
      child.kill('SIGKILL');

      survivor = await startMeshops({
        role: 'worker',
        env: parseEnv(env, 'worker'),
        config: parseConfig(configYaml, join(dir, 'meshops.yaml'), dir),
        host: '127.0.0.1',
        stalledIntervalMs: 1000,
      });
      const final = await h.waitForVerdict('C0KILL', '/mesh clusters', 30_000);
      assert.match(final.text, /\*down\*/);
      assert.equal(final.ts, first.ts, 'the survivor edits the parent it found, posting no second one');
      assert.equal(h.parents('C0KILL').length, 1);
      const replies = h.thread('C0KILL', final.ts);
      assert.equal(replies.length, 1, 'one reply: the killed worker never got to post');
      assert.match(JSON.stringify(replies[0]!.blocks), /not reachable: timed out after 4000 ms/);
    } finally {
      child.kill('SIGKILL');
      await survivor?.stop();
      await h.close();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});
