// The apiserver's defaulting of written objects (SetDefaults_* in pkg/apis/*/v1/defaults.go), for the
// fields the simulation's controllers act on: what `kubectl get -o yaml` shows after a create.

import type { Json } from '../cluster/store.ts';

/** apps/v1 SetDefaults_Deployment: one replica, RollingUpdate 25%/25%, history 10, deadline 600 s. */
function deployment(object: Json): Json {
  const spec = object.spec ?? {};
  const type = spec.strategy?.type ?? 'RollingUpdate';
  const strategy =
    type === 'RollingUpdate'
      ? {
          ...spec.strategy,
          type,
          rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%', ...spec.strategy?.rollingUpdate },
        }
      : { ...spec.strategy, type };
  return {
    ...object,
    spec: {
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      ...spec,
      strategy,
    },
  };
}

const DEFAULTS: Record<string, (object: Json) => Json> = { Deployment: deployment };

export function withDefaults(kind: string, object: Json): Json {
  return DEFAULTS[kind]?.(object) ?? object;
}
