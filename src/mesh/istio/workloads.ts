import { type PodFacts, type ServiceFacts, selects, type WorkloadFacts } from './facts.ts';
import type { Draft } from './findings.ts';
import type { ComponentReport } from './report.ts';

/** The Istio 1.0 chart's webhook Service (sidecarInjectorWebhook templates/service.yaml). */
export const INJECTOR_SERVICE = 'istio-sidecar-injector';
const INJECTOR_COMPONENT = 'sidecar-injector';

/**
 * Why the injector cannot answer, when it cannot: its pods are not ready, or its Service selects no ready pod.
 * Istio 1.0's webhook is fail-closed (failurePolicy: Fail), so then no pod is created in an injected namespace.
 */
export function injectorDown(
  components: readonly ComponentReport[],
  services: readonly ServiceFacts[] | undefined,
  istioPods: readonly PodFacts[],
): string | undefined {
  const component = components.find((c) => c.name === INJECTOR_COMPONENT);
  if (component && component.health !== 'unknown' && component.ready === 0)
    return `no ${INJECTOR_COMPONENT} pod is ready`;
  const service = services?.find((s) => s.name === INJECTOR_SERVICE);
  if (services && !service) return `the Service ${INJECTOR_SERVICE} is absent`;
  if (service && !istioPods.some((p) => p.state.healthy && selects(service.selector, p.labels)))
    return `the Service ${INJECTOR_SERVICE} selects no ready pod`;
  return undefined;
}

/** One finding per workload short of its desired count; none for a workload scaled to zero. */
export function workloadFindings(
  cluster: string,
  istioNamespace: string,
  workloads: readonly WorkloadFacts[],
  injectedNamespaces: ReadonlySet<string>,
  injector: string | undefined,
): Draft[] {
  return workloads
    .filter((w) => w.available < w.desired)
    .map((w) => {
      const what = `${w.kind} ${w.namespace}/${w.name}`;
      const noPods = w.created === 0 ? ', no pods created' : '';
      const blocked = w.created === 0 && injectedNamespaces.has(w.namespace) && injector !== undefined;
      const describe = `kubectl -n ${w.namespace} describe ${w.kind.toLowerCase()} ${w.name}`;
      return {
        id: `${cluster}/workload/${w.namespace}/${w.name}`,
        cluster,
        area: 'workload' as const,
        // The app is short, not the mesh: the control plane's own Deployments are judged as components.
        severity: 'warning' as const,
        text: `${cluster}: ${what} ${w.available} of ${w.desired} available${noPods}${
          blocked ? ` — the sidecar injector webhook is fail-closed and ${injector}` : ''
        }${w.failure ? ` (${oneLine(w.failure)})` : ''}`,
        action: blocked
          ? `bring the injector back (kubectl -n ${istioNamespace} get pods,endpoints -l istio=sidecar-injector); the ReplicaSet retries on its own`
          : `the events say why: ${describe}`,
        // Pods that exist but are not ready are named by the sidecar finding when their proxy is the reason.
        explainedBy: blocked
          ? [`${cluster}/component/${INJECTOR_COMPONENT}`]
          : [`${cluster}/sidecars/unready`],
      };
    });
}

const oneLine = (text: string) => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
};
