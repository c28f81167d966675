// The kubeconfig a user (or meshops' config) points at to reach one simulated cluster.
// One user name per cluster: client-node caches credentials by user name (kcjs #592).

import { stringify } from 'yaml';

export interface KubeconfigInput {
  cluster: string;
  server: string;
  caCert: string;
  token: string;
  /** Whose token it is, named in the kubeconfig's user entry (e.g. meshops, admin, istio-multi). */
  user: string;
  namespace?: string;
}

export function kubeconfigYaml(k: KubeconfigInput): string {
  const user = `${k.cluster}-${k.user}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: k.cluster,
        cluster: { server: k.server, 'certificate-authority-data': Buffer.from(k.caCert).toString('base64') },
      },
    ],
    users: [{ name: user, user: { token: k.token } }],
    contexts: [
      { name: k.cluster, context: { cluster: k.cluster, user, namespace: k.namespace ?? 'default' } },
    ],
    'current-context': k.cluster,
    preferences: {},
  });
}
