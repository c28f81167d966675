import type { ClusterConfig, MeshConfig } from '../config/schema.ts';
import { probeSelector, strongswanSelector } from '../config/vpn-pods.ts';
import { istioSetup } from '../mesh/istio/profiles.ts';

/**
 * Every Kubernetes permission meshops uses on a cluster, with why. `meshops doctor` asks each cluster for
 * them (SelfSubjectAccessReview), and the RBAC test checks deploy/rbac grants them: one list, so the
 * manifests, the check and the code cannot drift apart. A new API call adds its line here.
 */
export interface NeededPermission {
  verb: string;
  /** '' for the core group. */
  group: string;
  resource: string;
  subresource?: string;
  /** Absent: cluster-wide. */
  namespace?: string;
  name?: string;
  why: string;
  /** Only `/mesh repair drift` needs it (deploy/rbac/remote-repair.yaml is optional). */
  optional?: boolean;
}

const read = (
  group: string,
  resource: string,
  namespace: string | undefined,
  why: string,
): NeededPermission[] =>
  ['get', 'list'].map((verb) => ({ verb, group, resource, ...(namespace ? { namespace } : {}), why }));

export function neededPermissions(config: MeshConfig, cluster: ClusterConfig): NeededPermission[] {
  const istio = istioSetup(config, cluster).namespace;
  const routing = config.routing.namespace;
  const probe = probeSelector(config, { config: cluster }).namespace;
  const strongswan = strongswanSelector(config, { config: cluster }).namespace;
  const inspected = [...new Set([istio, routing])];
  const perms: NeededPermission[] = [
    ...read('', 'namespaces', undefined, 'the data-plane check finds namespaces labelled for injection'),
    ...read('', 'pods', undefined, 'the data-plane check reads the pods of every injected namespace'),
    ...inspected.flatMap((ns) => [
      ...read('', 'services', ns, 'control-plane addresses and the services routes point at'),
      ...read('', 'endpoints', ns, 'control-plane addresses (Istio 1.0)'),
      ...read('', 'configmaps', ns, 'the mesh config a remote follows'),
      ...read('discovery.k8s.io', 'endpointslices', ns, 'control-plane addresses (modern Istio)'),
    ]),
    ...[...new Set([probe, strongswan])].flatMap((ns) =>
      ['get', 'create'].map((verb) => ({
        verb,
        group: '',
        resource: 'pods',
        subresource: 'exec',
        namespace: ns,
        why: 'ping across the VPN and read the strongSwan tunnel state',
      })),
    ),
  ];
  if (cluster.role === 'primary') {
    for (const verb of ['get', 'list', 'update', 'patch'])
      perms.push({
        verb,
        group: 'networking.istio.io',
        resource: 'virtualservices',
        namespace: routing,
        why: verb === 'get' || verb === 'list' ? 'route list, show and diff' : 'route apply and rollback',
      });
    perms.push(
      ...read('networking.istio.io', 'destinationrules', routing, 'pre-flight: the subsets routes use'),
    );
    // Routing verification reads Prometheus through the API server's service proxy, unless a URL is set.
    if (!cluster.prometheus)
      perms.push({
        verb: 'get',
        group: '',
        resource: 'services',
        subresource: 'proxy',
        namespace: istio,
        name: 'prometheus:9090',
        why: 'verify a routing change with the Istio telemetry in Prometheus',
      });
    for (const remote of config.clusters.filter((c) => c.role === 'remote'))
      for (const name of [remote.name, `istio-remote-secret-${remote.name}`])
        perms.push({
          verb: 'get',
          group: '',
          resource: 'secrets',
          namespace: istio,
          name,
          why: `the remote secret for ${remote.name} (Istio 1.0 or istioctl name)`,
        });
  } else {
    const repair = (verb: string, group: string, resource: string, namespace: string, name?: string) => ({
      verb,
      group,
      resource,
      namespace,
      ...(name ? { name } : {}),
      why: 'repair drift: re-point the remote at the live control plane',
      optional: true,
    });
    for (const verb of ['update', 'patch']) {
      perms.push(repair(verb, '', 'configmaps', istio, 'istio'));
      perms.push(repair(verb, '', 'endpoints', istio, 'istio-pilot'));
      perms.push(repair(verb, 'discovery.k8s.io', 'endpointslices', istio));
    }
    for (const verb of ['get', 'list', 'patch'])
      perms.push({
        ...repair(verb, 'apps', 'deployments', routing),
        why: 'repair drift: restart the affected deployments',
      });
  }
  return perms;
}

/** How a person reads a permission: "create pods/exec in default", "get secrets/iks in istio-system". */
export function describePermission(p: NeededPermission): string {
  const resource = `${p.resource}${p.subresource ? `/${p.subresource}` : ''}${p.group ? `.${p.group}` : ''}`;
  return `${p.verb} ${resource}${p.name ? ` "${p.name}"` : ''} ${p.namespace ? `in ${p.namespace}` : 'cluster-wide'}`;
}
