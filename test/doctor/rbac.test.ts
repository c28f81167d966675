import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { RBAC_DIR } from '../../src/doctor/rbac.ts';

/** `npm run rbac -- --config <file>`: deploy/rbac with the secret names of that config, nothing else changed. */

type Doc = { kind?: string; metadata?: { name?: string }; rules?: { resourceNames?: string[] }[] };

const secretNames = (text: string) =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Doc)
    .find((d) => d?.kind === 'Role' && d.metadata?.name === 'meshops-remote-secrets')?.rules?.[0]
    ?.resourceNames;

function config(remotes: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshops-rbac-'));
  const path = join(dir, 'meshops.yaml');
  writeFileSync(
    path,
    `clusters:\n  - { name: onprem, role: primary, kubeconfig: ./onprem.yaml }\n${remotes}istio:\n  profile: istio-1.0\n`,
  );
  return path;
}

const run = (...args: string[]) =>
  spawnSync(process.execPath, ['src/main.ts', 'rbac', ...args], { encoding: 'utf8', timeout: 20_000 });

describe('npm run rbac', () => {
  it("names each remote's configured secret, or both default names, and changes nothing else", () => {
    const path = config(
      '  - { name: aws, role: remote, kubeconfig: ./aws.yaml, remoteSecret: aws-istio-kubeconfig }\n' +
        '  - { name: gke, role: remote, kubeconfig: ./gke.yaml }\n',
    );
    const result = run('--config', path);
    assert.equal(result.status, 0, result.stderr);
    const files = result.stdout.split(/^---\n(?=# ==> )/m);
    assert.deepEqual(
      files.map((f) => f.split('\n')[0]),
      [
        '# ==> deploy/rbac/common.yaml <==',
        '# ==> deploy/rbac/primary.yaml <==',
        '# ==> deploy/rbac/remote-repair.yaml <==',
      ],
    );
    const primary = files[1]!.slice(files[1]!.indexOf('\n') + 1);
    assert.deepEqual(secretNames(primary), ['aws-istio-kubeconfig', 'gke', 'istio-remote-secret-gke']);
    const shipped = readFileSync(`${RBAC_DIR}primary.yaml`, 'utf8');
    const differs = (a: string, b: string) => a.split('\n').filter((line, i) => line !== b.split('\n')[i]);
    assert.deepEqual(differs(primary, shipped), [
      '    resourceNames: ["aws-istio-kubeconfig", "gke", "istio-remote-secret-gke"]',
    ]);
    for (const [i, file] of ['common.yaml', 'remote-repair.yaml'].entries())
      assert.equal(
        files[i * 2]!.slice(files[i * 2]!.indexOf('\n') + 1),
        readFileSync(`${RBAC_DIR}${file}`, 'utf8'),
      );
  });

  it('writes the files with --out; a bad config or no config changes nothing and says why', () => {
    const out = mkdtempSync(join(tmpdir(), 'meshops-rbac-out-'));
    const ok = run(
      '--config',
      config('  - { name: iks, role: remote, kubeconfig: ./iks.yaml, remoteSecret: iriscluster }\n'),
      '--out',
      out,
    );
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(secretNames(readFileSync(join(out, 'primary.yaml'), 'utf8')), ['iriscluster']);

    const bad = run('--config', config('  - { name: iks, role: remote, remoteSecret: "Not A Name" }\n'));
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /remoteSecret/);
    assert.equal(bad.stdout, '');
    const none = spawnSync(process.execPath, ['src/main.ts', 'rbac'], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { PATH: process.env.PATH },
    });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /pass --config <file>/);
  });
});
