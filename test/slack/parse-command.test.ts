import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMAND_SPECS, helpText, type ParseContext, parseCommand } from '../../src/slack/parse-command.ts';

const ctx: ParseContext = {
  clusters: [
    { name: 'icp', role: 'primary' },
    { name: 'iks', role: 'remote' },
  ],
  presets: ['all-v1', 'reviews-v3'],
  schedules: ['health'],
};

const ok = (text: string) => {
  const r = parseCommand(text, ctx);
  assert.ok(r.ok, `expected "${text}" to parse: ${JSON.stringify(r)}`);
  return r.command;
};
const error = (text: string) => {
  const r = parseCommand(text, ctx);
  assert.ok(!r.ok && !r.help, `expected "${text}" to be refused`);
  return r.error;
};

describe('parseCommand', () => {
  it('parses every subcommand into its typed command', () => {
    assert.deepEqual(ok('clusters'), { kind: 'clusters' });
    assert.deepEqual(ok('status'), { kind: 'status' });
    assert.deepEqual(ok('  STATUS   iks '), { kind: 'status', cluster: 'iks' });
    assert.deepEqual(ok('ping iks 10.1.0.23'), {
      kind: 'ping',
      from: 'iks',
      target: { type: 'ip', ip: '10.1.0.23' },
    });
    assert.deepEqual(ok('ping icp iks'), {
      kind: 'ping',
      from: 'icp',
      target: { type: 'cluster', name: 'iks' },
    });
    assert.deepEqual(ok('route apply reviews-v3'), { kind: 'route-apply', preset: 'reviews-v3' });
    assert.deepEqual(ok('route show reviews'), { kind: 'route-show', virtualService: 'reviews' });
    assert.deepEqual(ok('audit 5'), { kind: 'audit', limit: 5 });
    assert.deepEqual(ok('audit'), { kind: 'audit', limit: 10 });
    assert.deepEqual(ok('schedule pause health'), { kind: 'schedule-pause', name: 'health' });
    assert.deepEqual(ok('repair drift iks'), { kind: 'repair-drift', remote: 'iks' });
  });

  it('treats empty text and help alike', () => {
    for (const t of ['', '  ', 'help', '--help'])
      assert.deepEqual(parseCommand(t, ctx), { ok: false, help: true });
  });

  it('lists every subcommand in the help text', () => {
    const text = helpText();
    for (const spec of COMMAND_SPECS) assert.ok(text.includes(spec.usage), spec.usage);
  });

  it('refuses shell metacharacters, flags and hostnames before anything runs', () => {
    for (const bad of ['10.1.0.5;reboot', '$(id)', '`id`', '-f', '10.1.0.5|nc', "'10.1.0.5'", '&&', 'a>b']) {
      assert.match(error(`ping iks ${bad}`), /is not allowed/, bad);
    }
    assert.match(error('ping iks 10.1.0.5&amp;reboot'), /is not allowed/, 'Slack-escaped & is judged as &');
    assert.match(
      error('ping iks productpage.default.svc'),
      /target must be a cluster name or a plain IPv4 address/,
    );
    assert.match(error('ping iks 10.1.0.256'), /not a valid IPv4 address/);
    assert.match(error('ping iks 010.1.0.5'), /not a valid IPv4 address/);
  });

  it('names what is wrong and what exists', () => {
    assert.match(error('status nosuch'), /unknown cluster "nosuch"; configured: icp, iks/);
    assert.match(error('route apply nosuch'), /unknown preset "nosuch"; available: all-v1, reviews-v3/);
    assert.match(error('route apply'), /a preset name is required; available: all-v1, reviews-v3/);
    assert.match(error('route'), /"route" needs one of: list, show, diff, apply, rollback/);
    assert.match(error('route delete'), /unknown route action "delete"/);
    assert.match(error('repair drift icp'), /unknown remote cluster "icp"; configured: iks/);
    assert.match(error('ping icp icp'), /same cluster/);
    assert.match(error('audit 0'), /from 1 to 50/);
    assert.match(error('clusters extra'), /unexpected argument "extra"/);
    assert.match(error('schedule run nightly'), /unknown schedule "nightly"; available: health/);
    assert.match(error('frobnicate'), /unknown subcommand "frobnicate"/);
  });
});
