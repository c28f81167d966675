import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EnvError, parseEnv } from '../../src/config/env.ts';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/load.ts';

const BASE = `
clusters:
  - name: icp
    role: primary
    kubeconfig: ./kube/icp.yaml
    context: icp
  - name: iks
    role: remote
    kubeconfig: ./kube/iks.yaml
routing:
  namespace: default
  presets: ./presets
access:
  operators: [U0123ABC]
  approvers: [U0456DEF]
  approvalTtl: 30m
schedules:
  - name: health
    cron: "0 9 * * 1-5"
    timezone: Europe/Berlin
    channel: C0789GHI
`;

function problems(yaml: string): string[] {
  try {
    parseConfig(yaml, 'meshops.yaml', '/etc/meshops');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('config file', () => {
  it("parses the issue's example into typed values with paths resolved against the file's folder", () => {
    const config = parseConfig(BASE, 'meshops.yaml', '/etc/meshops');
    assert.equal(config.clusters[0]!.kubeconfig, '/etc/meshops/kube/icp.yaml');
    assert.equal(config.routing.presets, '/etc/meshops/presets');
    assert.equal(config.access.approvalTtl, 30 * 60_000);
    assert.deepEqual(config.schedules[0]!.checks, ['status', 'vpn']);
    assert.equal(config.schedules[0]!.mode, 'digest');
    assert.equal(config.checks.clusterTimeout, 5000);
  });

  it('accepts the shipped example config', () => {
    const text = readFileSync(new URL('../../deploy/meshops.example.yaml', import.meta.url), 'utf8');
    const config = parseConfig(text, 'deploy/meshops.example.yaml', '/etc/meshops');
    assert.deepEqual(
      config.clusters.map((c) => c.name),
      ['icp', 'iks'],
    );
    assert.equal(config.drift.autoRepair, 'off');
  });

  it('rejects an unknown key with a did-you-mean', () => {
    const [line] = problems(BASE.replace('approvers:', 'aprovers:'));
    assert.match(line!, /^meshops\.yaml: access\.aprovers: unknown key \(did you mean "approvers"\?\)/);
  });

  it('requires exactly one primary', () => {
    assert.match(
      problems(BASE.replace('role: remote', 'role: primary')).join('\n'),
      /exactly one cluster must have role: primary \(found 2: icp, iks\)/,
    );
    assert.match(problems(BASE.replace('role: primary', 'role: remote')).join('\n'), /found 0/);
  });

  it('rejects duplicate and untypable cluster names', () => {
    assert.match(
      problems(BASE.replace('name: iks', 'name: icp')).join('\n'),
      /clusters\.1\.name: "icp" is used twice/,
    );
    assert.match(
      problems(BASE.replace('name: iks', 'name: "IKS prod"')).join('\n'),
      /clusters\.1\.name: must be lowercase/,
    );
  });

  it('names a bad cron and an unknown time zone with the schedule', () => {
    assert.match(
      problems(BASE.replace('"0 9 * * 1-5"', '"0 25 * * *"')).join('\n'),
      /schedules\.0\.cron: schedule "health": invalid cron "0 25 \* \* \*"/,
    );
    assert.match(
      problems(BASE.replace('Europe/Berlin', 'Mars/Olympus')).join('\n'),
      /schedules\.0\.timezone: schedule "health": unknown time zone "Mars\/Olympus"/,
    );
    assert.match(
      problems(BASE.replace('    timezone: Europe/Berlin\n', '')).join('\n'),
      /schedules\.0\.timezone: is required \(no hidden local time\)/,
    );
  });

  it('rejects display names where Slack IDs are needed, and bad durations', () => {
    assert.match(
      problems(BASE.replace('[U0123ABC]', '["@alice"]')).join('\n'),
      /access\.operators\.0: must be a Slack user ID/,
    );
    assert.match(
      problems(BASE.replace('approvalTtl: 30m', 'approvalTtl: soon')).join('\n'),
      /access\.approvalTtl: "soon" is not a duration/,
    );
  });

  it('fills routing.verify with its documented defaults and reads 5% and 0.05 alike', () => {
    const config = parseConfig(BASE, 'meshops.yaml', '/etc/meshops');
    assert.deepEqual(config.routing.verify, {
      window: 300_000,
      interval: 30_000,
      maxErrorRate: 0.05,
      maxLatencyRatio: 2,
      minRequests: 20,
      revert: 'auto',
    });
    const verify = (lines: string) =>
      parseConfig(
        BASE.replace('  presets: ./presets', `  presets: ./presets\n  verify:\n${lines}`),
        'm.yaml',
        '/etc',
      ).routing.verify;
    assert.equal(verify('    maxErrorRate: "2.5%"').maxErrorRate, 0.025);
    assert.equal(verify('    maxErrorRate: 0.1').maxErrorRate, 0.1);
    assert.equal(verify('    revert: propose\n    window: 10m').window, 600_000);
  });

  it('history: 2000 runs per check kind for 7 days by default; a bound under a day is refused', () => {
    assert.deepEqual(parseConfig(BASE, 'meshops.yaml', '/etc/meshops').history, {
      maxEntries: 2000,
      maxAge: 7 * 86_400_000,
    });
    assert.deepEqual(
      parseConfig(`${BASE}history:\n  maxEntries: 500\n  maxAge: 2d\n`, 'm.yaml', '/etc').history,
      { maxEntries: 500, maxAge: 2 * 86_400_000 },
    );
    const wrong = problems(`${BASE}history:\n  maxEntries: 5\n  maxAge: 12h\n  keep: all\n`).join('\n');
    assert.match(wrong, /history\.maxEntries: .*10/);
    assert.match(wrong, /history\.maxAge: must be at least 1d/);
    assert.match(wrong, /history.*keep/);
    assert.match(
      problems(BASE.replace('channel: C0789GHI', 'channel: C0789GHI\n    checks: [status, certs]')).join(
        '\n',
      ),
      /schedules\.0\.checks\.1/,
    );
    assert.deepEqual(
      parseConfig(
        BASE.replace('channel: C0789GHI', 'channel: C0789GHI\n    checks: [proxies]'),
        'm.yaml',
        '/e',
      ).schedules[0]?.checks,
      ['proxies'],
    );
  });

  it('refuses an ambiguous error rate, an unknown revert mode, an interval longer than the window and a bad Prometheus URL', () => {
    const bad = (lines: string) =>
      problems(BASE.replace('  presets: ./presets', `  presets: ./presets\n  verify:\n${lines}`)).join('\n');
    assert.match(
      bad('    maxErrorRate: 5'),
      /routing\.verify\.maxErrorRate: must be a percentage such as "5%"/,
    );
    assert.match(bad('    revert: yes'), /routing\.verify\.revert: must be auto, propose or off/);
    assert.match(
      bad('    window: 1m\n    interval: 2m'),
      /routing\.verify\.interval: must not be longer than window/,
    );
    assert.match(bad('    maxLatencyRatio: 0.5'), /routing\.verify\.maxLatencyRatio: must be above 1/);
    assert.match(
      problems(BASE.replace('    context: icp', '    context: icp\n    prometheus: "ftp://x"')).join('\n'),
      /clusters\.0\.prometheus: must be an http\(s\) URL/,
    );
  });

  it('reports every problem at once, one per line', () => {
    const all = problems(
      BASE.replace('role: remote', 'role: primary')
        .replace('aprovers', 'x')
        .replace('Europe/Berlin', 'Nowhere/Land'),
    );
    assert.ok(all.length >= 2);
  });

  it('says what is wrong with YAML that does not parse, and with a missing file', () => {
    assert.match(problems('clusters: [').join('\n'), /not valid YAML/);
    assert.throws(
      () => loadConfig('/nonexistent/meshops.yaml'),
      /MESHOPS_CONFIG: \/nonexistent\/meshops\.yaml does not exist/,
    );
  });
});

describe('environment', () => {
  const good = { SLACK_SIGNING_SECRET: 'a-signing-secret', SLACK_BOT_TOKEN: 'xoxb-1-2-3' };

  it('applies the documented defaults', () => {
    const env = parseEnv(good, 'all');
    assert.equal(env.REDIS_URL, 'redis://127.0.0.1:6379');
    assert.equal(env.PORT, 3000);
    assert.equal(env.MESHOPS_CONFIG, './meshops.yaml');
    assert.equal(env.SLACK_API_URL, 'https://slack.com/api/');
    assert.equal(env.LOG_LEVEL, 'info');
  });

  it('names each missing or invalid variable without echoing secret values', () => {
    try {
      parseEnv(
        {
          SLACK_BOT_TOKEN: 'xoxp-user-token-value',
          PORT: 'eighty',
          REDIS_URL: 'http://x',
          LOG_LEVEL: 'loud',
        },
        'all',
      );
      assert.fail('expected EnvError');
    } catch (err) {
      assert.ok(err instanceof EnvError);
      const text = err.problems.join('\n');
      assert.match(text, /SLACK_BOT_TOKEN: must be a bot token starting with xoxb-/);
      assert.match(text, /SLACK_SIGNING_SECRET: is required/);
      assert.match(text, /PORT: /);
      assert.match(text, /REDIS_URL: must use redis:\/\//);
      assert.match(text, /LOG_LEVEL: must be one of/);
      assert.doesNotMatch(text, /xoxp-user-token-value/);
    }
  });

  it('lets a worker start without the signing secret', () => {
    assert.doesNotThrow(() => parseEnv({ SLACK_BOT_TOKEN: 'xoxb-1-2-3' }, 'worker'));
  });

  it('honours a db index in REDIS_URL and rejects a bad path', () => {
    assert.equal(
      parseEnv({ ...good, REDIS_URL: 'redis://127.0.0.1:6379/5' }, 'all').REDIS_URL,
      'redis://127.0.0.1:6379/5',
    );
    assert.throws(
      () => parseEnv({ ...good, REDIS_URL: 'redis://127.0.0.1:6379/x' }, 'all'),
      /database index/,
    );
  });
});

describe('start-up with bad settings', () => {
  it('exits non-zero with one line per problem, never echoing a secret', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshops-cfg-'));
    const file = join(dir, 'meshops.yaml');
    writeFileSync(file, BASE.replace('aprovers', 'x').replace('role: remote', 'role: primary'));
    const result = spawnSync(process.execPath, ['src/main.ts', 'all'], {
      env: {
        PATH: process.env.PATH,
        SLACK_SIGNING_SECRET: 'super-secret-signing-value',
        SLACK_BOT_TOKEN: 'xoxb-1-2-3',
        MESHOPS_CONFIG: file,
        PORT: '0',
        OPS_PORT: '0',
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /meshops cannot start:/);
    assert.match(result.stderr, /exactly one cluster must have role: primary/);
    assert.doesNotMatch(result.stderr + result.stdout, /super-secret-signing-value/);
  });

  it('refuses an unknown role', () => {
    const result = spawnSync(process.execPath, ['src/main.ts', 'everything'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /unknown role "everything": use one of app, worker, all/);
  });
});
