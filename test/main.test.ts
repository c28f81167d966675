import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startSlackApi } from '../src/console/slack-api.ts';
import { freePort, unreachableKubeconfig } from './helpers/harness.ts';
import { dropPrefix, REDIS_URL, uniquePrefix } from './helpers/redis.ts';
import { waitFor } from './helpers/wait.ts';

describe('the meshops process', () => {
  it('serves /healthz and /readyz, then exits 0 on SIGTERM after closing Redis', async () => {
    const slack = await startSlackApi();
    const dir = mkdtempSync(join(tmpdir(), 'meshops-proc-'));
    unreachableKubeconfig(dir, 'icp');
    writeFileSync(
      join(dir, 'meshops.yaml'),
      'clusters: [{name: icp, role: primary, kubeconfig: ./icp.kubeconfig}]\n',
    );
    const port = await freePort();
    const opsPort = await freePort();
    const prefix = uniquePrefix('proc');
    const child = spawn(process.execPath, ['src/main.ts', 'all'], {
      env: {
        PATH: process.env.PATH,
        SLACK_SIGNING_SECRET: 'proc-test-signing-secret',
        SLACK_BOT_TOKEN: 'xoxb-proc-test',
        SLACK_API_URL: slack.url,
        REDIS_URL,
        REDIS_PREFIX: prefix,
        PORT: String(port),
        OPS_PORT: String(opsPort),
        MESHOPS_CONFIG: join(dir, 'meshops.yaml'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor('the app to listen', () => out.includes('Slack app listening'), 20_000);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(health.status, 200, 'the public port answers a load balancer');
      assert.deepEqual(await health.json(), { ok: true }, 'with no details');
      // Ops routes on the Slack port: 0. They name clusters and health, so only OPS_PORT serves them.
      for (const path of ['/readyz', '/metrics'])
        assert.equal((await fetch(`http://127.0.0.1:${port}${path}`)).status, 404, `${path} on PORT`);
      const ready = await fetch(`http://127.0.0.1:${opsPort}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { ready: true, redis: 'ok' });
      assert.match(await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text(), /meshops_/);
      assert.equal((await fetch(`http://127.0.0.1:${opsPort}/healthz`)).status, 200);
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.match(out, /"msg":"shutting down"/);
      assert.match(out, /"msg":"stopped"/);
    } finally {
      child.kill('SIGKILL');
      await slack.close();
      await dropPrefix(prefix);
    }
  });
});
