import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { registry } from '../../src/observability/metrics.ts';

const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;

describe('deploy/prometheus/alerts.yaml', () => {
  it('passes its promtool unit tests (each alert fires on its case and stays quiet otherwise)', {
    skip: !hasPromtool && 'promtool not installed (Debian package prometheus)',
  }, () => {
    const run = spawnSync('promtool', ['test', 'rules', 'alerts.test.yaml'], {
      cwd: 'deploy/prometheus',
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  });

  it('has the alerts the runbook names, each on a metric meshops exports', async () => {
    const rules = (
      parse(readFileSync('deploy/prometheus/alerts.yaml', 'utf8')) as {
        groups: { rules: { alert: string; expr: string }[] }[];
      }
    ).groups.flatMap((g) => g.rules);
    assert.deepEqual(
      rules.map((r) => r.alert),
      [
        'MeshopsDown',
        'MeshopsQueueBacklogGrowing',
        'MeshopsJobsFailing',
        'MeshopsSlackRateLimited',
        'MeshopsVpnLoss',
        'MeshopsDriftFound',
        'MeshopsApprovalStuck',
      ],
    );
    const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    for (const rule of rules)
      for (const name of rule.expr.match(/meshops_[a-z_]+/g) ?? [])
        assert.ok(
          exported.has(name.replace(/_(count|bucket|sum)$/, '')),
          `${rule.alert}: ${name} is not exported`,
        );
    const runbook = readFileSync('docs/operations.md', 'utf8');
    for (const rule of rules)
      assert.ok(runbook.includes(rule.alert), `docs/operations.md explains ${rule.alert}`);
  });
});
