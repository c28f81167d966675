import type { ComponentSpec } from '../../config/schema.ts';
import { matchesLabels, parseLabelSelector } from '../../config/selector.ts';
import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError, type KubeFailure, timedOut } from '../../kube/errors.ts';
import { type ApiRef, apiPath, listItems, readObject } from '../../kube/list.ts';
import {
  type ConfigMapShape,
  type ConfiguredAddress,
  type DaemonSetShape,
  type EndpointSliceShape,
  type EndpointsShape,
  endpointsAddresses,
  type MeshConfigFacts,
  meshConfigFacts,
  type NamespaceFacts,
  type NamespaceShape,
  namespaceFacts,
  type PodFacts,
  type PodFactsShape,
  podFacts,
  type RolloutFacts,
  rolloutFacts,
  type SecretFacts,
  type SecretShape,
  type ServiceFacts,
  type ServiceShape,
  secretFacts,
  serviceFacts,
  sliceAddresses,
  type WorkloadFacts,
  workloadFacts,
} from './facts.ts';
import type { IstioSetup } from './profiles.ts';
import { MIRRORED_SLICE } from './remote-istiod.ts';
import type { DeploymentShape } from './rollout.ts';

/** One cluster answer: the typed value, or why the call failed (each check fails on its own). */
export type Fetched<T> = { ok: true; value: T } | { ok: false; failure: KubeFailure };

const ok = <T>(value: T): Fetched<T> => ({ ok: true, value });

/** Where the 1.0 remote's control-plane addresses live (istio/istio 1.0.2 install/kubernetes/helm/istio-remote). */
export const REMOTE_MESH_CONFIGMAP = 'istio';
export const REMOTE_PILOT_ENDPOINTS = 'istio-pilot';
/** The modern remote's stand-in for istiod (istio/istio manifests/charts/istio-control/istio-discovery,
 * templates/remote-istiod-service.yaml). */
export const REMOTE_ISTIOD_SERVICE = 'istiod';

/** Everything one cluster answered for a status check, already reduced to typed facts. */
export interface ClusterSnapshot {
  cluster: string;
  role: 'primary' | 'remote';
  setup: IstioSetup;
  /** Epoch ms the answers are judged against (ages, recent restarts). */
  checkedAt: number;
  ms: number;
  /**
   * Each component's pods in the istio namespace (the cluster's pod list, sorted by selector) and the
   * Deployments whose pod template the selector matches, with where their rollouts stand.
   */
  components: { spec: ComponentSpec; pods: Fetched<PodFacts[]>; rollouts: Fetched<RolloutFacts[]> }[];
  namespaces: Fetched<NamespaceFacts[]>;
  /** Pods of the namespaces labelled for injection. */
  workloads: Fetched<PodFacts[]>;
  /** Deployments and DaemonSets of the injected namespaces and the VPN's (components are judged by their pods). */
  controllers: Fetched<WorkloadFacts[]>;
  /** The istio namespace's pods (every component's and any other), for the injector's Service. */
  istioPods: Fetched<PodFacts[]>;
  /** Primary: the istio namespace's Services (a LoadBalancer keeps an address stable across restarts). */
  services?: Fetched<ServiceFacts[]>;
  /** Primary: each remote's secret in the istio namespace, looked up by name. */
  remoteSecrets?: Fetched<RemoteSecretLookup[]>;
  /** Remote, istio-1.0: the `istio` ConfigMap's mesh config and the selector-less `istio-pilot` Endpoints. */
  meshConfig?: Fetched<MeshConfigFacts>;
  pilotEndpoints?: Fetched<ConfiguredAddress[] | null>;
  /**
   * Remote, modern: the `istiod` Service (null when absent), its Endpoints (null when absent) and the
   * EndpointSlices not mirrored from those Endpoints; which of the two the chart owns depends on its version.
   */
  istiodService?: Fetched<(ServiceFacts & { externalName?: string }) | null>;
  istiodEndpoints?: Fetched<ConfiguredAddress[] | null>;
  istiodSlices?: Fetched<ConfiguredAddress[]>;
}

/** A remote as the primary's secret lookup needs it. */
export interface RemoteRef {
  name: string;
  /** `clusters[].remoteSecret`: the one name to read instead of the defaults. */
  secret?: string;
  /** The API server meshops reaches the remote at: the secret's kubeconfig must point there too. */
  server: string;
}

export interface RemoteSecretLookup {
  remote: RemoteRef;
  /** The names read, in order. */
  looked: string[];
  secret?: SecretFacts;
}

export interface GatherOptions {
  /** The whole cluster's budget: every call gets what is left of it. */
  timeoutMs: number;
  /** On a primary: the remotes whose secrets to look up. */
  remotes?: readonly RemoteRef[];
  /** The configured VPN pods of this cluster: never injected, so never counted as missing a sidecar. */
  vpnPods?: readonly { namespace: string; selector: string }[];
  /** Where the strongSwan pods run: its Deployments and DaemonSets are counted too. */
  vpnNamespace?: string;
  now?: () => number;
}

/**
 * Asks one cluster everything the status check needs in one round of parallel calls under one deadline,
 * so a slow cluster costs its timeout once. Pods are listed once for the whole cluster and sorted into
 * components and injected namespaces here: fewer requests is what keeps ten clusters as fast as two.
 */
export async function gatherCluster(
  cluster: Cluster,
  setup: IstioSetup,
  options: GatherOptions,
): Promise<ClusterSnapshot> {
  const started = performance.now();
  const deadline = started + options.timeoutMs;
  const checkedAt = (options.now ?? Date.now)();
  const leftMs = () => Math.max(1, Math.round(deadline - performance.now()));
  const fetched = async <T>(call: () => Promise<T>): Promise<Fetched<T>> => {
    try {
      return { ok: true, value: await call() };
    } catch (err) {
      // Each call gets what is left of the cluster's deadline: a timeout is the cluster's, said with its
      // configured budget, not with the few milliseconds a late call was given.
      const failure = classifyKubeError(err, options.timeoutMs);
      return { ok: false, failure: failure.kind === 'timeout' ? timedOut(options.timeoutMs) : failure };
    }
  };
  const namespace = setup.namespace;
  // Every answer is read as plain JSON into the few fields the check uses, without client-node's models.
  const list = <T>(ref: ApiRef) => listItems<T>(cluster, apiPath(ref), ref.resource, leftMs());
  const read = <T>(resource: string, name: string) =>
    absentOn404(() =>
      readObject<T>(
        cluster,
        apiPath({ namespace, resource, name }),
        `${resource} ${namespace}/${name}`,
        leftMs(),
      ),
    );
  const remote10 = cluster.role === 'remote' && setup.profile === 'istio-1.0';
  const remoteModern = cluster.role === 'remote' && setup.profile === 'modern';

  const [
    pods,
    namespaces,
    deployments,
    daemonSets,
    services,
    remoteSecrets,
    meshConfig,
    pilotEndpoints,
    istiodService,
    istiodEndpoints,
    slices,
  ] = await Promise.all([
    fetched(() =>
      list<PodFactsShape>({ resource: 'pods' }).then((items) => items.map((p) => podFacts(p, checkedAt))),
    ),
    fetched(() =>
      list<NamespaceShape>({ resource: 'namespaces' }).then((items) => items.map(namespaceFacts)),
    ),
    // Listed cluster-wide like pods: which namespaces are injected is known only once the answers are in.
    fetched(() => list<DeploymentShape>({ group: 'apps/v1', resource: 'deployments' })),
    fetched(() =>
      list<DaemonSetShape>({ group: 'apps/v1', resource: 'daemonsets' }).then((items) =>
        items.map((object) => workloadFacts({ kind: 'DaemonSet', object })),
      ),
    ),
    cluster.role === 'primary'
      ? fetched(() =>
          list<ServiceShape>({ namespace, resource: 'services' }).then((items) => items.map(serviceFacts)),
        )
      : undefined,
    cluster.role === 'primary'
      ? fetched(() =>
          remoteSecretsByName(options.remotes ?? [], (name) => read<SecretShape>('secrets', name)),
        )
      : undefined,
    remote10
      ? fetched(() =>
          read<ConfigMapShape>('configmaps', REMOTE_MESH_CONFIGMAP).then((cm) =>
            meshConfigFacts(cm, namespace),
          ),
        )
      : undefined,
    remote10
      ? fetched(() =>
          read<EndpointsShape>('endpoints', REMOTE_PILOT_ENDPOINTS).then((ep) =>
            ep ? endpointsAddresses(ep, namespace, 'pilot') : null,
          ),
        )
      : undefined,
    remoteModern
      ? fetched(() =>
          read<ServiceShape>('services', REMOTE_ISTIOD_SERVICE).then((svc) =>
            svc
              ? {
                  ...serviceFacts(svc),
                  ...(svc.spec?.externalName ? { externalName: svc.spec.externalName } : {}),
                }
              : null,
          ),
        )
      : undefined,
    remoteModern
      ? fetched(() =>
          read<EndpointsShape>('endpoints', REMOTE_ISTIOD_SERVICE).then((ep) =>
            ep ? endpointsAddresses(ep, namespace, 'istiod') : null,
          ),
        )
      : undefined,
    remoteModern
      ? fetched(() =>
          list<EndpointSliceShape>({
            group: 'discovery.k8s.io/v1',
            namespace,
            resource: 'endpointslices',
            labelSelector: `kubernetes.io/service-name=${REMOTE_ISTIOD_SERVICE}`,
          }).then((items) => sliceAddresses(items.filter(notMirrored), namespace, 'istiod')),
        )
      : undefined,
  ]);

  const components = setup.components.map((spec) => {
    const selector = parseLabelSelector(spec.selector, { allowEmpty: false });
    return {
      spec,
      pods: pods.ok
        ? ok(pods.value.filter((p) => p.state.namespace === namespace && matchesLabels(selector, p.labels)))
        : pods,
      rollouts: deployments.ok
        ? ok(
            deployments.value
              .filter((d) => d.metadata?.namespace === namespace)
              .map(rolloutFacts)
              .filter((r) => matchesLabels(selector, r.templateLabels)),
          )
        : deployments,
    };
  });
  const injected = new Set(
    namespaces.ok ? namespaces.value.filter((n) => n.injection).map((n) => n.name) : [],
  );
  const vpn = (options.vpnPods ?? []).flatMap((v) => {
    try {
      return [{ namespace: v.namespace, selector: parseLabelSelector(v.selector, { allowEmpty: false }) }];
    } catch {
      return []; // the VPN check reports a selector that does not parse
    }
  });
  const isVpnPod = (p: PodFacts) =>
    vpn.some((v) => v.namespace === p.state.namespace && matchesLabels(v.selector, p.labels));
  const workloads = !namespaces.ok
    ? namespaces
    : pods.ok
      ? ok(
          pods.value
            .filter((p) => injected.has(p.state.namespace))
            .map((p) => (isVpnPod(p) ? { ...p, vpnGateway: true } : p)),
        )
      : pods;

  const counted = new Set([...injected, ...(options.vpnNamespace ? [options.vpnNamespace] : [])]);
  const controllers = !namespaces.ok
    ? namespaces
    : !deployments.ok
      ? deployments
      : !daemonSets.ok
        ? daemonSets
        : ok(
            [
              ...deployments.value.map((object) => workloadFacts({ kind: 'Deployment', object })),
              ...daemonSets.value,
            ].filter((w) => counted.has(w.namespace)),
          );

  return {
    cluster: cluster.name,
    role: cluster.role,
    setup,
    checkedAt,
    ms: performance.now() - started,
    components,
    namespaces,
    workloads,
    controllers,
    istioPods: pods.ok ? ok(pods.value.filter((p) => p.state.namespace === namespace)) : pods,
    ...(services ? { services } : {}),
    ...(remoteSecrets ? { remoteSecrets } : {}),
    ...(meshConfig ? { meshConfig } : {}),
    ...(pilotEndpoints ? { pilotEndpoints } : {}),
    ...(istiodService ? { istiodService } : {}),
    ...(istiodEndpoints ? { istiodEndpoints } : {}),
    ...(slices ? { istiodSlices: slices } : {}),
  };
}

/** An object read by name that is absent is an answer (null), not a failure. */
async function absentOn404<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (err) {
    if (classifyKubeError(err).kind === 'not-found') return null;
    throw err;
  }
}

/** A slice Kubernetes keeps in step with an Endpoints object: an edit of it is undone, so it is never read. */
export const notMirrored = (slice: EndpointSliceShape) =>
  slice.metadata?.labels?.[MIRRORED_SLICE.label] !== MIRRORED_SLICE.value;

/** The names a remote's secret may have: the configured one, else Istio 1.0's and istioctl's. */
export function remoteSecretNames(remote: Pick<RemoteRef, 'name' | 'secret'>): string[] {
  return remote.secret ? [remote.secret] : [remote.name, `istio-remote-secret-${remote.name}`];
}

/**
 * Remote secrets are read by name, never listed: meshops' RBAC may then `get` only those names
 * (resourceNames) instead of reading every secret in the Istio namespace. The next name is asked for only
 * when the one before is absent: one request per remote in the seed.
 */
async function remoteSecretsByName(
  remotes: readonly RemoteRef[],
  read: (name: string) => Promise<SecretShape | null>,
): Promise<RemoteSecretLookup[]> {
  return Promise.all(
    remotes.map(async (remote) => {
      const looked: string[] = [];
      for (const name of remoteSecretNames(remote)) {
        looked.push(name);
        const secret = await read(name);
        if (secret) return { remote, looked, secret: secretFacts(secret) };
      }
      return { remote, looked };
    }),
  );
}

/** Every answer the snapshot holds, for telling "the cluster did not answer" from "one call failed". */
export function allFetched(s: ClusterSnapshot): Fetched<unknown>[] {
  const optional: (Fetched<unknown> | undefined)[] = [
    s.services,
    s.remoteSecrets,
    s.meshConfig,
    s.pilotEndpoints,
    s.istiodService,
    s.istiodEndpoints,
    s.istiodSlices,
  ];
  return [
    ...s.components.map((c) => c.pods),
    s.namespaces,
    s.workloads,
    s.controllers,
    ...optional.filter((f): f is Fetched<unknown> => f !== undefined),
  ];
}
