import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError } from '../../kube/errors.ts';
import { type RolloutState, rolloutState } from '../istio/rollout.ts';
import type { Edit } from './plan.ts';
import { RESTARTED_AT, type RestartTarget } from './restart-plan.ts';
import type { RolloutStep } from './rollout-state.ts';

/**
 * The only writes meshops makes to a remote. Each names the resourceVersion the approved plan was made
 * against, so the API server answers 409 instead of letting meshops overwrite a change it has not seen.
 */

/** Replaces one object with its repaired content at the bound resourceVersion; returns the new one. */
export async function writeEdit(remote: Cluster, edit: Edit, timeoutMs: number): Promise<string> {
  const opts = () => remote.options(timeoutMs);
  const { namespace, name } = edit;
  // The stored object supplies labels, annotations and other keys; only the repaired field is replaced.
  const bound = (metadata: object | undefined) => ({ ...metadata, resourceVersion: edit.resourceVersion });
  switch (edit.kind) {
    case 'ConfigMap': {
      const cm = await remote.core.readNamespacedConfigMap({ name, namespace }, opts());
      const body = { ...cm, metadata: bound(cm.metadata), data: { ...cm.data, mesh: edit.mesh } };
      const out = await remote.core.replaceNamespacedConfigMap({ name, namespace, body }, opts());
      return out.metadata?.resourceVersion ?? '';
    }
    case 'Endpoints': {
      const ep = await remote.core.readNamespacedEndpoints({ name, namespace }, opts());
      const body = { ...ep, metadata: bound(ep.metadata), subsets: edit.subsets };
      const out = await remote.core.replaceNamespacedEndpoints({ name, namespace, body }, opts());
      return out.metadata?.resourceVersion ?? '';
    }
    case 'EndpointSlice': {
      const slice = await remote.discovery.readNamespacedEndpointSlice({ name, namespace }, opts());
      const body = { ...slice, metadata: bound(slice.metadata), endpoints: edit.endpoints };
      const out = await remote.discovery.replaceNamespacedEndpointSlice({ name, namespace, body }, opts());
      return out.metadata?.resourceVersion ?? '';
    }
  }
}

/** `kubectl rollout restart`, bound to the planned resourceVersion. */
export async function restartDeployment(
  remote: Cluster,
  target: RestartTarget,
  at: Date,
  timeoutMs: number,
): Promise<void> {
  await remote.apps.patchNamespacedDeployment(
    {
      name: target.name,
      namespace: target.namespace,
      body: {
        metadata: { resourceVersion: target.resourceVersion },
        spec: {
          template: {
            metadata: { annotations: { [RESTARTED_AT]: at.toISOString().replace(/\.\d+Z$/, 'Z') } },
          },
        },
      },
    },
    remote.mergePatch(timeoutMs),
  );
}

export interface WaitOptions {
  deadline: number;
  signal: AbortSignal;
  timeoutMs: number;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Polls the Deployment until its rollout is complete, has failed, or the deadline passes (the last state
 * seen is returned then). The poll backs off from a quarter second to two seconds.
 */
async function waitForRollout(
  remote: Cluster,
  target: { namespace: string; name: string },
  options: WaitOptions,
): Promise<RolloutState> {
  let pause = 250;
  let state: RolloutState = { done: false, failed: false, text: 'not read yet' };
  for (;;) {
    const left = options.deadline - Date.now();
    const d = await remote.apps.readNamespacedDeployment(
      { name: target.name, namespace: target.namespace },
      remote.options(Math.max(1, Math.min(options.timeoutMs, left))),
    );
    state = rolloutState(d);
    if (state.done || state.failed) return state;
    if (options.signal.aborted || Date.now() + pause > options.deadline) return state;
    await sleep(pause, options.signal);
    pause = Math.min(2000, pause * 2);
  }
}

export interface RollingOptions extends WaitOptions {
  /** Called whenever a step changes, to show progress. */
  onStep(): Promise<void>;
}

/**
 * Restarts the Deployments one after the other, each only once the one before is ready, and stops at the
 * first that fails, conflicts, or does not become ready by the deadline: the old pods keep serving then.
 * Updates `steps` (one per target) as it goes; returns why it stopped, if it did.
 */
export async function rollingRestart(
  remote: Cluster,
  targets: readonly RestartTarget[],
  steps: RolloutStep[],
  options: RollingOptions,
): Promise<{ summary: string; conflict: boolean } | undefined> {
  const { timeoutMs } = options;
  for (const [i, target] of targets.entries()) {
    const step = steps[i]!;
    if (options.signal.aborted || Date.now() >= options.deadline) {
      for (const rest of steps.slice(i)) rest.state = 'skipped';
      step.detail = 'out of time for this job';
      return { summary: `ran out of time before ${step.deployment}`, conflict: false };
    }
    step.state = 'rolling';
    await options.onStep();
    try {
      await restartDeployment(remote, target, new Date(), timeoutMs);
    } catch (err) {
      const failure = classifyKubeError(err, timeoutMs);
      step.state = 'failed';
      step.detail = failure.reason;
      for (const rest of steps.slice(i + 1)) rest.state = 'skipped';
      await options.onStep();
      return failure.kind === 'conflict'
        ? {
            summary: `409 Conflict on Deployment ${step.deployment}: it changed since the plan; it was not restarted`,
            conflict: true,
          }
        : {
            summary: `Deployment ${step.deployment} could not be restarted: ${failure.reason}`,
            conflict: false,
          };
    }
    const state = await waitForRollout(remote, target, options).catch((err: unknown) => ({
      done: false as const,
      failed: true,
      text: classifyKubeError(err, timeoutMs).reason,
    }));
    step.state = state.done ? 'ready' : 'not-ready';
    step.detail = state.text;
    if (!state.done) {
      for (const rest of steps.slice(i + 1)) rest.state = 'skipped';
      await options.onStep();
      return {
        summary: `Deployment ${step.deployment} did not become ready (${state.text}); meshops stopped there`,
        conflict: false,
      };
    }
    await options.onStep();
  }
  return undefined;
}
