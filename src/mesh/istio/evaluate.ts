import type { ComponentSpec } from '../../config/schema.ts';
import type { KubeFailure } from '../../kube/errors.ts';
import { kubeconfigClusters, type NamespaceFacts, type PodFacts, type SecretFacts } from './facts.ts';
import type { Fetched } from './gather.ts';
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
  const expected = pods.filter((p) => !p.state.finished && !p.state.terminating);
  const inMesh = expected.filter((p) => !p.optedOut);
  const problems: SidecarProblem[] = inMesh
    .filter((p) => p.sidecar !== 'ready')
    .map((p) => ({
      namespace: p.state.namespace,
      pod: p.state.name,
      workload: p.workload,
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
    optedOut: expected.length - inMesh.length,
    problems,
  };
}

/**
 * Istio 1.0 names the secret and its data key after the cluster (`kubectl create secret generic iks
 * --from-file iks`); istioctl names it istio-remote-secret-<cluster> and annotates the cluster. Only when
 * no name matches are the kubeconfigs inside read for their cluster names (parsing them is the slow part).
 */
export function remoteSecretReports(
  secrets: SecretFacts[],
  remotes: readonly string[],
): RemoteSecretReport[] {
  const byKubeconfig = new Map<SecretFacts, string[]>();
  const inside = (s: SecretFacts) => {
    const known = byKubeconfig.get(s);
    if (known) return known;
    const names = s.values.flatMap(kubeconfigClusters);
    byKubeconfig.set(s, names);
    return names;
  };
  return remotes.map((remote) => {
    const secret =
      secrets.find(
        (s) =>
          s.name === remote || s.name === `istio-remote-secret-${remote}` || s.clusterNames.includes(remote),
      ) ?? secrets.find((s) => inside(s).includes(remote));
    return secret ? { remote, secret: secret.name } : { remote };
  });
}

/** The failure that explains a cluster answering nothing: the same one for every call, or the first. */
export function unreachable(fetched: readonly Fetched<unknown>[]): KubeFailure | undefined {
  if (fetched.length === 0 || fetched.some((f) => f.ok)) return undefined;
  const first = fetched.find((f): f is { ok: false; failure: KubeFailure } => !f.ok);
  return first?.failure;
}
