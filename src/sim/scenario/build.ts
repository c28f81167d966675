// Turns a scenario's cluster entry into objects in a SimCluster: namespaces, Services, raw
// objects and manifests, chart renders (whose values may name another cluster's pod IPs),
// remote secrets, and workloads with their pods.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withDefaults } from '../api/defaults.ts';
import { labelSelector as parseSelector } from '../api/label-selector.ts';
import { CRD_KEY, RBAC_KINDS, storeKey } from '../api/resources.ts';
import { allocateAddress } from '../cluster/addresses.ts';
import { ageMs } from '../cluster/controller.ts';
import type { SimCluster } from '../cluster/sim-cluster.ts';
import type { Json, KubeObject } from '../cluster/store.ts';
import { formatIpv4, parseCidr } from '../net/ipv4.ts';
import { parseManifests, renderChart } from './charts.ts';
import { crdObjects } from './crds.ts';
import { SCENARIO_DIR } from './load.ts';
import type { ClusterSpec, PodIpRef, Scenario, ServiceSpec } from './schema.ts';

export interface BuildContext {
  now: number;
  cluster(name: string): SimCluster;
  /** The kubeconfig YAML that reaches a simulated cluster (for Istio remote secrets). */
  kubeconfig(name: string): string;
  /** The RBAC YAML documents a cluster is built with (applied as an administrator would). */
  rbac(spec: ClusterSpec): readonly string[];
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public'];
const DEFAULT_AGE = '45d';

/** Clusters whose pod IPs other clusters' chart values name come first. */
export function buildOrder(scenario: Scenario): ClusterSpec[] {
  const byName = new Map(scenario.clusters.map((c) => [c.name, c]));
  const ordered: ClusterSpec[] = [];
  const visiting = new Set<string>();
  const visit = (c: ClusterSpec) => {
    if (ordered.includes(c)) return;
    if (visiting.has(c.name)) throw new Error(`chart values of ${c.name} depend on themselves`);
    visiting.add(c.name);
    for (const render of c.chartRenders) {
      for (const value of Object.values(render.set)) {
        if (typeof value === 'object' && value.podIP.cluster !== c.name) {
          const dep = byName.get(value.podIP.cluster);
          if (!dep)
            throw new Error(`${c.name}: chart value refers to unknown cluster ${value.podIP.cluster}`);
          visit(dep);
        }
      }
    }
    ordered.push(c);
  };
  for (const c of scenario.clusters) visit(c);
  return ordered;
}

/** Stores an object as the apiserver would hold it; built-in kinds drop kind/apiVersion. */
function putObject(
  cluster: SimCluster,
  object: KubeObject,
  defaultNamespace?: string,
  createdAt?: number,
): KubeObject {
  const type = cluster.registry.byKind(object.kind ?? '');
  if (!type) throw new Error(`${cluster.name}: the simulation does not serve kind ${object.kind}`);
  const { kind: _kind, apiVersion, ...rest } = withDefaults(type.kind, object) as KubeObject;
  const metadata = {
    ...object.metadata,
    ...(type.namespaced ? { namespace: object.metadata.namespace ?? defaultNamespace ?? 'default' } : {}),
    ...(createdAt !== undefined && !object.metadata.creationTimestamp
      ? { creationTimestamp: iso(createdAt) }
      : {}),
    ...(type.custom ? { generation: object.metadata.generation ?? 1 } : {}),
  };
  const stored = type.custom ? { apiVersion, kind: type.kind, ...rest, metadata } : { ...rest, metadata };
  return cluster.store.put(storeKey(type), stored as KubeObject);
}

function serviceObject(cluster: SimCluster, s: ServiceSpec, now: number): KubeObject {
  const clusterIP =
    s.clusterIP ??
    allocateAddress(cluster.spec.serviceCidr, `${cluster.name}/svc/${s.namespace}/${s.name}`, (ip) =>
      cluster.addresses.has(ip),
    );
  return {
    metadata: {
      name: s.name,
      namespace: s.namespace,
      creationTimestamp: iso(now - ageMs(s.age)),
      ...(s.labels ? { labels: s.labels } : {}),
    },
    spec: {
      type: s.type,
      clusterIP,
      clusterIPs: [clusterIP],
      ...(s.selector ? { selector: s.selector } : {}),
      ports: s.ports.map((p) => ({ protocol: 'TCP', targetPort: p.port, ...p })),
      sessionAffinity: 'None',
    },
    status: { loadBalancer: s.loadBalancerIP ? { ingress: [{ ip: s.loadBalancerIP }] } : {} },
  };
}

function resolvePodIp(ref: PodIpRef, ctx: BuildContext): string {
  const { cluster, namespace, labelSelector } = ref.podIP;
  const selects = parseSelector(labelSelector);
  const pod = ctx
    .cluster(cluster)
    .list('pods', namespace)
    .find((p) => selects(p.metadata.labels) && (p as Json).status?.phase === 'Running');
  const ip = (pod as Json | undefined)?.status?.podIP;
  if (!ip) throw new Error(`no running pod in ${cluster}/${namespace} matches ${labelSelector}`);
  return ip;
}

export function populate(cluster: SimCluster, ctx: BuildContext): void {
  const spec = cluster.spec;
  const { now } = ctx;
  const created = now - ageMs(DEFAULT_AGE);

  const namespaces = new Map<string, Json>(SYSTEM_NAMESPACES.map((name) => [name, { name }]));
  for (const ns of spec.namespaces) namespaces.set(ns.name, { ...namespaces.get(ns.name), ...ns });
  for (const ns of namespaces.values()) {
    cluster.put('namespaces', {
      metadata: {
        name: ns.name,
        creationTimestamp: iso(created),
        labels: { 'kubernetes.io/metadata.name': ns.name, ...ns.labels },
        ...(ns.annotations ? { annotations: ns.annotations } : {}),
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }

  const serviceCidr = parseCidr(spec.serviceCidr);
  const kubernetes: ServiceSpec = {
    name: 'kubernetes',
    namespace: 'default',
    labels: { component: 'apiserver', provider: 'kubernetes' },
    type: 'ClusterIP',
    clusterIP: formatIpv4(serviceCidr.base + 1),
    ports: [{ name: 'https', port: 443, targetPort: 6443, protocol: 'TCP' }],
    age: DEFAULT_AGE,
  };
  for (const s of [kubernetes, ...spec.services]) cluster.put('services', serviceObject(cluster, s, now));

  for (const crd of crdObjects(spec.crds, iso(created))) cluster.store.put(CRD_KEY, crd);
  for (const object of spec.objects) putObject(cluster, object as KubeObject, undefined, created);
  for (const m of spec.manifests) {
    for (const object of parseManifests(readFileSync(join(SCENARIO_DIR, m.file), 'utf8'))) {
      putObject(cluster, object, m.namespace, created);
    }
  }

  for (const render of spec.chartRenders) {
    const set = Object.fromEntries(
      Object.entries(render.set).map(([k, v]) => [k, typeof v === 'object' ? resolvePodIp(v, ctx) : v]),
    );
    for (const object of renderChart(
      join(SCENARIO_DIR, render.chart),
      render.templates,
      render.release,
      set,
    )) {
      putObject(cluster, object, render.release.namespace, created);
    }
  }

  for (const secret of spec.remoteSecrets) {
    cluster.put('secrets', {
      metadata: {
        name: secret.name,
        namespace: secret.namespace,
        creationTimestamp: iso(created),
        labels: secret.labels,
        ...(secret.annotations ? { annotations: secret.annotations } : {}),
      },
      type: 'Opaque',
      data: {
        [secret.key ?? secret.cluster]: Buffer.from(ctx.kubeconfig(secret.cluster)).toString('base64'),
      },
    });
  }

  for (const text of ctx.rbac(spec)) {
    for (const object of parseManifests(text)) {
      if (RBAC_KINDS.includes(object.kind ?? '')) putObject(cluster, object, undefined, created);
    }
  }

  for (const w of spec.workloads) cluster.controller.createWorkload(w, now);
}
