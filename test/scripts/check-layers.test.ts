import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkLayers } from '../../scripts/check-layers.ts';

const roots: string[] = [];
/** A src tree of the given files (path → text), in a temporary directory. */
function tree(files: Record<string, string>): string {
  const src = join(mkdtempSync(join(tmpdir(), 'meshops-layers-')), 'src');
  roots.push(dirname(src));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(src, path)), { recursive: true });
    writeFileSync(join(src, path), text);
  }
  return src;
}
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describe('npm run check:layers', () => {
  it('passes on the repository', () => {
    assert.deepEqual(checkLayers(), []);
  });

  it('fails on the domain importing the Slack surface, the queue, the jobs or approvals, type-only imports too', () => {
    const src = tree({
      'mesh/istio/check.ts': "import { section } from '../../slack/render/blocks.ts';\n",
      'mesh/vpn/check.ts': "import type { CommandOf } from '../../queue/jobs.ts';\n",
      'mesh/routing/request.ts': "import type { JobContext } from '../../jobs/types.ts';\n",
      'mesh/repair/change.ts': "import type { ChangeKind } from '../../approvals/types.ts';\n",
      'slack/render/blocks.ts': 'export const section = 1;\n',
      'queue/jobs.ts': 'export type CommandOf = 1;\n',
      'jobs/types.ts': 'export type JobContext = 1;\n',
      'approvals/types.ts': 'export type ChangeKind = 1;\n',
    });
    const problems = checkLayers(src);
    for (const area of ['slack', 'queue', 'jobs', 'approvals'])
      assert.ok(
        problems.some((p) => p.includes(`src/mesh is domain and must not use src/${area}`)),
        `${area}: ${problems.join('\n')}`,
      );
  });

  it('fails on product code importing the simulation, the console or the demo, and lets those import product code', () => {
    const src = tree({
      'runtime.ts':
        "import { startSim } from './sim/index.ts';\nimport { console } from './console/server.ts';\n",
      'jobs/ping.ts': "import { demo } from '../demo/demo.ts';\n",
      'sim/index.ts': "import { parse } from '../config/selector.ts';\nexport const startSim = parse;\n",
      'console/server.ts': 'export const console = 1;\n',
      'demo/demo.ts': "import '../runtime.ts';\nexport const demo = 1;\n",
      'config/selector.ts': 'export const parse = 1;\n',
    });
    const problems = checkLayers(src);
    assert.equal(
      problems.filter((p) => p.includes('product code must not use')).length,
      3,
      problems.join('\n'),
    );
    assert.ok(!problems.some((p) => p.startsWith('sim/') || p.startsWith('demo/')), problems.join('\n'));
  });

  it('fails on an import cycle between two files, and between two folders', () => {
    const src = tree({
      'access/a.ts': "import { b } from './b.ts';\nexport const a = b;\n",
      'access/b.ts': "import type { a } from './a.ts';\nexport const b = 1;\n",
      'config/load.ts': "import { client } from '../kube/cluster.ts';\nexport const load = client;\n",
      'kube/cluster.ts': "import type { load } from '../config/load.ts';\nexport const client = 1;\n",
    });
    const problems = checkLayers(src);
    assert.ok(
      problems.includes('import cycle between files: access/a.ts ↔ access/b.ts'),
      problems.join('\n'),
    );
    assert.ok(problems.includes('import cycle between folders: config ↔ kube'), problems.join('\n'));
  });
});
