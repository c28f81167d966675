import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MeshConfig } from '../config/schema.ts';
import { remoteSecretNames } from '../mesh/istio/gather.ts';

/**
 * `npm run rbac -- --config <file>`: deploy/rbac as this config needs it. Only what a config names changes:
 * the remote secrets meshops may read by name (`clusters[].remoteSecret`, else the default names of each
 * remote). Everything else, comments included, is printed as shipped.
 */

export const RBAC_DIR = fileURLToPath(new URL('../../deploy/rbac/', import.meta.url));
export const RBAC_FILES = ['common.yaml', 'primary.yaml', 'remote-repair.yaml'] as const;

const SECRETS_ROLE = 'meshops-remote-secrets';

/** The secret names meshops reads on the primary: for each remote, its configured name or the defaults. */
export function remoteSecretResourceNames(config: Pick<MeshConfig, 'clusters'>): string[] {
  return [
    ...new Set(
      config.clusters
        .filter((c) => c.role === 'remote')
        .flatMap((c) =>
          remoteSecretNames({ name: c.name, ...(c.remoteSecret ? { secret: c.remoteSecret } : {}) }),
        ),
    ),
  ];
}

/** One manifest file with the secrets Role's `resourceNames` set from the config. */
export function renderRbacFile(text: string, config: Pick<MeshConfig, 'clusters'>): string {
  const names = remoteSecretResourceNames(config);
  // Documents are edited as text so the comments that explain each grant stay as written.
  return text
    .split(/^(?=---$)/m)
    .map((doc) =>
      /^kind: Role$/m.test(doc) && new RegExp(`^  name: ${SECRETS_ROLE}$`, 'm').test(doc)
        ? doc.replace(
            /^(\s*)resourceNames: \[.*\]$/m,
            `$1resourceNames: [${names.map((n) => JSON.stringify(n)).join(', ')}]`,
          )
        : doc,
    )
    .join('');
}

export function renderRbac(
  config: Pick<MeshConfig, 'clusters'>,
  dir = RBAC_DIR,
): { file: string; text: string }[] {
  return RBAC_FILES.map((file) => ({
    file,
    text: renderRbacFile(readFileSync(`${dir}${file}`, 'utf8'), config),
  }));
}
