import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { demoConfigYaml } from '../../src/demo/config.ts';
import { DEMO_CHANNELS, DEMO_USERS, DEMO_WORKSPACE } from '../../src/demo/workspace.ts';

describe('the demo config', () => {
  const yaml = demoConfigYaml([
    {
      name: 'icp',
      role: 'primary',
      kubeconfig: './kube/icp.kubeconfig',
      podCidr: '10.1.0.0/16',
      serviceCidr: '10.0.0.0/24',
    },
    {
      name: 'iks',
      role: 'remote',
      kubeconfig: './kube/iks.kubeconfig',
      podCidr: '172.30.0.0/16',
      serviceCidr: '172.21.0.0/16',
    },
  ]);
  const config = parseConfig(yaml, '/demo/meshops.yaml', '/demo');

  it('is a config meshops accepts, pointing at the kubeconfigs beside it', () => {
    assert.deepEqual(
      config.clusters.map((c) => [c.name, c.role, c.kubeconfig, c.podCidrs, c.serviceCidrs]),
      [
        ['icp', 'primary', '/demo/kube/icp.kubeconfig', ['10.1.0.0/16'], ['10.0.0.0/24']],
        ['iks', 'remote', '/demo/kube/iks.kubeconfig', ['172.30.0.0/16'], ['172.21.0.0/16']],
      ],
    );
  });

  it('makes alice an operator, bob an approver and carol a viewer, as the console says', () => {
    assert.deepEqual(config.access.operators, [DEMO_USERS.alice.id]);
    assert.deepEqual(config.access.approvers, [DEMO_USERS.bob.id]);
    assert.deepEqual(config.access.viewers, [DEMO_USERS.carol.id]);
    assert.deepEqual(
      DEMO_WORKSPACE.users.map((u) => `${u.name}:${u.role}`),
      ['alice:operator', 'bob:approver', 'carol:viewer'],
    );
  });

  it('posts health into #mesh-health every minute, in UTC', () => {
    assert.deepEqual(config.schedules, [
      {
        name: 'health',
        cron: '* * * * *',
        timezone: 'UTC',
        channel: DEMO_CHANNELS.health.id,
        checks: ['status', 'vpn'],
        mode: 'every-run',
      },
    ]);
    assert.deepEqual(
      DEMO_WORKSPACE.channels.map((c) => c.name),
      ['mesh-ops', 'mesh-health'],
    );
  });
});
