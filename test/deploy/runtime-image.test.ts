import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/**
 * Files of a package that its public entry points do not export, imported anyway. Each is pinned to one
 * version and one content: an upgrade that changes the file fails here, before it fails in production.
 */
const DEEP_IMPORTS: Record<string, { version: string; sha256: string }> = {
  '@kubernetes/client-node/dist/web-socket-handler.js': {
    version: '2.0.1',
    sha256: '5004ca1f5482aadabf86c28072cb236dbde669271d96e9244171e3c3cd401332',
  },
};

const packageOf = (specifier: string) =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('what the runtime image carries', () => {
  it('pins every deep import to an exact version and the file’s content', () => {
    const product = sourceFiles('src').filter((f) => !/^src\/(sim|console|demo)\//.test(f));
    const deep = new Set<string>();
    for (const file of product)
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/from '([^.'][^']*\/dist\/[^']*)'/g))
        deep.add(spec!);
    assert.deepEqual([...deep].sort(), Object.keys(DEEP_IMPORTS).sort(), 'every deep import is listed here');
    const require = createRequire(join(process.cwd(), 'package.json'));
    for (const [spec, pin] of Object.entries(DEEP_IMPORTS)) {
      const name = packageOf(spec);
      assert.equal(pkg.dependencies[name], pin.version, `${name} is pinned exactly in package.json`);
      const root = join('node_modules', name);
      const installed = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string })
        .version;
      assert.equal(installed, pin.version, `${name} installed`);
      const file = require.resolve(spec);
      const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
      assert.equal(sha, pin.sha256, `${spec} changed: re-read it, then update the pin`);
    }
  });

  it('keeps simulation-only packages out of the production dependencies', () => {
    for (const name of ['selfsigned', 'fast-json-patch']) {
      assert.equal(pkg.dependencies[name], undefined, `${name} is not a production dependency`);
      assert.ok(pkg.devDependencies[name], `${name} is a devDependency`);
    }
    // No production code reaches a devDependency.
    const dev = Object.keys(pkg.devDependencies);
    for (const file of sourceFiles('src').filter((f) => !/^src\/(sim|console|demo)\//.test(f)))
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/from '([^.'][^']*)'/g))
        assert.ok(!dev.includes(packageOf(spec!)), `${file} imports the devDependency ${spec}`);
  });

  it('builds no simulation, console or demo code or data into dist/', () => {
    // The compiler's own list includes every file the product imports, so an import of src/sim fails here.
    const listed = execFileSync(
      process.execPath,
      ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--listFilesOnly'],
      { encoding: 'utf8' },
    )
      .split('\n')
      .filter((f) => f.includes('/src/'));
    assert.ok(listed.some((f) => f.endsWith('/src/main.ts')));
    assert.deepEqual(
      listed.filter((f) => /\/src\/(sim|console|demo)\//.test(f)),
      [],
    );
    const out = mkdtempSync(join(tmpdir(), 'meshops-assets-'));
    execFileSync(process.execPath, ['scripts/copy-assets.ts', out]);
    const copied = readdirSync(out, { recursive: true }).map(String);
    assert.ok(existsSync(join(out, 'mesh/routing/presets')), 'the presets ship');
    assert.deepEqual(
      copied.filter((f) => /^(sim|console|demo)(\/|$)/.test(f)),
      [],
    );
  });
});
