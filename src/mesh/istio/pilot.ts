import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError } from '../../kube/errors.ts';
import { apiPath, listItems } from '../../kube/list.ts';
import type { IstioSetup } from './profiles.ts';
import { DISCOVERY } from './profiles.ts';
import { DISCOVERY_CONTAINER, type ProxySync, parseSyncz, SYNCZ_ARGV } from './syncz.ts';

/** One pilot pod's answer: its proxies, or why it gave none. */
export interface PilotAnswer {
  pod: string;
  ok: boolean;
  reason?: string;
  forbidden?: boolean;
}

export interface SynczReading {
  pilots: PilotAnswer[];
  /** Every proxy connected to any pilot (a proxy holds one ADS stream, so it appears once). */
  proxies: ProxySync[];
  /** Why nothing could be read at all (no pilot pod, pods not listable). */
  failure?: string;
}

/** The pilot's selector for this setup: its component entry, else the chart's label. */
export function pilotSelector(setup: IstioSetup): string {
  const name = DISCOVERY[setup.profile];
  return setup.components.find((c) => c.name === name)?.selector ?? 'istio=pilot';
}

/**
 * Where Istio 1.0 pilot answers its debug handlers: its HTTP port behind the `istio-pilot` Service, reached
 * through the API server's service proxy (one GET, no exec). Modern istiod refuses such callers (401).
 */
export const PILOT_SERVICE_10 = 'istio-pilot';
export const PILOT_HTTP_PORT_10 = 8080;

export function synczProxyPath(namespace: string): string {
  return `/api/v1/namespaces/${namespace}/services/${PILOT_SERVICE_10}:${PILOT_HTTP_PORT_10}/proxy/debug/syncz`;
}

/** A pilot pod as the API server sends it, reduced to whether its discovery container runs. */
interface PilotPodShape {
  metadata?: { name?: string };
  status?: { containerStatuses?: readonly { name: string; state?: { running?: object | null } }[] };
}

async function execSyncz(
  cluster: Cluster,
  namespace: string,
  pod: string,
  timeoutMs: number,
): Promise<{ answer: PilotAnswer; proxies: ProxySync[] }> {
  try {
    const result = await cluster.exec({
      namespace,
      pod,
      container: DISCOVERY_CONTAINER,
      command: SYNCZ_ARGV,
      timeoutMs,
    });
    if (result.exitCode !== 0) {
      const why = result.stderr.trim().split('\n')[0] || `exit code ${result.exitCode}`;
      return { answer: { pod, ok: false, reason: `pilot-discovery request failed: ${why}` }, proxies: [] };
    }
    return fromText(result.stdout, pod);
  } catch (err) {
    const failure = classifyKubeError(err, timeoutMs);
    return {
      answer: { pod, ok: false, reason: failure.reason, forbidden: failure.kind === 'forbidden' },
      proxies: [],
    };
  }
}

function fromText(text: string, pod: string): { answer: PilotAnswer; proxies: ProxySync[] } {
  const parsed = parseSyncz(text, pod);
  return parsed.ok
    ? { answer: { pod, ok: true }, proxies: parsed.proxies }
    : { answer: { pod, ok: false, reason: parsed.reason }, proxies: [] };
}

/**
 * Reads `/debug/syncz` from the primary's pilot. Istio 1.0 with one pilot: one GET through the service proxy,
 * sent alongside the pilot pod list. Several replicas (a Service reaches only one of them), modern istiod, or
 * a refused proxy: one exec per pilot pod, as `istioctl proxy-status` does. Never one call per proxy.
 */
export async function readSyncz(
  cluster: Cluster,
  setup: IstioSetup,
  timeoutMs: number,
): Promise<SynczReading> {
  const started = performance.now();
  const left = () => Math.max(1, Math.round(timeoutMs - (performance.now() - started)));
  const viaService =
    setup.profile === 'istio-1.0'
      ? cluster.get(synczProxyPath(setup.namespace), timeoutMs).catch(() => undefined)
      : undefined;
  let pods: string[];
  try {
    const list = await listItems<PilotPodShape>(
      cluster,
      apiPath({ namespace: setup.namespace, resource: 'pods', labelSelector: pilotSelector(setup) }),
      'pods',
      left(),
    );
    pods = list
      .filter((p) =>
        p.status?.containerStatuses?.some((s) => s.name === DISCOVERY_CONTAINER && s.state?.running),
      )
      .map((p) => p.metadata?.name ?? '')
      .filter((n) => n !== '')
      .sort();
  } catch (err) {
    await viaService;
    return { pilots: [], proxies: [], failure: classifyKubeError(err, timeoutMs).reason };
  }
  if (pods.length === 0) {
    await viaService;
    return {
      pilots: [],
      proxies: [],
      failure: `no running ${DISCOVERY[setup.profile]} pod (${pilotSelector(setup)}) in ${setup.namespace}`,
    };
  }
  const proxied = await viaService;
  const answers =
    pods.length === 1 && proxied?.status === 200
      ? [fromText(proxied.body, pods[0]!)]
      : await Promise.all(pods.map((pod) => execSyncz(cluster, setup.namespace, pod, left())));
  return {
    pilots: answers.map((a) => a.answer),
    proxies: answers.flatMap((a) => a.proxies).sort((a, b) => a.id.localeCompare(b.id)),
  };
}
