import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { healthOfFindings, healthRank, worstHealth } from '../../src/mesh/health.ts';

describe('the health roll-up every check shares', () => {
  it('is down on a critical finding, degraded on a warning, and info changes nothing', () => {
    assert.equal(healthOfFindings([]), 'healthy');
    assert.equal(healthOfFindings([{ severity: 'info' }]), 'healthy');
    assert.equal(healthOfFindings([{ severity: 'info' }, { severity: 'warning' }]), 'degraded');
    assert.equal(healthOfFindings([{ severity: 'warning' }, { severity: 'critical' }]), 'down');
  });

  it('ranks failed (nobody could look) between degraded and down', () => {
    assert.ok(healthRank('degraded') < healthRank('failed'));
    assert.ok(healthRank('failed') < healthRank('down'));
    assert.equal(worstHealth(['healthy', 'failed', 'degraded']), 'failed');
    assert.equal(worstHealth(['failed', 'down']), 'down');
    assert.equal(worstHealth([]), 'healthy');
  });
});
