import type { ComponentSpec } from '../../config/schema.ts';
import type { KubeFailure } from '../../kube/errors.ts';
import { type NamespaceFacts, type PodFacts, sameServer } from './facts.ts';
import type { Fetched, RemoteSecretLookup } from './gather.ts';
import type {
  ComponentHealth,
  ComponentReport,
  DataPlaneReport,
  RemoteSecretReport,
  SidecarProblem,
} from './report.ts';

/** Pure judgements of one cluster's answers: components, data plane, remote secrets. */

export function componentReport(spec: ComponentSpec, fetched: Fetched<PodFacts[]>): ComponentReport {
  const base = { name: spec.name, selector: spec.selector, optional: spec.optional };
  if (!fetched.ok)
    return { ...base, health: 'unknown', ready: 0, total: 0, pods: [], reason: fetched.failure.reason };
  const pods = fetched.value.map((p) => p.state);
  // A pod being deleted during a rollout is shown but neither counts for nor against the component.
  const counted = pods.filter((p) => !p.terminating);
  const ready = counted.filter((p) => p.healthy).length;
  let health: ComponentHealth;
  if (counted.length === 0) health = pods.length > 0 ? 'down' : 'missing';
  else if (ready === counted.length) health = 'ok';
  else health = ready === 0 ? 'down' : 'degraded';
  return { ...base, health, ready, total: counted.length, pods };
}

export function dataPlaneReport(namespaces: NamespaceFacts[], pods: PodFacts[]): DataPlaneReport {
  // Completed Job pods are done, and the injector never touches hostNetwork pods; the VPN gateway must
  // stay without a sidecar (Envoy's iptables redirect would capture the traffic it forwards).
  const expected = pods.filter((p) => !p.state.finished && !p.state.terminating);
  const injectable = expected.filter((p) => !p.hostNetwork && !p.vpnGateway);
  const inMesh = injectable.filter((p) => !p.optedOut);
  const problems: SidecarProblem[] = inMesh
    .filter((p) => p.sidecar !== 'ready')
    .map((p) => ({
      namespace: p.state.namespace,
      pod: p.state.name,
      workload: p.workload,
      ...(p.restartKind ? { restartKind: p.restartKind } : {}),
      problem: p.sidecar === 'missing' ? ('missing' as const) : ('unready' as const),
      status: p.state.status,
      ready: p.state.ready,
      restarts: p.state.restarts,
    }))
    .sort(
      (a, b) =>
        (a.problem === b.problem ? 0 : a.problem === 'unready' ? -1 : 1) ||
        b.restarts - a.restarts ||
        a.namespace.localeCompare(b.namespace) ||
        a.pod.localeCompare(b.pod),
    );
  return {
    namespaces: namespaces.flatMap((n) => (n.injection ? [{ name: n.name, injection: n.injection }] : [])),
    pods: inMesh.length,
    withReadySidecar: inMesh.length - problems.length,
    optedOut: injectable.length - inMesh.length,
    notInjected: expected.length - injectable.length,
    problems,
  };
}

/**
 * Each remote's secret as the primary holds it: absent, not labelled for pilot, or pointing at another API
 * server than the one meshops reaches the remote at.
 */
export function remoteSecretReports(
  lookups: readonly RemoteSecretLookup[],
  remotes: readonly string[],
): RemoteSecretReport[] {
  return lookups
    .filter((l) => remotes.includes(l.remote.name))
    .map(({ remote, looked, secret }) => {
      const base: RemoteSecretReport = {
        remote: remote.name,
        looked,
        ...(remote.secret ? { configured: true as const } : {}),
      };
      if (!secret) return base;
      const found: RemoteSecretReport = { ...base, secret: secret.name };
      if (!secret.labelled) return { ...found, unlabelled: true as const };
      if (remote.server && !secret.servers.some((s) => sameServer(s, remote.server)))
        return { ...found, server: { expected: remote.server, found: secret.servers } };
      return found;
    });
}

/** The failure that explains a cluster answering nothing: the same one for every call, or the first. */
export function unreachable(fetched: readonly Fetched<unknown>[]): KubeFailure | undefined {
  if (fetched.length === 0 || fetched.some((f) => f.ok)) return undefined;
  const first = fetched.find((f): f is { ok: false; failure: KubeFailure } => !f.ok);
  return first?.failure;
}
