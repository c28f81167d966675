import type { ClusterConfig, MeshConfig } from '../config/schema.ts';
import { probeSelector, strongswanSelector } from '../config/vpn-pods.ts';
import { remoteSecretNames } from '../mesh/istio/gather.ts';
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

export function neededPermissions(config: MeshConfig, cluster: ClusterConfig): NeededPermission[] {
  const istio = istioSetup(config, cluster).namespace;
  const routing = config.routing.namespace;
  const probe = probeSelector(config, { config: cluster }).namespace;
  const strongswan = strongswanSelector(config, { config: cluster }).namespace;
  const perm = (
    verb: string,
    group: string,
    resource: string,
    namespace: string | undefined,
    why: string,
  ) => ({
    verb,
    group,
    resource,
    ...(namespace ? { namespace } : {}),
    why,
  });
  const perms: NeededPermission[] = [
    perm('list', '', 'namespaces', undefined, 'the data-plane check finds namespaces labelled for injection'),
    perm('list', '', 'pods', undefined, 'the data-plane check reads the pods of every injected namespace'),
    perm('list', 'apps', 'deployments', undefined, 'workloads of injected namespaces, desired vs available'),
    perm('list', 'apps', 'daemonsets', undefined, 'workloads of injected namespaces, desired vs available'),
    ...['get', 'list'].map((verb) =>
      perm(
        verb,
        '',
        'services',
        istio,
        'control-plane addresses, the services routes point at, and the Service IPs /mesh vpn checks',
      ),
    ),
    perm('get', '', 'endpoints', istio, 'control-plane addresses (Istio 1.0; modern before 1.28)'),
    perm('get', '', 'configmaps', istio, "the mesh config a remote follows; the primary's authPolicy"),
    ...['get', 'list'].map((verb) =>
      perm(verb, 'discovery.k8s.io', 'endpointslices', istio, 'control-plane addresses (modern Istio)'),
    ),
    perm('get', '', 'services', routing, "pre-flight: the Service of each subset's host"),
    perm('list', 'apps', 'daemonsets', strongswan, 'the strongSwan routes DaemonSet, desired vs ready'),
    ...[...new Set([probe, strongswan])].flatMap((ns) =>
      ['get', 'create'].map((verb) => ({
        ...perm(
          verb,
          '',
          'pods',
          ns,
          "ping across the VPN, read the tunnel state and the proxies' certificates",
        ),
        subresource: 'exec',
      })),
    ),
  ];
  if (cluster.role === 'primary') {
    for (const verb of ['get', 'list', 'create', 'update', 'delete'])
      perms.push(
        perm(
          verb,
          'networking.istio.io',
          'virtualservices',
          routing,
          verb === 'get' || verb === 'list'
            ? 'route list, show and diff'
            : 'route apply, rollback and revert',
        ),
      );
    perms.push(
      perm('list', 'networking.istio.io', 'destinationrules', routing, 'pre-flight: the subsets routes use'),
    );
    if (istioSetup(config, cluster).profile === 'istio-1.0')
      perms.push(
        perm(
          'list',
          'authentication.istio.io',
          'policies',
          routing,
          "pre-flight: a service's mutual TLS (authentication Policy)",
        ),
        {
          ...perm(
            'get',
            'authentication.istio.io',
            'meshpolicies',
            undefined,
            "pre-flight: the mesh's mutual TLS (MeshPolicy default)",
          ),
          name: 'default',
        },
      );
    // Routing verification reads Prometheus through the API server's service proxy, unless a URL is set.
    if (!cluster.prometheus)
      perms.push({
        ...perm(
          'get',
          '',
          'services',
          istio,
          'verify a routing change with the Istio telemetry in Prometheus',
        ),
        subresource: 'proxy',
        name: 'prometheus:9090',
      });
    perms.push({
      ...perm('get', '', 'services', istio, "/mesh proxies: pilot's /debug/syncz (Istio 1.0)"),
      subresource: 'proxy',
      name: 'istio-pilot:8080',
    });
    for (const verb of ['get', 'create'])
      perms.push({
        ...perm(verb, '', 'pods', istio, "/mesh proxies: pilot's /debug/syncz by exec"),
        subresource: 'exec',
      });
    for (const remote of config.clusters.filter((c) => c.role === 'remote'))
      for (const name of remoteSecretNames({
        name: remote.name,
        ...(remote.remoteSecret ? { secret: remote.remoteSecret } : {}),
      }))
        perms.push({
          ...perm(
            'get',
            '',
            'secrets',
            istio,
            `the remote secret for ${remote.name} (clusters[].remoteSecret)`,
          ),
          name,
        });
  } else {
    const repair = (verb: string, group: string, resource: string, namespace: string, name?: string) => ({
      ...perm(
        verb,
        group,
        resource,
        namespace,
        'repair drift: re-point the remote at the live control plane',
      ),
      ...(name ? { name } : {}),
      optional: true,
    });
    perms.push(repair('update', '', 'configmaps', istio, 'istio'));
    // Istio 1.0's selector-less istio-pilot; a modern remote's istiod Endpoints (charts before 1.28) or its
    // EndpointSlice (1.28 on; its name follows the chart's revision settings, so the grant names none).
    const modern = istioSetup(config, cluster).profile === 'modern';
    perms.push(repair('update', '', 'endpoints', istio, modern ? 'istiod' : 'istio-pilot'));
    if (modern) perms.push(repair('update', 'discovery.k8s.io', 'endpointslices', istio));
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
