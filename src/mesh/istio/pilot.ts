import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError } from '../../kube/errors.ts';
import { DISCOVERY } from './findings.ts';
import type { IstioSetup } from './profiles.ts';
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
 * Reads `/debug/syncz` from every running pilot of the primary, one exec per pilot pod (with several
 * replicas a Service would reach only one of them). One list and one exec per pilot, whatever the number
 * of proxies.
 */
export async function readSyncz(
  cluster: Cluster,
  setup: IstioSetup,
  timeoutMs: number,
): Promise<SynczReading> {
  const started = performance.now();
  const left = () => Math.max(1, Math.round(timeoutMs - (performance.now() - started)));
  let pods: string[];
  try {
    const list = await cluster.core.listNamespacedPod(
      { namespace: setup.namespace, labelSelector: pilotSelector(setup) },
      cluster.options(left()),
    );
    pods = list.items
      .filter((p) =>
        p.status?.containerStatuses?.some((s) => s.name === DISCOVERY_CONTAINER && s.state?.running),
      )
      .map((p) => p.metadata?.name ?? '')
      .filter((n) => n !== '')
      .sort();
  } catch (err) {
    return { pilots: [], proxies: [], failure: classifyKubeError(err, timeoutMs).reason };
  }
  if (pods.length === 0) {
    return {
      pilots: [],
      proxies: [],
      failure: `no running ${DISCOVERY[setup.profile]} pod (${pilotSelector(setup)}) in ${setup.namespace}`,
    };
  }
  const answers = await Promise.all(
    pods.map(async (pod): Promise<{ answer: PilotAnswer; proxies: ProxySync[] }> => {
      try {
        const result = await cluster.exec({
          namespace: setup.namespace,
          pod,
          container: DISCOVERY_CONTAINER,
          command: SYNCZ_ARGV,
          timeoutMs: left(),
        });
        if (result.exitCode !== 0) {
          const why = result.stderr.trim().split('\n')[0] || `exit code ${result.exitCode}`;
          return {
            answer: { pod, ok: false, reason: `pilot-discovery request failed: ${why}` },
            proxies: [],
          };
        }
        const parsed = parseSyncz(result.stdout, pod);
        return parsed.ok
          ? { answer: { pod, ok: true }, proxies: parsed.proxies }
          : { answer: { pod, ok: false, reason: parsed.reason }, proxies: [] };
      } catch (err) {
        const failure = classifyKubeError(err, timeoutMs);
        return {
          answer: { pod, ok: false, reason: failure.reason, forbidden: failure.kind === 'forbidden' },
          proxies: [],
        };
      }
    }),
  );
  return {
    pilots: answers.map((a) => a.answer),
    proxies: answers.flatMap((a) => a.proxies).sort((a, b) => a.id.localeCompare(b.id)),
  };
}
