import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { onPath, redisAnswers } from '../../src/demo/redis.ts';
import { REFUSED_PORT } from '../helpers/harness.ts';
import { waitFor } from '../helpers/wait.ts';

const MAIN = new URL('../../src/demo/main.ts', import.meta.url).pathname;

interface Run {
  child: ChildProcess;
  out: () => string;
  exit: Promise<number | null>;
}

function run(args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, DEMO_DIR: mkdtempSync(join(tmpdir(), 'meshops-demo-run-')), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, exit };
}

const answers = (port: number) => redisAnswers(`redis://127.0.0.1:${port}`);

describe('npm run demo as a process', () => {
  it('starts everything, serves the console, and stops it all on Ctrl-C', async (t) => {
    if (!onPath('redis-server'))
      return t.skip('redis-server is not installed: the demo would ask for a Redis');
    // A Redis URL nothing answers: the demo starts (and must stop) its own redis-server.
    const demo = run(['--port', '0'], { REDIS_URL: `redis://127.0.0.1:${REFUSED_PORT}` });
    try {
      const ready = await waitFor(
        'the demo to say it is ready',
        () => /Ready in .*\n\n\s+(http:\S+)/.exec(demo.out()) ?? undefined,
        60_000,
      );
      const url = ready[1]!;
      const page = await fetch(url);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /meshops console/);
      const redisPort = Number(/private redis-server on 127\.0\.0\.1:(\d+)/.exec(demo.out())?.[1]);
      assert.ok(await answers(redisPort), 'the private Redis answers while the demo runs');
      const clusterUrls = [...demo.out().matchAll(/\((primary|remote)\) (https:\/\/\S+?)(,|\n)/g)].map(
        (m) => m[2]!,
      );
      assert.equal(clusterUrls.length, 2, demo.out());

      demo.child.kill('SIGINT');
      assert.equal(await demo.exit, 0, demo.out());
      assert.match(demo.out(), /stopped\./);
      assert.equal(await answers(redisPort), false, 'the private Redis is gone');
      await assert.rejects(fetch(url), 'the console is gone');
      for (const clusterUrl of clusterUrls) {
        const port = Number(new URL(clusterUrl).port);
        const free = await new Promise<boolean>((resolve) => {
          const s = createServer();
          s.once('error', () => resolve(false));
          s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
        });
        assert.ok(free, `the simulated cluster on ${port} is gone`);
      }
    } finally {
      demo.child.kill('SIGKILL');
    }
  });

  it('says which port is taken and how to pick another', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const demo = run(['--port', String(port)], {});
      assert.equal(await demo.exit, 1, demo.out());
      assert.match(demo.out(), new RegExp(`port ${port} is in use: run npm run demo -- --port ${port + 1}`));
    } finally {
      busy.close();
    }
  });

  it('refuses a port that is not a number', async () => {
    const demo = run(['--port', 'http'], {});
    assert.equal(await demo.exit, 1);
    assert.match(demo.out(), /port "http" is not a port number/);
  });
});
