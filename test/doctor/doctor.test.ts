import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.ts';
import { type SlackApiStub, startSlackApi } from '../../src/console/slack-api.ts';
import { doctorCli } from '../../src/doctor/main.ts';
import { describePermission, neededPermissions } from '../../src/doctor/permissions-needed.ts';
import { RbacPolicy } from '../../src/sim/api/rbac.ts';
import { type SimMesh, shippedRbac, startSimMesh } from '../../src/sim/index.ts';
import { BOT_TOKEN, SIGNING_SECRET } from '../helpers/harness.ts';
import { seedClustersYaml } from '../helpers/kube.ts';
import { REDIS_URL } from '../helpers/redis.ts';

interface RbacDoc {
  kind: string;
  metadata: { name: string };
  rules?: { verbs: string[] }[];
}

/** What an installer applies, per deploy/rbac's headers, as documents a test may edit before applying. */
const installed = () => ({
  icp: shippedRbac('primary').flatMap((t) => parseAllDocuments(t).map((d) => d.toJS() as RbacDoc)),
  iks: shippedRbac('remote').flatMap((t) => parseAllDocuments(t).map((d) => d.toJS() as RbacDoc)),
});
const asYaml = (docs: Record<'icp' | 'iks', RbacDoc[]>) => ({
  icp: docs.icp.filter(Boolean).map((d) => stringify(d)),
  iks: docs.iks.filter(Boolean).map((d) => stringify(d)),
});

async function doctor(
  sim: SimMesh,
  slack: SlackApiStub,
  dir: string,
): Promise<{ code: number; out: string }> {
  const configPath = join(dir, 'meshops.yaml');
  writeFileSync(configPath, seedClustersYaml(sim));
  let out = '';
  const code = await doctorCli(
    {
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: slack.url,
      REDIS_URL,
      MESHOPS_CONFIG: configPath,
    },
    (text) => {
      out += text;
    },
  );
  return { code, out };
}

describe('meshops doctor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshops-doctor-'));
  let slack: SlackApiStub;
  before(async () => {
    slack = await startSlackApi();
  });
  after(() => slack.close());

  it('passes against clusters with deploy/rbac applied, Slack with the manifest scopes and a usable Redis', async () => {
    const sim = await startSimMesh({ dir: join(dir, 'full'), rbac: asYaml(installed()) });
    try {
      const { code, out } = await doctor(sim, slack, dir);
      assert.equal(code, 0, out);
      assert.match(out, /^ok {4}cluster icp +API server answers \(Kubernetes v1\.\d+/m);
      assert.match(
        out,
        /^ok {4}cluster icp +granted +update virtualservices\.networking\.istio\.io in default — route apply, rollback and revert$/m,
      );
      assert.match(
        out,
        /^ok {4}slack +scopes granted: commands, chat:write, files:write, usergroups:read, users:read$/m,
      );
      assert.match(out, /^ok {4}redis +127\.0\.0\.1:6379 \(db 0\): Redis \d+\.\d+\.\d+, master/m);
      assert.match(out, /meshops doctor: all checks passed/);
    } finally {
      await sim.close();
    }
  });

  it('names exactly the permission a Role lacks, and exits non-zero', async () => {
    const rbac = installed();
    const routing = rbac.icp.find((o) => o.kind === 'Role' && o.metadata.name === 'meshops-routing')!;
    routing.rules![0]!.verbs = routing.rules![0]!.verbs.filter((v: string) => v !== 'update');
    const sim = await startSimMesh({ dir: join(dir, 'missing'), rbac: asYaml(rbac) });
    slack.scopes.delete('usergroups:read');
    try {
      const { code, out } = await doctor(sim, slack, dir);
      assert.equal(code, 1);
      const failed = out
        .split('\n')
        .filter((l) => l.startsWith('FAIL'))
        .map((l) => l.replace(/ {2,}/g, '  '));
      assert.deepEqual(failed, [
        'FAIL  cluster icp  missing  update virtualservices.networking.istio.io in default — route apply, rollback and revert',
        'FAIL  slack  scopes missing: usergroups:read (add them under OAuth & Permissions and reinstall the app)',
      ]);
      assert.match(out, /meshops doctor: 2 check\(s\) failed/);
    } finally {
      slack.scopes.add('usergroups:read');
      await sim.close();
    }
  });
});

describe('the permissions meshops needs (src/doctor/permissions-needed.ts)', () => {
  it('are all granted by deploy/rbac, on the primary and on a remote', async () => {
    const sim = await startSimMesh({ dir: mkdtempSync(join(tmpdir(), 'meshops-perms-')) });
    try {
      const config = parseConfig(seedClustersYaml(sim), '/x/meshops.yaml', '/x');
      const policy = {
        icp: RbacPolicy.fromYaml(shippedRbac('primary')),
        iks: RbacPolicy.fromYaml(shippedRbac('remote')),
      };
      const user = {
        user: 'system:serviceaccount:meshops-access:meshops',
        groups: ['system:serviceaccounts', 'system:authenticated'],
      };
      for (const cluster of config.clusters) {
        const denied = neededPermissions(config, cluster)
          .filter((p) => !policy[cluster.name as 'icp' | 'iks'].allows(user, p))
          .map(describePermission);
        assert.deepEqual(denied, [], `${cluster.name}: deploy/rbac grants everything meshops needs`);
      }
    } finally {
      await sim.close();
    }
  });
});

describe('the Slack scopes meshops needs', () => {
  it('are exactly what both app manifests ask for', async () => {
    const { BOT_SCOPES } = await import('../../src/slack/scopes.ts');
    const { parse } = await import('yaml');
    for (const file of ['slack-app-manifest.yaml', 'slack-app-manifest.socket-mode.yaml']) {
      const manifest = parse(readFileSync(`deploy/${file}`, 'utf8')) as {
        oauth_config: { scopes: { bot: string[] } };
      };
      assert.deepEqual([...manifest.oauth_config.scopes.bot].sort(), [...BOT_SCOPES].sort(), file);
    }
  });
});
