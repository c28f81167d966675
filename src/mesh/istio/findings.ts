import { plural } from '../../chat/mrkdwn.ts';
import type { IstioProfile } from '../../config/schema.ts';
import type { KubeFailure } from '../../kube/errors.ts';
import type { Severity } from '../health.ts';
import type { DriftFinding, DriftProblem } from './drift.ts';
import { type PodState, restartsText } from './pod-status.ts';
import { DISCOVERY, EASTWEST_COMPONENT, ISTIOD_COMPONENT } from './profiles.ts';
import type {
  ComponentReport,
  DataPlaneReport,
  RemoteSecretReport,
  SidecarProblem,
  StatusFinding,
} from './report.ts';

/**
 * Turns judged facts into findings: one line each, cluster name first, with what to do. A draft may
 * name the findings that would explain it, most fundamental first; the verdict keeps the first that exists.
 */
export interface Draft extends StatusFinding {
  explainedBy?: string[];
  /** About the discovery component (pilot, istiod): without it no proxy gets configuration. */
  discovery?: true;
}

const REACHABILITY_ACTION: Record<KubeFailure['kind'], string> = {
  timeout: 'check that the API server is up and that the worker can reach it (VPN, firewall, load balancer)',
  tls: "check the kubeconfig's certificate-authority-data and the server name",
  unauthorized:
    'the token was revoked or expired: issue a new one (kubectl create token …) and update the kubeconfig',
  forbidden:
    "grant meshops' account get/list on pods, namespaces, services, endpoints, configmaps and secrets, list on deployments and daemonsets (deploy/rbac)",
  refused: 'nothing listens at the API server address in the kubeconfig: check the server and its port',
  unreachable: 'check DNS and the network route from the worker to the API server',
  'server-error': "the API server itself is failing: check its health (and its load balancer's)",
  'not-found': 'check the server URL in the kubeconfig',
  conflict: 'retry the check',
  invalid: 'check the server URL in the kubeconfig',
  unknown: 'check the kubeconfig and the API server',
};

export function reachabilityFinding(
  cluster: string,
  role: 'primary' | 'remote',
  failure: KubeFailure,
): Draft {
  return {
    id: `${cluster}/reachability`,
    cluster,
    area: 'reachability',
    // Without the primary nobody can tell whether the mesh gets configuration at all.
    severity: role === 'primary' ? 'critical' : 'warning',
    text: `${cluster}: not reachable — ${failure.reason}${
      role === 'primary' ? ' (nothing on the primary, its remote secrets or any drift could be checked)' : ''
    }`,
    action: REACHABILITY_ACTION[failure.kind],
  };
}

export function notChecked(
  cluster: string,
  what: string,
  key: string,
  reason: string,
  explainedBy?: string[],
): Draft {
  return {
    id: `${cluster}/not-checked/${key}`,
    cluster,
    area: 'not-checked',
    // Unknown is not healthy: a check that could not run keeps the verdict from saying so.
    severity: 'warning',
    text: `${cluster}: ${what} not checked — ${reason}`,
    ...(explainedBy ? { explainedBy } : {}),
  };
}

/** kubectl's columns in one line: "istio-telemetry-7d9c 1/2 CrashLoopBackOff, restarts 7 (2m ago), last exit OOMKilled" */
export function podLine(p: PodState, now: number): string {
  const restarts = p.restarts > 0 ? `, restarts ${restartsText(p, now)}` : '';
  const exit = p.lastTermination && !p.healthy ? `, last exit ${p.lastTermination.reason}` : '';
  return `${p.name} ${p.ready} ${p.status}${restarts}${exit}`;
}

function podAction(p: PodState, namespace: string): string {
  const describe = `kubectl -n ${namespace} describe pod ${p.name}`;
  const container = p.lastTermination?.container;
  if (p.lastTermination?.reason === 'OOMKilled')
    return `${container} ran out of memory: raise its memory limit (${describe})`;
  if (/BackOff$|^Error$|ExitCode|Signal/.test(p.status) || p.lastTermination)
    return `read why it exits: kubectl -n ${namespace} logs ${p.name}${container ? ` -c ${container}` : ''} --previous`;
  if (/ImagePull|ErrImage|InvalidImageName/.test(p.status))
    return `check the image name and that the nodes can pull it (${describe})`;
  if (p.status === 'Pending' || p.status.startsWith('Init:') || p.status === 'ContainerCreating')
    return `the events say why it does not start: ${describe}`;
  if (p.status === 'Terminating') return 'the pod is being deleted; if it stays, check its node';
  return `its readiness probe fails: ${describe}`;
}

export function componentFindings(
  cluster: string,
  role: 'primary' | 'remote',
  profile: IstioProfile,
  namespace: string,
  components: readonly ComponentReport[],
  now: number,
): Draft[] {
  const out: Draft[] = [];
  for (const c of components) {
    if (c.health === 'unknown') {
      out.push(notChecked(cluster, c.name, `component/${c.name}`, c.reason ?? 'no answer'));
      continue;
    }
    if (c.health === 'ok') {
      const restarted = c.pods.filter((p) => p.recentRestart);
      const last = restarted[0];
      if (last) {
        out.push({
          id: `${cluster}/restart/${c.name}`,
          cluster,
          area: 'restart',
          severity: 'info',
          text: `${cluster}: ${c.name} restarted recently — ${restarted.map((p) => podLine(p, now)).join('; ')}`,
          ...(last.lastTermination ? { action: podAction(last, namespace) } : {}),
        });
      }
      continue;
    }
    const critical = role === 'primary' && c.name === DISCOVERY[profile] && c.health !== 'degraded';
    const severity: Severity = c.optional ? 'info' : critical ? 'critical' : 'warning';
    const base = {
      id: `${cluster}/component/${c.name}`,
      cluster,
      area: 'component' as const,
      severity,
      ...(c.name === DISCOVERY[profile] ? { discovery: true as const } : {}),
    };
    if (c.health === 'missing') {
      out.push({
        ...base,
        text: `${cluster}: ${c.name} missing — no pod matches ${c.selector} in ${namespace}${c.optional ? ' (optional)' : ''}`,
        action: `install it, or set istio.components in the meshops config if it runs under other labels`,
      });
      continue;
    }
    const bad = c.pods.filter((p) => !p.healthy);
    const worst = bad[0];
    out.push({
      ...base,
      text: `${cluster}: ${c.name} ${c.health} — ${c.ready}/${c.total} ready: ${bad.map((p) => podLine(p, now)).join('; ')}`,
      ...(worst ? { action: podAction(worst, namespace) } : {}),
    });
  }
  return out;
}

export function remoteSecretFindings(
  primary: string,
  profile: IstioProfile,
  namespace: string,
  reports: readonly RemoteSecretReport[],
): Draft[] {
  return reports.flatMap((r) => {
    const base = {
      id: `${primary}/remote-secret/${r.remote}`,
      cluster: primary,
      area: 'remote-secret' as const,
      severity: 'warning' as const,
    };
    const blind = `${DISCOVERY[profile]} does not see ${r.remote}'s services and endpoints`;
    if (!r.secret) {
      const create =
        profile === 'modern'
          ? `istioctl create-remote-secret --context=<${r.remote}> --name=${r.remote} | kubectl apply -f - --context=<${primary}>`
          : `kubectl -n ${namespace} create secret generic ${r.remote} --from-file=${r.remote}=<kubeconfig of ${r.remote}'s istio-multi account>, then kubectl -n ${namespace} label secret ${r.remote} istio/multiCluster=true`;
      return [
        {
          ...base,
          text: `${primary}: no remote secret for ${r.remote} — looked for ${r.looked.map((n) => `"${n}"`).join(' and ')} in ${namespace}${r.configured ? ' (clusters[].remoteSecret)' : ''}; ${blind}`,
          action: `list the candidates on ${primary} with kubectl get secret -n ${namespace} -l istio/multiCluster=true and set clusters[].remoteSecret of ${r.remote} in the meshops config to the right one; if there is none, create it: ${create}`,
        },
      ];
    }
    if (r.unlabelled) {
      return [
        {
          ...base,
          text: `${primary}: remote secret ${r.secret} for ${r.remote} lacks the label istio/multiCluster=true, so ${DISCOVERY[profile]} ignores it and ${blind.replace(/^\S+ /, '')}`,
          action: `on ${primary}: kubectl -n ${namespace} label secret ${r.secret} istio/multiCluster=true`,
        },
      ];
    }
    if (r.server) {
      const found = r.server.found.length > 0 ? `API server ${r.server.found.join(', ')}` : 'no kubeconfig';
      return [
        {
          ...base,
          text: `${primary}: remote secret ${r.secret} for ${r.remote} holds ${found}, not ${r.remote}'s ${r.server.expected} — ${DISCOVERY[profile]} may be reading another cluster as ${r.remote}`,
          action: `check that clusters[].remoteSecret of ${r.remote} names ${r.remote}'s secret (kubectl get secret -n ${namespace} -l istio/multiCluster=true on ${primary}), or recreate ${r.secret} from ${r.remote}'s istio-multi kubeconfig`,
        },
      ];
    }
    return [];
  });
}

/** The istio-remote chart value that writes each component's address (istio/istio 1.0.2
 * install/kubernetes/helm/istio-remote/templates/configmap.yaml). */
export const CHART_VALUE: Record<string, string> = {
  pilot: 'global.remotePilotAddress',
  policy: 'global.remotePolicyAddress',
  telemetry: 'global.remoteTelemetryAddress',
  tracing: 'global.remoteZipkinAddress',
  'statsd-prom-bridge': 'global.proxy.envoyStatsd.host',
  [ISTIOD_COMPONENT]: 'global.remotePilotAddress',
};

/**
 * What each drifted address breaks on the remote (docs/repair-drift.md gives the Istio 1.0 sources): pilot
 * and istiod hand out configuration, policy decides requests, the rest only loses observations.
 */
export const DRIFT_EFFECT: Record<string, string> = {
  pilot:
    'new sidecars get no configuration from pilot and never become ready; running ones keep their last routes and endpoints',
  policy:
    'Mixer policy checks cannot be made, and Istio 1.0 sidecars fail closed (unless disablePolicyChecks is true): requests through them are refused',
  telemetry: 'Mixer reports are lost: no istio_* request metrics for traffic through the sidecars',
  tracing: 'spans from the sidecars are dropped without an error: traces lose their hops there',
  'statsd-prom-bridge': "Envoy's statsd metrics are dropped without an error (UDP)",
  [ISTIOD_COMPONENT]: 'proxies get no configuration and no certificate renewals from istiod',
};

const unique = (items: readonly string[]) => [...new Set(items)];

function listed(items: readonly string[], max = 3): string {
  return items.length <= max
    ? items.join(', ')
    : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** One finding per drifted component of a remote; the DriftFinding list keeps every object for the repair. */
export function driftFindings(
  remote: string,
  primary: string,
  profile: IstioProfile,
  drift: readonly DriftFinding[],
): Draft[] {
  const byComponent = new Map<string, DriftFinding[]>();
  for (const d of drift) byComponent.set(d.component, [...(byComponent.get(d.component) ?? []), d]);
  return [...byComponent].map(([component, items]) => {
    const configured = unique(items.map((d) => d.configuredHost));
    const live = items[0]!.live;
    const stable = items[0]!.stable;
    const pods = items.filter((d) => d.object.startsWith('Pod '));
    const config = items.filter((d) => !d.object.startsWith('Pod '));
    const kinds = unique(config.map((d) => d.object.split(' ')[0]!));
    const subject =
      profile === 'modern'
        ? 'the istiod endpoints point'
        : pods.length > 0
          ? 'sidecars point'
          : `the ${kinds.join(' and ')} ${kinds.length > 1 ? 'point' : 'points'}`;
    const where =
      profile === 'modern' ? `the east-west gateway on ${primary} is at` : `${component} now runs at`;
    const effect = DRIFT_EFFECT[component] ? ` — ${DRIFT_EFFECT[component]}` : '';
    const text =
      live.length > 0
        ? `${remote}: ${subject} at ${component} ${listed(configured)}, ${where} ${listed(live)} (drift)${effect}`
        : `${remote}: ${subject} at ${component} ${listed(configured)}, but ${
            profile === 'modern'
              ? `the east-west gateway on ${primary} has no external address`
              : `${component} has no pod on ${primary}`
          } (drift)${effect}`;
    const steps: string[] = [];
    if (config.length > 0 && live[0])
      steps.push(
        `re-install the ${profile === 'modern' ? 'remote profile' : 'istio-remote chart'} on ${remote} with ${CHART_VALUE[component] ?? 'the new address'}=${live[0]}`,
      );
    if (pods.length > 0) {
      const which = listed(pods.map((d) => d.object.slice('Pod '.length)));
      steps.push(
        pods.length === 1
          ? `restart the injected pod on ${remote} that still carries the old address (${which})`
          : `restart the ${pods.length} injected pods on ${remote} that still carry the old address (${which})`,
      );
    }
    const lasting =
      stable[0] && profile !== 'modern'
        ? ` To stop it recurring, give ${remote} ${component}'s Service address ${stable[0]}, which survives pod restarts.`
        : '';
    const action =
      live.length === 0
        ? `once ${component} runs again on ${primary}, check again: the new address to give ${remote} is known then`
        : `${steps.join(', then ')}.${lasting}`;
    return {
      id: `${remote}/drift/${component}`,
      cluster: remote,
      area: 'drift' as const,
      severity: 'warning' as const,
      ...(component === DISCOVERY[profile] ? { discovery: true as const } : {}),
      text,
      action,
      ...(live.length === 0
        ? {
            explainedBy: [
              `${primary}/reachability`,
              `${primary}/component/${profile === 'modern' ? EASTWEST_COMPONENT : component}`,
            ],
          }
        : {}),
    };
  });
}

export function driftProblemFindings(
  remote: string,
  primary: string,
  problems: readonly DriftProblem[],
): Draft[] {
  const out: Draft[] = [];
  const unread = problems.filter((p) => p.kind === 'not-checked');
  if (unread.length > 0) {
    out.push(
      notChecked(
        remote,
        'address drift',
        'drift',
        unread.map((p) => `${p.cluster} did not answer for ${p.what}: ${p.failure.reason}`).join('; '),
        unread.some((p) => p.cluster === primary) ? [`${primary}/reachability`] : [`${remote}/reachability`],
      ),
    );
  }
  for (const p of problems) {
    if (p.kind === 'mesh-config-absent')
      out.push({
        id: `${remote}/control-plane-config/mesh`,
        cluster: remote,
        area: 'control-plane-config',
        severity: 'warning',
        text: `${remote}: ${p.object} missing — new sidecars on ${remote} get no control-plane addresses`,
        action: `install the istio-remote chart on ${remote} with the addresses of ${primary}'s control plane`,
      });
    if (p.kind === 'mesh-config-invalid')
      out.push({
        id: `${remote}/control-plane-config/mesh`,
        cluster: remote,
        area: 'control-plane-config',
        severity: 'warning',
        text: `${remote}: ${p.object} is unusable: ${p.reason}`,
        action: `re-install the istio-remote chart on ${remote}`,
      });
    if (p.kind === 'istiod-service-absent' || p.kind === 'istiod-endpoints-absent')
      out.push({
        id: `${remote}/control-plane-config/istiod`,
        cluster: remote,
        area: 'control-plane-config',
        severity: 'warning',
        text: `${remote}: ${p.object} missing — proxies on ${remote} cannot reach istiod on ${primary}`,
        action: `install the remote profile on ${remote} with global.remotePilotAddress=<east-west gateway address of ${primary}>`,
      });
  }
  return out;
}

/**
 * One finding per cluster and kind of problem, counting the pods and naming the worst: a stable id while
 * the problem lasts, however many pods come and go.
 */
export function sidecarFindings(
  cluster: string,
  primary: string,
  profile: IstioProfile,
  dataPlane: DataPlaneReport,
): Draft[] {
  const out: Draft[] = [];
  const names = (pods: SidecarProblem[]) =>
    listed(pods.map((p) => `${p.namespace}/${p.pod} ${p.ready} ${p.status}`));
  const unready = dataPlane.problems.filter((p) => p.problem === 'unready');
  const missing = dataPlane.problems.filter((p) => p.problem === 'missing');
  const discovery = DISCOVERY[profile];
  const worst = unready[0];
  if (worst) {
    out.push({
      id: `${cluster}/sidecars/unready`,
      cluster,
      area: 'sidecar',
      severity: 'warning',
      text: `${cluster}: istio-proxy not ready in ${unready.length} of ${plural(dataPlane.pods, 'pod')} in the mesh — ${names(unready)}`,
      action: `kubectl -n ${worst.namespace} logs ${worst.pod} -c istio-proxy says why Envoy gets no configuration`,
      // Envoy turns ready only once it has configuration from the discovery service.
      explainedBy: [
        `${primary}/reachability`,
        `${primary}/component/${discovery}`,
        `${cluster}/drift/${discovery}`,
        `${cluster}/control-plane-config/${profile === 'modern' ? 'istiod' : 'mesh'}`,
      ],
    });
  }
  const first = missing[0];
  if (first) {
    out.push({
      id: `${cluster}/sidecars/missing`,
      cluster,
      area: 'sidecar',
      severity: 'warning',
      text: `${cluster}: ${missing.length} of ${plural(dataPlane.pods, 'pod')} in the mesh run without an istio-proxy sidecar — ${names(missing)}`,
      action: first.restartKind
        ? `recreate them so the injector adds the sidecar (e.g. kubectl -n ${first.namespace} rollout restart ${first.restartKind}/${first.workload})`
        : `recreate them so the injector adds the sidecar (e.g. delete pod ${first.namespace}/${first.pod} and create it again)`,
      explainedBy: [`${cluster}/component/sidecar-injector`],
    });
  }
  return out;
}
