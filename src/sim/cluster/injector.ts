// The Istio sidecar injector webhook as seen from outside: pods created in a namespace labelled
// istio-injection=enabled get istio-init and istio-proxy, with the mesh config values of that
// moment baked into the proxy's args. Istio 1.0 reads the discovery address at injection time,
// so pods keep an old pilot address until they are recreated (the drift the seed warns about).

import { parse } from 'yaml';
import type { InjectionSpec } from '../scenario/schema.ts';
import { hexId } from './ids.ts';
import type { Json, KubeObject } from './store.ts';

export function shouldInject(
  namespace: KubeObject | undefined,
  podAnnotations: Record<string, string> = {},
  podSpec: Json = {},
): boolean {
  // Istio 1.0 pilot/pkg/kube/inject/webhook.go injectRequired: a hostNetwork pod is never injected,
  // because its iptables rules would rewrite the node's routing rather than the pod's.
  if (podSpec.hostNetwork === true) return false;
  return (
    namespace?.metadata.labels?.['istio-injection'] === 'enabled' &&
    podAnnotations['sidecar.istio.io/inject'] !== 'false'
  );
}

/** The `defaultConfig` values of the mesh config ConfigMap, over the scenario's defaults. */
export function meshValues(
  injection: InjectionSpec,
  configMap: KubeObject | undefined,
): Record<string, string> {
  const values: Record<string, string> = { ...injection.defaults };
  const key = injection.meshConfig?.key;
  const text = key ? (configMap as Json | undefined)?.data?.[key] : undefined;
  if (typeof text === 'string') {
    const mesh = (parse(text) ?? {}) as Json;
    for (const [k, v] of Object.entries((mesh.defaultConfig ?? {}) as Json)) {
      if (typeof v === 'string' || typeof v === 'number') values[k] = String(v);
    }
  }
  return values;
}

/** Fills `${name}` placeholders; a flag whose value came out empty is dropped with it. */
function fillArgs(args: readonly string[], values: Record<string, string>): string[] {
  const out: string[] = [];
  for (const arg of args) {
    const whole = /^\$\{(\w+)\}$/.exec(arg);
    if (whole && !values[whole[1]!]) {
      if (out.at(-1)?.startsWith('--')) out.pop();
      continue;
    }
    out.push(arg.replace(/\$\{(\w+)\}/g, (_, name: string) => values[name] ?? ''));
  }
  return out;
}

export function injectSidecar(
  spec: Json,
  labels: Record<string, string>,
  injection: InjectionSpec,
  values: Record<string, string>,
): { spec: Json; annotations: Record<string, string> } {
  // The 1.0 template's `-b` list: every container port followed by a comma.
  const containerPorts = ((spec.containers ?? []) as Json[])
    .flatMap((c) => ((c.ports ?? []) as Json[]).map((p) => `${p.containerPort},`))
    .join('');
  const filled = { ...values, serviceCluster: labels.app ?? 'istio-proxy', containerPorts };
  const proxy = {
    ...injection.proxy,
    args: fillArgs(injection.proxy.args ?? [], filled),
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
      {
        name: 'POD_NAMESPACE',
        valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
      },
      { name: 'INSTANCE_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
    ],
    imagePullPolicy: 'IfNotPresent',
  };
  const init = injection.initContainer;
  const status = {
    version: hexId(JSON.stringify(injection), 64),
    initContainers: init ? [init.name] : [],
    containers: [proxy.name],
    volumes: ['istio-envoy', 'istio-certs'],
    imagePullSecrets: null,
  };
  return {
    spec: {
      ...spec,
      ...(init
        ? {
            initContainers: [
              ...(spec.initContainers ?? []),
              { ...init, args: fillArgs(init.args ?? [], filled), imagePullPolicy: 'IfNotPresent' },
            ],
          }
        : {}),
      containers: [...spec.containers, proxy],
    },
    annotations: { 'sidecar.istio.io/status': JSON.stringify(status) },
  };
}
