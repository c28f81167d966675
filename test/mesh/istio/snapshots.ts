import type { V1Pod } from '@kubernetes/client-node';
import type { ComponentSpec } from '../../../src/config/schema.ts';
import type { RolloutFacts, WorkloadFacts } from '../../../src/mesh/istio/facts.ts';
import {
  type ConfiguredAddress,
  type PodFacts,
  podFacts,
  type ServiceFacts,
} from '../../../src/mesh/istio/facts.ts';
import type { ClusterSnapshot, Fetched } from '../../../src/mesh/istio/gather.ts';
import { BUILTIN_PROFILES } from '../../../src/mesh/istio/profiles.ts';

/** Cluster answers written by hand, for judging without servers. */

export const NOW = Date.parse('2026-11-27T12:00:00Z');

export const ok = <T>(value: T): Fetched<T> => ({ ok: true, value });

export function pod(
  name: string,
  o: {
    namespace?: string;
    labels?: Record<string, string>;
    ip?: string;
    ready?: boolean;
    proxy?: 'ready' | 'unready' | 'none';
    proxyArgs?: string[];
    /** Age in ms at NOW (one day by default). */
    ageMs?: number;
  } = {},
): PodFacts {
  const proxy = o.proxy ?? 'none';
  const v1: V1Pod = {
    metadata: {
      name,
      namespace: o.namespace ?? 'istio-system',
      labels: o.labels ?? {},
      creationTimestamp: new Date(NOW - (o.ageMs ?? 86_400_000)),
    },
    spec: {
      containers: [
        { name: 'app' },
        ...(proxy === 'none' ? [] : [{ name: 'istio-proxy', args: o.proxyArgs ?? [] }]),
      ],
    },
    status: {
      phase: 'Running',
      ...(o.ip ? { podIP: o.ip } : {}),
      containerStatuses: [
        {
          name: 'app',
          ready: o.ready ?? true,
          restartCount: 0,
          image: '',
          imageID: '',
          state: { running: {} },
        },
        ...(proxy === 'none'
          ? []
          : [
              {
                name: 'istio-proxy',
                ready: proxy === 'ready',
                restartCount: 0,
                image: '',
                imageID: '',
                state: { running: {} },
              },
            ]),
      ],
    },
  };
  return podFacts(v1, NOW);
}

/** A snapshot where every built-in component of the role runs one healthy pod, unless overridden. */
export function snapshot(
  cluster: string,
  role: 'primary' | 'remote',
  o: {
    profile?: 'istio-1.0' | 'modern';
    pods?: Record<string, PodFacts[] | Fetched<PodFacts[]>>;
    rollouts?: Record<string, RolloutFacts[] | Fetched<RolloutFacts[]>>;
    workloads?: PodFacts[];
    controllers?: WorkloadFacts[];
    services?: ServiceFacts[] | Fetched<ServiceFacts[]>;
    secrets?: string[];
    meshAddresses?: ConfiguredAddress[];
    endpoints?: ConfiguredAddress[] | null;
    istiodService?: (ServiceFacts & { externalName?: string }) | null;
    slices?: ConfiguredAddress[];
    istiodEndpoints?: ConfiguredAddress[] | null;
  } = {},
): ClusterSnapshot {
  const profile = o.profile ?? 'istio-1.0';
  const components: readonly ComponentSpec[] = BUILTIN_PROFILES[profile][role];
  const fetched = <T>(v: T | Fetched<T>): Fetched<T> =>
    v !== null && typeof v === 'object' && 'ok' in v ? (v as Fetched<T>) : ok(v as T);
  const sorted = components.map((spec) => ({
    spec,
    pods: fetched(o.pods?.[spec.name] ?? [pod(`${spec.name}-1`, { labels: labelsOf(spec.selector) })]),
    rollouts: fetched(o.rollouts?.[spec.name] ?? []),
  }));
  return {
    cluster,
    role,
    setup: { profile, namespace: 'istio-system', components },
    checkedAt: NOW,
    ms: 1,
    components: sorted,
    namespaces: ok([{ name: 'default', injection: 'istio-injection=enabled' }]),
    workloads: ok(o.workloads ?? []),
    controllers: ok(o.controllers ?? []),
    istioPods: ok(sorted.flatMap((c) => (c.pods.ok ? c.pods.value : []))),
    ...(role === 'primary'
      ? {
          services: fetched(o.services ?? []),
          // The seed's one remote, iks, looked up by the default names; `secrets` are those found.
          remoteSecrets: ok([
            {
              remote: { name: 'iks', server: '' },
              looked: ['iks', 'istio-remote-secret-iks'],
              ...((o.secrets ?? []).includes('iks')
                ? { secret: { name: 'iks', labelled: true, servers: [] } }
                : {}),
            },
          ]),
        }
      : profile === 'istio-1.0'
        ? {
            meshConfig: ok({ state: 'ok' as const, addresses: o.meshAddresses ?? [] }),
            pilotEndpoints: ok(o.endpoints ?? null),
          }
        : {
            istiodService: ok(
              o.istiodService === undefined
                ? { name: 'istiod', type: 'ClusterIP', selector: {}, addresses: [], external: [] }
                : o.istiodService,
            ),
            istiodEndpoints: ok(o.istiodEndpoints ?? null),
            istiodSlices: ok(o.slices ?? []),
          }),
  };
}

export function labelsOf(selector: string): Record<string, string> {
  return Object.fromEntries(selector.split(',').map((kv) => kv.split('=') as [string, string]));
}

export function address(component: string, object: string, value: string): ConfiguredAddress {
  const host = value.replace(/:\d+$/, '');
  return { component, object, field: 'f', value, host };
}
