import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { parseEnv } from '../../src/config/env.ts';
import { parseConfig } from '../../src/config/load.ts';
import { type Meshops, startMeshops } from '../../src/runtime.ts';
import { BOT_TOKEN } from '../helpers/harness.ts';
import { REDIS_URL } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait.ts';
import {
  ALICE,
  auditEntry,
  BOB,
  blocksText,
  configYaml,
  presetSpec,
  startWorld,
  type World,
} from '../mesh/routing/world.ts';

/** Requests in the store by state, for the figure: none may be left "applying". */
async function statesOf(redis: Redis, prefix: string): Promise<Record<string, string>> {
  const keys = (await redis.keys(`${prefix}:approval:ap-*`)).filter((k) => !k.endsWith(':progress'));
  const out: Record<string, string> = {};
  for (const k of keys) out[k.split(':').at(-1)!] = (await redis.hget(k, 'state')) ?? '?';
  return out;
}

describe('an approved change whose worker is killed (kill -9) mid-apply', () => {
  let w: World;
  const redis = new Redis(REDIS_URL);
  let child: ChildProcess | undefined;
  let survivor: Meshops | undefined;
  before(async () => {
    w = await startWorld('apply-killed', { role: 'app' });
  });
  after(async () => {
    child?.kill('SIGKILL');
    await survivor?.stop();
    await w.close();
    redis.disconnect();
  });

  it('is finished by the re-run of its job on another worker: requests left "applying" 0', async (t) => {
    // Two VirtualServices to change, so the kill falls between the first write and the second.
    await w.editVs('icp', 'reviews', presetSpec('reviews-v3'));
    await w.editVs('icp', 'details', {
      hosts: ['details'],
      http: [{ route: [{ destination: { host: 'details', subset: 'v2' } }] }],
    });
    const yaml = configYaml(w.sim);
    const env = {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: w.h.slack.url,
      REDIS_URL,
      REDIS_PREFIX: w.h.prefix,
      PORT: '0',
      OPS_PORT: '0',
      LOG_LEVEL: 'warn',
    };
    const worker = spawn(
      process.execPath,
      ['test/helpers/worker-child.ts', JSON.stringify({ env, configYaml: yaml, dir: w.dir })],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    child = worker;
    let out = '';
    worker.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<void>((resolve) => worker.on('exit', () => resolve()));
    // Generous: a child process starts slowly on a busy machine (the suite runs four files at once).
    await waitFor('the child worker', () => out.includes('worker-ready'), 90_000);

    await w.h.command('route apply all-v1', { user: ALICE, channel: 'C0KILLED' });
    const { ts, id } = await w.approval('C0KILLED');
    // The instant the first write is stored, before its answer is even sent, the worker dies.
    let armed = true;
    const killedAfter: string[] = [];
    w.sim.clusters.get('icp')!.state.store.onChange((event) => {
      if (!armed || event.type !== 'MODIFIED' || !event.key.includes('virtualservices')) return;
      armed = false;
      killedAfter.push(event.object.metadata.name);
      worker.kill('SIGKILL');
    });
    await w.approve('C0KILLED', BOB);
    await exited;
    assert.equal(killedAfter.length, 1, 'the worker was killed mid-apply');
    assert.match(w.message('C0KILLED', ts).text, /applying now/);
    assert.deepEqual(Object.values(await statesOf(redis, w.h.prefix)), ['applying']);

    const restarted = performance.now();
    survivor = await startMeshops({
      role: 'worker',
      env: parseEnv(env, 'worker'),
      config: parseConfig(yaml, join(w.dir, 'meshops.yaml'), w.dir),
      host: '127.0.0.1',
      stalledIntervalMs: 1000,
    });
    await waitFor(
      'the apply concluded',
      () => /\*(Applied|Failed)\*/.test(w.message('C0KILLED', ts).text),
      30_000,
    );
    // Reported, never asserted: the figure in docs/benchmarks.md (BullMQ's stall detection sets most of it).
    t.diagnostic(
      `concluded ${((performance.now() - restarted) / 1000).toFixed(1)} s after the new worker started`,
    );
    const final = w.message('C0KILLED', ts).text;
    assert.match(
      final,
      /\*Applied\*.*all-v1 is live on icp \(2 VirtualServices\) \(resumed after the worker applying it stopped\)/,
    );
    assert.deepEqual((await w.vs('icp', 'reviews'))?.spec, presetSpec('all-v1'));
    assert.deepEqual((await w.vs('icp', 'details'))?.spec, presetSpec('all-v1', 'details'));
    const reply = blocksText((await waitFor('the thread reply', () => w.h.thread('C0KILLED', ts)[0]))!);
    assert.match(
      reply,
      new RegExp(
        `default/${killedAfter[0]}: resourceVersion \\d+ → \\d+ \\(written before the worker stopped\\)`,
      ),
    );
    await auditEntry(w, { action: 'applied', request: id });
    assert.deepEqual(await statesOf(redis, w.h.prefix), { [id]: 'applied' }, 'requests left "applying": 0');
    assert.deepEqual(await redis.keys(`${w.h.prefix}:lock:*`), [], 'the lock is released');
    const progress = await redis.lrange(`${w.h.prefix}:approval:${id}:progress`, 0, -1);
    assert.equal(progress.length, 2, 'both writes are recorded in Redis');
  });
});
