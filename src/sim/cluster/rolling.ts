// The Deployment controller's arithmetic, as kube-controller-manager's pkg/controller/deployment does it
// (rolling.go, recreate.go, util/deployment_util.go): how far a rollout may surge above the desired count
// and dip below it, and which ReplicaSet to scale to what in one sync. Data in, sizes out: the controller
// (controller.ts) writes the ReplicaSets, and the ReplicaSet controller creates and deletes their pods.

import { withDefaults } from '../api/defaults.ts';
import type { Json } from './store.ts';

/** What one sync needs of a ReplicaSet: its desired size and its pods as its status counts them. */
export interface ReplicaSetView {
  name: string;
  /** spec.replicas */
  replicas: number;
  /** status.availableReplicas */
  available: number;
  /** creationTimestamp, then name: the controller's ReplicaSetsByCreationTimestamp order. */
  created: string;
}

export interface DeploymentView {
  replicas: number;
  strategy: 'RollingUpdate' | 'Recreate';
  maxSurge: number | string;
  maxUnavailable: number | string;
}

/** spec.strategy as the apiserver defaults it (api/defaults.ts), whoever wrote the object. */
export function deploymentView(spec: Json): DeploymentView {
  const defaulted = withDefaults('Deployment', { spec }).spec;
  return {
    replicas: defaulted.replicas,
    strategy: defaulted.strategy.type === 'Recreate' ? 'Recreate' : 'RollingUpdate',
    maxSurge: defaulted.strategy.rollingUpdate?.maxSurge ?? 0,
    maxUnavailable: defaulted.strategy.rollingUpdate?.maxUnavailable ?? 0,
  };
}

/** intstr.GetScaledValueFromIntOrPercent: "25%" of 4 is 1; surge rounds up, unavailability down. */
export function scaledValue(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const percent = /^(\d+)%$/.exec(value);
  if (!percent) return Number.parseInt(value, 10) || 0;
  const exact = (Number(percent[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** ResolveFenceposts: both zero would never make progress, so unavailability becomes 1. */
function fenceposts(d: DeploymentView): { surge: number; unavailable: number } {
  const surge = scaledValue(d.maxSurge, d.replicas, true);
  const unavailable = scaledValue(d.maxUnavailable, d.replicas, false);
  return surge === 0 && unavailable === 0 ? { surge, unavailable: 1 } : { surge, unavailable };
}

export function maxSurge(d: DeploymentView): number {
  return d.strategy === 'RollingUpdate' ? fenceposts(d).surge : 0;
}

export function maxUnavailable(d: DeploymentView): number {
  if (d.strategy !== 'RollingUpdate' || d.replicas === 0) return 0;
  return Math.min(fenceposts(d).unavailable, d.replicas);
}

const sum = (sets: readonly ReplicaSetView[], field: 'replicas' | 'available') =>
  sets.reduce((n, rs) => n + rs[field], 0);

const byCreation = (a: ReplicaSetView, b: ReplicaSetView) =>
  a.created === b.created ? (a.name < b.name ? -1 : 1) : a.created < b.created ? -1 : 1;

/** NewRSNewReplicas: what the new ReplicaSet may grow to while every ReplicaSet's pods count. */
export function newReplicaSetSize(
  d: DeploymentView,
  all: readonly ReplicaSetView[],
  current: number,
): number {
  if (d.strategy === 'Recreate') return d.replicas;
  const maxTotal = d.replicas + scaledValue(d.maxSurge, d.replicas, true);
  const total = sum(all, 'replicas');
  if (total >= maxTotal) return current;
  return current + Math.min(maxTotal - total, d.replicas - current);
}

/**
 * One sync of rolloutRolling: scale the new ReplicaSet up if the surge allows, else scale old ones down
 * as far as availability allows (unhealthy pods first, then the oldest ReplicaSets). Returns the new
 * spec.replicas of each ReplicaSet it scales; empty when there is nothing to do.
 */
export function rollingStep(
  d: DeploymentView,
  newRs: ReplicaSetView,
  oldRss: readonly ReplicaSetView[],
): Map<string, number> {
  const scaled = new Map<string, number>();
  const all = [...oldRss, newRs];
  if (newRs.replicas !== d.replicas) {
    const target = newRs.replicas > d.replicas ? d.replicas : newReplicaSetSize(d, all, newRs.replicas);
    if (target !== newRs.replicas) return scaled.set(newRs.name, target);
  }

  const old = oldRss.filter((rs) => rs.replicas > 0).sort(byCreation);
  if (sum(old, 'replicas') === 0) return scaled;
  const minAvailable = d.replicas - maxUnavailable(d);
  const newUnavailable = newRs.replicas - newRs.available;
  const maxScaledDown = sum(all, 'replicas') - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return scaled;

  // cleanupUnhealthyReplicas: pods that are not available cost no availability when removed.
  let cleaned = 0;
  const after = old.map((rs) => {
    const unhealthy = rs.replicas - rs.available;
    if (cleaned >= maxScaledDown || unhealthy <= 0) return rs;
    const down = Math.min(maxScaledDown - cleaned, unhealthy);
    cleaned += down;
    scaled.set(rs.name, rs.replicas - down);
    return { ...rs, replicas: rs.replicas - down };
  });

  // scaleDownOldReplicaSetsForRollingUpdate: only what keeps minAvailable pods available.
  const available = sum([...after, newRs], 'available');
  if (available <= minAvailable) return scaled;
  let budget = available - minAvailable;
  for (const rs of after) {
    if (budget <= 0) break;
    if (rs.replicas === 0) continue;
    const down = Math.min(rs.replicas, budget);
    budget -= down;
    scaled.set(rs.name, rs.replicas - down);
  }
  return scaled;
}

export const REVISION = 'deployment.kubernetes.io/revision';

export function replicaSetView(rs: Json): ReplicaSetView {
  return {
    name: rs.metadata.name,
    replicas: rs.spec?.replicas ?? 0,
    available: rs.status?.availableReplicas ?? 0,
    created: rs.metadata.creationTimestamp ?? '',
  };
}

/** The annotations the Deployment controller keeps on each of its ReplicaSets. */
export function replicaSetAnnotations(deployment: Json, revision: number): Record<string, string> {
  const view = deploymentView(deployment.spec);
  return {
    'deployment.kubernetes.io/desired-replicas': String(view.replicas),
    'deployment.kubernetes.io/max-replicas': String(view.replicas + maxSurge(view)),
    [REVISION]: String(revision),
  };
}

/**
 * One sync of rolloutRecreate: every old ReplicaSet to zero; once their pods are gone, the new one (which
 * the caller creates only then) to the full count.
 */
export function recreateStep(
  d: DeploymentView,
  newRs: ReplicaSetView | undefined,
  oldRss: readonly ReplicaSetView[],
  oldPodsRunning: boolean,
): Map<string, number> {
  const active = oldRss.filter((rs) => rs.replicas > 0);
  if (active.length > 0) return new Map(active.map((rs) => [rs.name, 0]));
  if (oldPodsRunning || !newRs || newRs.replicas === d.replicas) return new Map();
  return new Map([[newRs.name, d.replicas]]);
}

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/**
 * calculateStatus and syncRolloutStatus: counts summed over the ReplicaSets (updated = the new one's pods),
 * Available while no more than maxUnavailable pods are missing, Progressing as the rollout moves
 * (its progress deadline is not simulated), and a ReplicaSet's ReplicaFailure copied up.
 */
export function deploymentStatus(
  deployment: Json,
  d: DeploymentView,
  replicaSets: readonly Json[],
  newRs: Json | undefined,
  created: boolean,
): Json {
  const total = (field: string) => replicaSets.reduce((n, rs) => n + (rs.status?.[field] ?? 0), 0);
  const available = total('availableReplicas');
  const desiredPods = replicaSets.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
  const counts = {
    observedGeneration: deployment.metadata.generation ?? 1,
    replicas: total('replicas'),
    updatedReplicas: newRs?.status?.replicas ?? 0,
    readyReplicas: total('readyReplicas'),
    availableReplicas: available,
  };
  const unavailable = Math.max(0, desiredPods - available);
  const minimum = available >= d.replicas - maxUnavailable(d);
  const failure = replicaSets
    .flatMap((rs) => (rs.status?.conditions ?? []) as Condition[])
    .find((c) => c.type === 'ReplicaFailure');
  const previous = ((deployment.status?.conditions ?? []) as Condition[]).find(
    (c) => c.type === 'Progressing',
  );
  const rsName = newRs?.metadata.name ?? '';
  let progressing = previous;
  const settled = counts.replicas === counts.updatedReplicas && previous?.reason === 'NewReplicaSetAvailable';
  if (created) {
    progressing = progressingCondition('NewReplicaSetCreated', `Created new replica set "${rsName}"`);
  } else if (!settled) {
    if (isComplete(d, deployment, counts))
      progressing = progressingCondition(
        'NewReplicaSetAvailable',
        `ReplicaSet "${rsName}" has successfully progressed.`,
      );
    else if (hasProgressed(deployment.status ?? {}, counts))
      progressing = progressingCondition('ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`);
  }
  return {
    ...counts,
    ...(unavailable > 0 ? { unavailableReplicas: unavailable } : {}),
    conditions: [
      {
        type: 'Available',
        status: minimum ? 'True' : 'False',
        reason: minimum ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        message: minimum
          ? 'Deployment has minimum availability.'
          : 'Deployment does not have minimum availability.',
      },
      ...(failure ? [failure] : []),
      ...(progressing ? [progressing] : []),
    ],
  };
}

const progressingCondition = (reason: string, message: string): Condition => ({
  type: 'Progressing',
  status: 'True',
  reason,
  message,
});

/** DeploymentComplete: every pod updated and available, none old, the latest spec observed. */
export function isComplete(d: DeploymentView, deployment: Json, status: Json): boolean {
  return (
    status.updatedReplicas === d.replicas &&
    status.replicas === d.replicas &&
    status.availableReplicas === d.replicas &&
    status.observedGeneration >= (deployment.metadata.generation ?? 1)
  );
}

/** DeploymentProgressing: more updated, ready or available pods than last time, or fewer old ones. */
function hasProgressed(before: Json, after: Json): boolean {
  const oldBefore = (before.replicas ?? 0) - (before.updatedReplicas ?? 0);
  const oldAfter = after.replicas - after.updatedReplicas;
  return (
    after.updatedReplicas > (before.updatedReplicas ?? 0) ||
    oldAfter < oldBefore ||
    after.readyReplicas > (before.readyReplicas ?? 0) ||
    after.availableReplicas > (before.availableReplicas ?? 0)
  );
}
