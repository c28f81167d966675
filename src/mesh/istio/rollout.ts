/** The Deployment fields a rollout is judged by: client-node's V1Deployment and plain JSON both fit. */
export interface DeploymentShape {
  metadata?: { name?: string; namespace?: string; generation?: number };
  spec?: { replicas?: number; template?: { metadata?: { labels?: Record<string, string> } } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: readonly { type: string; status: string; reason?: string; message?: string }[];
  };
}

export type RolloutState = { done: true; text: string } | { done: false; failed: boolean; text: string };

/** Where a Deployment's rollout stands, judged as `kubectl rollout status` judges it. */
export function rolloutState(d: DeploymentShape): RolloutState {
  const name = d.metadata?.name ?? '';
  const status = d.status ?? {};
  if ((d.metadata?.generation ?? 0) > (status.observedGeneration ?? 0))
    return { done: false, failed: false, text: 'waiting for the restart to be observed' };
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    return { done: false, failed: true, text: `${name} exceeded its progress deadline` };
  const desired = d.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  if (updated < desired)
    return { done: false, failed: false, text: `${updated} of ${desired} new pods created` };
  const total = status.replicas ?? 0;
  if (total > updated)
    return {
      done: false,
      failed: false,
      text: `${total - updated} old pod${total - updated === 1 ? '' : 's'} still running`,
    };
  const available = status.availableReplicas ?? 0;
  if (available < updated)
    return { done: false, failed: false, text: `${available} of ${updated} new pods ready` };
  return { done: true, text: `${updated} of ${desired} new pods ready` };
}
