import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { type SlackApiStub, startSlackApi } from '../../src/console/slack-api.ts';
import { BOT_TOKEN, SIGNING_SECRET, sendCommand, unreachableKubeconfig } from '../helpers/harness.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';

/** meshops (app and worker) in a child process, as `npm start` runs it; resolves with its URL once it serves. */
async function startChild(settings: object): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['test/helpers/worker-child.ts', JSON.stringify(settings)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const url = await waitFor('meshops to start', () => /worker-ready (\S+)/.exec(out)?.[1], 30_000);
  return { child, url };
}

describe('an acknowledged command survives kill -9 of the process', () => {
  let slack: SlackApiStub;
  const prefix = uniquePrefix('durable');
  const sockets: Socket[] = [];
  // Cluster API servers that accept and never answer: jobs are still running when the process dies.
  const silent = createServer((s) => sockets.push(s));
  const children: ChildProcess[] = [];
  before(async () => {
    slack = await startSlackApi();
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const s of sockets) s.destroy();
    silent.close();
    await slack.close();
    await dropPrefix(prefix);
  });

  it('answers every acked command after a restart: each requester named in a finished thread, no stray parent', async () => {
    const port = (silent.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'meshops-durable-'));
    unreachableKubeconfig(dir, 'icp', port);
    unreachableKubeconfig(dir, 'iks', port);
    const configYaml = `clusters:
  - {name: icp, role: primary, kubeconfig: ./icp.kubeconfig}
  - {name: iks, role: remote, kubeconfig: ./iks.kubeconfig}
checks: {clusterTimeout: 2s}
`;
    const settings = {
      role: 'all',
      configYaml,
      dir,
      env: {
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_API_URL: slack.url,
        REDIS_URL,
        REDIS_PREFIX: prefix,
        PORT: '0',
        LOG_LEVEL: 'warn',
      },
    };
    const first = await startChild(settings);
    children.push(first.child);

    // 12 commands from 12 users: reads that share runs per channel, and per-cluster ones that do not.
    const requests = Array.from({ length: 12 }, (_, i) => ({
      user: `U0REQ${String(i).padStart(2, '0')}`,
      channel: `C0DUR${i % 3}`,
      text: i % 4 === 3 ? 'status icp' : 'clusters',
    }));
    const acks = await Promise.all(
      requests.map((r, i) => sendCommand(first.url, { ...r, responseUrl: slack.responseUrl(`dur${i}`) })),
    );
    assert.ok(acks.every((a) => a.status === 200));
    assert.ok(
      acks.every((a) => !/Not queued/.test(a.body)),
      'every command was acknowledged as queued',
    );
    await new Promise((r) => setTimeout(r, 200));
    // Killed with every run in flight (its clusters never answer) but no parent post in flight: a worker killed
    // between Slack's answer and recording the ts leaves a parent its retry cannot know (see src/queue/parent.ts).
    const redis = new Redis(REDIS_URL);
    await waitFor('every posted parent recorded', async () => {
      const keys = await redis.keys(`${prefix}:run:*:parent`);
      const values = await Promise.all(keys.map((k) => redis.get(k)));
      const posted = slack.messages.filter((m) => m.channel.startsWith('C0DUR') && !m.thread_ts).length;
      return keys.length === posted && values.every((v) => v !== 'posting');
    }).finally(() => redis.disconnect());
    first.child.kill('SIGKILL');

    const second = await startChild(settings);
    children.push(second.child);
    const final = (m: { text: string }) => !/— (:hourglass_flowing_sand: running)$/.test(m.text);
    for (const r of requests) {
      await waitFor(
        `an answered thread naming ${r.user} in ${r.channel}`,
        () =>
          slack.messages.some(
            (m) =>
              m.channel === r.channel &&
              !m.thread_ts &&
              final(m) &&
              m.text.includes(`<@${r.user}>`) &&
              m.text.includes(`\`/mesh ${r.text}\``) &&
              slack.messages.some((reply) => reply.thread_ts === m.ts),
          ),
        60_000,
      );
    }
    const parents = slack.messages.filter((m) => m.channel.startsWith('C0DUR') && !m.thread_ts);
    assert.deepEqual(
      parents.filter((m) => !final(m)).map((m) => m.text),
      [],
      'no parent was left behind by a second post',
    );
  });
});
