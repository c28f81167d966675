import type { IstioProfile } from '../../config/schema.ts';
import type { KubeFailure } from '../../kube/errors.ts';
import { type ConfiguredAddress, hostOf, isIp, PROXY_FLAG_COMPONENT, selects } from './facts.ts';
import { type ClusterSnapshot, type Fetched, REMOTE_ISTIOD_SERVICE } from './gather.ts';
import { EASTWEST_COMPONENT, ISTIOD_COMPONENT } from './profiles.ts';
import { type IstiodObjectKind, istiodObjectOf } from './remote-istiod.ts';

/**
 * Control-plane address drift (istio/istio#4822): a remote was handed addresses of primary pods, and a
 * pod restart moves them. Everything here is pure (`gather-drift.ts` reads the clusters), so the repair
 * reuses it as is.
 */

export interface LiveComponent {
  /** Where the component runs now: IPs of its pods (1.0) or the east-west gateway's external address (modern). */
  live: string[];
  /** Service addresses that also reach it and survive pod restarts (ClusterIP, LoadBalancer). */
  stable: string[];
  /** The address a repair points at: the newest Ready pod (the one a finished rollout keeps). */
  target?: string;
  /** Why no address can be trusted yet: a pod is not Ready, or the Deployment has not finished its rollout. */
  unsettled?: string;
}

export interface PrimaryControlPlane {
  cluster: string;
  profile: IstioProfile;
  components: Record<string, LiveComponent>;
}

export interface RemoteControlPlane {
  cluster: string;
  profile: IstioProfile;
  /** Addresses given as IPs (or, modern, as the gateway hostname): comparable with the primary. */
  addresses: ConfiguredAddress[];
  /** Hostnames the remote resolves itself (e.g. istio-pilot.istio-system via its Endpoints): not compared. */
  unresolved: ConfiguredAddress[];
  /** Modern: the object holding istiod's address, and the Istio version that decided it (when known). */
  istiod?: RemoteIstiod;
}

export interface RemoteIstiod {
  kind: IstiodObjectKind;
  version?: string;
}

export interface DriftFinding {
  remote: string;
  primary: string;
  component: string;
  object: string;
  field: string;
  /** The value as written on the remote, e.g. "10.1.0.23:15007". */
  configured: string;
  configuredHost: string;
  live: string[];
  stable: string[];
  /** The value to write instead (same port, the component's target); absent when there is none. */
  suggested?: string;
  /** Why the repair must wait: a pod is not Ready, or its Deployment has not finished rolling out. */
  unsettled?: string;
}

/** Compares what the remote was given with where the primary's components answer now. */
export function detectDrift(remote: RemoteControlPlane, primary: PrimaryControlPlane): DriftFinding[] {
  const findings: DriftFinding[] = [];
  for (const address of remote.addresses) {
    const now = primary.components[address.component];
    // A component the primary's profile does not run (e.g. overridden away) cannot be judged.
    if (!now) continue;
    if (now.live.includes(address.host) || now.stable.includes(address.host)) continue;
    const target = now.unsettled ? undefined : (now.target ?? now.live[0]);
    findings.push({
      remote: remote.cluster,
      primary: primary.cluster,
      component: address.component,
      object: address.object,
      field: address.field,
      configured: address.value,
      configuredHost: address.host,
      live: now.live,
      stable: now.stable,
      ...(target ? { suggested: address.value.replace(address.host, target) } : {}),
      ...(now.unsettled ? { unsettled: now.unsettled } : {}),
    });
  }
  return findings;
}

/** Why one side could not be read completely; the finding names it, the check carries on. */
export type DriftProblem = { cluster: string } & (
  | { kind: 'not-checked'; what: string; failure: KubeFailure }
  | { kind: 'mesh-config-absent'; object: string }
  | { kind: 'mesh-config-invalid'; object: string; reason: string }
  | { kind: 'istiod-service-absent'; object: string }
  | { kind: 'istiod-endpoints-absent'; object: string }
);

function reader(cluster: string, problems: DriftProblem[]) {
  return <T>(what: string, f: Fetched<T> | undefined): T | undefined => {
    if (!f) return undefined;
    if (f.ok) return f.value;
    problems.push({ cluster, kind: 'not-checked', what, failure: f.failure });
    return undefined;
  };
}

/**
 * The primary side: live addresses per component, from a snapshot's component pods and Services. A
 * component whose answer is missing is left out, so it is never reported as drifted on a guess.
 */
export function primaryControlPlane(snapshot: ClusterSnapshot): {
  state: PrimaryControlPlane;
  problems: DriftProblem[];
} {
  const ns = snapshot.setup.namespace;
  const problems: DriftProblem[] = [];
  const take = reader(snapshot.cluster, problems);
  const services = take(`Services in ${ns}`, snapshot.services);
  const components: Record<string, LiveComponent> = {};
  const state = { cluster: snapshot.cluster, profile: snapshot.setup.profile, components };
  if (!services) return { state, problems };
  for (const { spec, pods: fetched, rollouts: fetchedRollouts } of snapshot.components) {
    const pods = take(`${spec.name} pods`, fetched);
    if (!pods) continue;
    // Unread, the drift is still judged from the pods; the problem it leaves stops a repair.
    const rollouts = take(`${spec.name} Deployments`, fetchedRollouts) ?? [];
    // Ready or not: a crash-looping pod keeps its IP, so its address has not drifted (the component
    // finding covers it); a pod being deleted has given its address up.
    const running = pods.filter((p) => p.state.ip && !p.state.terminating && !p.state.finished);
    const ready = running.filter((p) => p.state.healthy);
    const counted = pods.filter((p) => !p.state.terminating && !p.state.finished);
    // During a rollout the old pod is about to go: the newest Ready pod is the one that stays.
    const newest = [...ready].sort((a, b) =>
      (b.state.createdAt ?? '').localeCompare(a.state.createdAt ?? ''),
    )[0];
    // The Deployment knows of a rollout before its pods show it: a new generation not yet observed, a
    // replica not yet updated or not yet available while every pod listed is still Ready.
    const rolling = rollouts.flatMap((r) =>
      r.rollout.done ? [] : [`Deployment ${r.name} is rolling out (${r.rollout.text})`],
    );
    const unready =
      ready.length < counted.length
        ? [
            `${ready.length} of ${counted.length} ${spec.name} pods Ready on ${snapshot.cluster} (${counted
              .filter((p) => !p.state.healthy)
              .map((p) => `${p.state.name} ${p.state.status}`)
              .join(', ')}): a rollout is in progress or a pod is failing`,
          ]
        : [];
    const unsettled = [
      ...unready,
      ...(rolling.length > 0 ? [`${spec.name} on ${snapshot.cluster}: ${rolling.join(', ')}`] : []),
    ];
    components[spec.name] = {
      live: running.map((p) => p.state.ip!),
      stable: services
        .filter((svc) => pods.some((p) => selects(svc.selector, p.labels)))
        .flatMap((svc) => svc.addresses),
      ...(newest ? { target: newest.state.ip! } : {}),
      ...(unsettled.length > 0 ? { unsettled: unsettled.join('; ') } : {}),
    };
  }
  if (snapshot.setup.profile === 'modern') {
    const gateway = snapshot.components.find((c) => c.spec.name === EASTWEST_COMPONENT)?.pods;
    if (gateway?.ok) {
      const external = services
        .filter((svc) => gateway.value.some((p) => selects(svc.selector, p.labels)))
        .flatMap((svc) => svc.external);
      components[ISTIOD_COMPONENT] = {
        live: external,
        stable: [],
        ...(external[0] ? { target: external[0] } : {}),
      };
    }
  }
  return { state, problems };
}

function split(addresses: ConfiguredAddress[], comparable: (a: ConfiguredAddress) => boolean) {
  return {
    addresses: addresses.filter(comparable),
    unresolved: addresses.filter((a) => !comparable(a)),
  };
}

/** The remote side: every place an address of the primary was written, from a snapshot of the remote. */
export function remoteControlPlane(
  snapshot: ClusterSnapshot,
  /** Modern: the Istio version the remote runs (`remoteIstioVersion`), which decides the istiod object. */
  version?: string,
): {
  state: RemoteControlPlane;
  problems: DriftProblem[];
} {
  const ns = snapshot.setup.namespace;
  const cluster = snapshot.cluster;
  const problems: DriftProblem[] = [];
  const found: ConfiguredAddress[] = [];
  const take = reader(cluster, problems);

  if (snapshot.setup.profile === 'istio-1.0') {
    const mesh = take(`ConfigMap ${ns}/istio`, snapshot.meshConfig);
    if (mesh?.state === 'absent')
      problems.push({ cluster, kind: 'mesh-config-absent', object: `ConfigMap ${ns}/istio` });
    if (mesh?.state === 'invalid')
      problems.push({
        cluster,
        kind: 'mesh-config-invalid',
        object: `ConfigMap ${ns}/istio`,
        reason: mesh.reason,
      });
    if (mesh?.state === 'ok') found.push(...mesh.addresses);
    found.push(...(take(`Endpoints ${ns}/istio-pilot`, snapshot.pilotEndpoints) ?? []));
    // Injected pods keep the addresses they were created with, whatever the ConfigMap says now.
    const pods = take('sidecar arguments', snapshot.workloads) ?? [];
    for (const pod of pods) {
      for (const [flag, value] of Object.entries(pod.proxyArgs)) {
        found.push({
          component: PROXY_FLAG_COMPONENT[flag as keyof typeof PROXY_FLAG_COMPONENT],
          object: `Pod ${pod.state.namespace}/${pod.state.name}`,
          field: `istio-proxy --${flag}`,
          value,
          host: hostOf(value),
        });
      }
    }
    return { state: { cluster, profile: 'istio-1.0', ...split(found, (a) => isIp(a.host)) }, problems };
  }

  const service = take(`Service ${ns}/${REMOTE_ISTIOD_SERVICE}`, snapshot.istiodService);
  if (service === null)
    problems.push({
      cluster,
      kind: 'istiod-service-absent',
      object: `Service ${ns}/${REMOTE_ISTIOD_SERVICE}`,
    });
  if (service?.externalName) {
    found.push({
      component: ISTIOD_COMPONENT,
      object: `Service ${ns}/${REMOTE_ISTIOD_SERVICE}`,
      field: 'spec.externalName',
      value: service.externalName,
      host: service.externalName,
    });
  }
  const istiod = istiodObject(snapshot, version);
  if (service && !service.externalName) {
    const addresses =
      istiod.kind === 'Endpoints'
        ? take(`Endpoints ${ns}/${REMOTE_ISTIOD_SERVICE}`, snapshot.istiodEndpoints)
        : take(`EndpointSlices of ${ns}/${REMOTE_ISTIOD_SERVICE}`, snapshot.istiodSlices);
    if (addresses === null || addresses?.length === 0)
      problems.push({
        cluster,
        kind: 'istiod-endpoints-absent',
        object: `${istiod.kind} ${ns}/${REMOTE_ISTIOD_SERVICE}`,
      });
    found.push(...(addresses ?? []));
  }
  // The gateway may be published by hostname: every modern address is comparable as written.
  return { state: { cluster, profile: 'modern', addresses: found, unresolved: [], istiod }, problems };
}

/**
 * Which object the remote's chart owns, by the Istio version the remote runs. Without a version, the
 * Endpoints when there are any (the chart's before 1.28; a 1.28 upgrade deletes them), else the EndpointSlice.
 */
function istiodObject(snapshot: ClusterSnapshot, version: string | undefined): RemoteIstiod {
  const kind = istiodObjectOf(version);
  if (kind && version) return { kind, version };
  const endpoints = snapshot.istiodEndpoints;
  return { kind: endpoints?.ok && endpoints.value ? 'Endpoints' : 'EndpointSlice' };
}
