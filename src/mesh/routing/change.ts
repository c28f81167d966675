import type { Redis } from 'ioredis';
import { auditOf } from '../../access/audit.ts';
import { codeBlock } from '../../chat/mrkdwn.ts';
import type { MeshConfig } from '../../config/schema.ts';
import type { Cluster } from '../../kube/cluster.ts';
import { classifyKubeError, type KubeFailureKind } from '../../kube/errors.ts';
import type { Clusters } from '../../kube/registry.ts';
import type { Logger } from '../../observability/logger.ts';
import type {
  ApplyResult,
  ApprovalCheck,
  ApprovalRequest,
  Progress,
  Proposal,
  RecheckResult,
} from '../change.ts';
import { istioSetup } from '../istio/profiles.ts';
import { effectLines } from './describe.ts';
import {
  createVirtualService,
  deleteVirtualService,
  listVirtualServices,
  readVirtualService,
  replaceVirtualService,
} from './live.ts';
import { type Change, type LiveVirtualService, makePlan, type Plan, sameSpec, type Target } from './plan.ts';
import { type PreflightCheck, runPreflight, type TunnelProbe } from './preflight.ts';
import { refText, type VirtualServiceSpec, type VsRef } from './types.ts';
import { rememberWritten, type WrittenObject } from './written.ts';

/**
 * Routing changes as an approval kind: a set of VirtualService specs for the primary, bound to the
 * resourceVersions they were planned against. Writes go to the primary only; istiod ignores Istio
 * config on a remote, so nothing is ever written there.
 */

export const ROUTING_KIND = 'routing';

export interface RoutingPayload {
  /** Where the new specs come from: a preset name, or "rollback". */
  label: string;
  /** The primary's name when the plan was made; a config change in between refuses the apply. */
  cluster: string;
  changes: Change[];
}

/** What was live before an applied change, so `/mesh route rollback` can restore it. */
export interface RollbackSnapshot {
  request: string;
  /** The label of the change this snapshot undoes. */
  undoes: string;
  cluster: string;
  savedAt: number;
  objects: Target[];
}

const snapshotKey = (prefix: string, id: string) => `${prefix}:routing:snapshot:${id}`;
const lastKey = (prefix: string) => `${prefix}:routing:rollback`;

export const lockKey = (cluster: string, ref: VsRef) =>
  `virtualservice/${cluster}/${ref.namespace}/${ref.name}`;
export const lockLabel = (cluster: string, ref: VsRef) => `VirtualService ${refText(ref)} on ${cluster}`;

export const targetsOf = (changes: readonly Change[]): Target[] =>
  changes.map((c) => ({ ref: c.ref, spec: c.after }));

/** What planning, re-checking and applying a routing change use. */
export interface RoutingDeps {
  clusters: Pick<Clusters, 'primary' | 'all'>;
  config: Pick<MeshConfig, 'routing' | 'audit' | 'istio'>;
  redis: Redis;
  prefix: string;
  log: Logger;
}

export interface RoutingRequest {
  /** Where the specs come from, as the diff and the audit log name it: a preset name or "rollback". */
  label: string;
  /** "Route apply reviews-v3". */
  title: string;
  targets: Target[];
}

/** Why a routing change was not put up for approval; info when there is simply nothing to change. */
export interface NotProposed {
  reason: string;
  checks: ApprovalCheck[];
  verdict: 'info' | 'failed';
}

export type RoutingPlanned =
  | { ok: true; proposal: Proposal<RoutingPayload>; plan: Plan }
  | ({ ok: false } & NotProposed);

/**
 * Plans a routing change against the live primary and pre-flights it; nothing is written. A pre-flight
 * failure under `routing.preflight: block` is refused here, and the refusal audited.
 */
async function plan(
  args: { change: RoutingRequest; tunnel?: TunnelProbe; requester: string },
  deps: RoutingDeps,
): Promise<RoutingPlanned> {
  const { change, tunnel } = args;
  const primary = deps.clusters.primary;
  let live: Awaited<ReturnType<typeof listVirtualServices>>;
  try {
    live = await listVirtualServices(
      primary,
      change.targets.map((t) => t.ref.namespace),
    );
  } catch (err) {
    return {
      ok: false,
      reason: `the live routes on ${primary.name} could not be read (${classifyKubeError(err).reason}); nothing was requested`,
      checks: [],
      verdict: 'failed',
    };
  }
  const planned = makePlan(change.targets, live, change.label);
  if (planned.changes.length === 0)
    return {
      ok: false,
      reason: `the live routes on ${primary.name} already match ${change.label}; there is nothing to approve`,
      checks: [],
      verdict: 'info',
    };

  const istio = istioSetup(deps.config, primary.config);
  const checks: PreflightCheck[] = await runPreflight(
    {
      primary,
      all: deps.clusters.all,
      istioNamespace: istio.namespace,
      profile: istio.profile,
      ...(tunnel ? { tunnel } : {}),
    },
    planned.changes,
  );
  const failed = checks.filter((c) => c.level === 'fail');
  if (failed.length > 0 && deps.config.routing.preflight === 'block') {
    const reason = `pre-flight failed (${failed.map((c) => c.text).join('; ')}), and routing.preflight is block, so nobody was asked to approve`;
    await auditOf(deps).record({
      action: 'refused',
      who: args.requester,
      kind: ROUTING_KIND,
      subject: change.label,
      planHash: planned.hash,
      diff: planned.diff,
      result: `not requested: ${reason}`,
    });
    return { ok: false, reason: `not requested: ${reason}`, checks, verdict: 'failed' };
  }
  if (failed.length > 0)
    checks.push({
      level: 'warn',
      text: `routing.preflight is warn: requested although ${failed.length} check${failed.length === 1 ? '' : 's'} failed`,
    });

  const payload: RoutingPayload = { label: change.label, cluster: primary.name, changes: planned.changes };
  return {
    ok: true,
    plan: planned,
    proposal: {
      kind: ROUTING_KIND,
      title: change.title,
      subject: change.label,
      effect: effectLines(planned.changes),
      diff: planned.diff,
      planHash: planned.hash,
      checks,
      locks: planned.changes.map((c) => ({
        key: lockKey(primary.name, c.ref),
        label: lockLabel(primary.name, c.ref),
      })),
      bindings: planned.changes.map((c) => ({
        target: lockKey(primary.name, c.ref),
        resourceVersion: c.resourceVersion,
      })),
      payload,
    },
  };
}

/** The snapshot the next rollback restores, if any change was applied within the audit retention. */
export async function lastSnapshot(
  ctx: Pick<RoutingDeps, 'redis' | 'prefix'>,
): Promise<RollbackSnapshot | undefined> {
  const id = await ctx.redis.get(lastKey(ctx.prefix));
  if (!id) return undefined;
  const text = await ctx.redis.get(snapshotKey(ctx.prefix, id));
  return text ? (JSON.parse(text) as RollbackSnapshot) : undefined;
}

function primaryFor(request: ApprovalRequest<RoutingPayload>, ctx: RoutingDeps): Cluster | string {
  const primary = ctx.clusters.primary;
  return primary.name === request.payload.cluster
    ? primary
    : `the primary is now ${primary.name}, but the change was planned on ${request.payload.cluster}`;
}

async function liveOf(
  cluster: Cluster,
  changes: readonly Change[],
): Promise<Map<string, LiveVirtualService>> {
  return listVirtualServices(
    cluster,
    changes.map((c) => c.ref.namespace),
  );
}

async function recheck(request: ApprovalRequest<RoutingPayload>, ctx: RoutingDeps): Promise<RecheckResult> {
  const primary = primaryFor(request, ctx);
  if (typeof primary === 'string') return { ok: false, reason: primary };
  const live = await liveOf(primary, request.payload.changes);
  const moved = request.payload.changes.flatMap((c) => {
    const now = live.get(refText(c.ref))?.resourceVersion ?? null;
    if (now === c.resourceVersion) return [];
    return [`${refText(c.ref)} (resourceVersion ${c.resourceVersion ?? 'absent'} → ${now ?? 'deleted'})`];
  });
  if (moved.length > 0)
    return {
      ok: false,
      reason: `the live VirtualService ${moved.join(', ')} changed since the request, so the approved diff no longer describes what would happen`,
    };
  const plan = makePlan(targetsOf(request.payload.changes), live, request.payload.label);
  if (plan.hash !== request.planHash)
    return { ok: false, reason: 'the plan computed from the live state no longer matches the approved diff' };
  return { ok: true };
}

async function writeOne(primary: Cluster, change: Change): Promise<string | null> {
  if (change.after === null) {
    await deleteVirtualService(primary, change.ref, change.resourceVersion ?? '');
    return null;
  }
  if (change.resourceVersion === null) return createVirtualService(primary, change.ref, change.after);
  const current = await readVirtualService(primary, change.ref);
  // Labels, annotations and uid come from the stored object; the resourceVersion is the bound one, so a
  // write in between makes the API server answer 409 instead of this overwriting it.
  return replaceVirtualService(
    primary,
    current?.raw ?? { metadata: { name: change.ref.name } },
    change.ref,
    change.resourceVersion,
    change.after as VirtualServiceSpec,
  );
}

/** Applying also records each write as it is made (src/approvals keeps the record in Redis). */
type RoutingApplyDeps = RoutingDeps & { progress: Progress };

/** Failures after which the API server may have stored the write anyway: the answer was lost, not a refusal. */
const UNCLEAR: ReadonlySet<KubeFailureKind> = new Set(['timeout', 'server-error', 'unknown']);

type WriteOutcome =
  | { state: 'applied'; rv: string | null }
  | { state: 'not applied' }
  | { state: 'unknown'; why: string };

/**
 * What a write whose answer was lost did, read back from the cluster: the bound resourceVersion still live
 * means it was not stored (it would have moved); the requested spec live under a new one means it was.
 */
async function writeOutcome(primary: Cluster, change: Change): Promise<WriteOutcome> {
  let found: Awaited<ReturnType<typeof readVirtualService>>;
  try {
    found = await readVirtualService(primary, change.ref);
  } catch (err) {
    return { state: 'unknown', why: `it could not be read back (${classifyKubeError(err).reason})` };
  }
  const live = found?.live;
  if (!live) {
    if (change.after === null) return { state: 'applied', rv: null };
    if (change.resourceVersion === null) return { state: 'not applied' };
    return { state: 'unknown', why: 'it is gone: someone deleted it' };
  }
  if (live.resourceVersion === change.resourceVersion) return { state: 'not applied' };
  if (change.after !== null && sameSpec(live.spec, change.after))
    return { state: 'applied', rv: live.resourceVersion };
  return {
    state: 'unknown',
    why: `it is at resourceVersion ${live.resourceVersion} with a spec this change did not write`,
  };
}

/**
 * Writes each change at its bound resourceVersion, recording each write as progress. `resuming` (a worker
 * died part-way) first reads each object back: what is already live is counted as written, what still has the
 * bound resourceVersion is written now, and anything else stops the apply as changed by someone else.
 */
async function write(
  request: ApprovalRequest<RoutingPayload>,
  ctx: RoutingApplyDeps,
  resuming: boolean,
): Promise<ApplyResult> {
  const primary = primaryFor(request, ctx);
  if (typeof primary === 'string') return { ok: false, summary: primary, detail: [] };
  const { changes, label } = request.payload;
  const retentionSec = Math.ceil(ctx.config.audit.retention / 1000);
  const snapshot: RollbackSnapshot = {
    request: request.id,
    undoes: label,
    cluster: primary.name,
    savedAt: Date.now(),
    objects: changes.map((c) => ({ ref: c.ref, spec: c.before })),
  };
  // Saved before the first write, made the rollback point after it: a change that writes nothing never
  // replaces the point an earlier change left.
  await ctx.redis.set(snapshotKey(ctx.prefix, request.id), JSON.stringify(snapshot), 'EX', retentionSec);
  const done: string[] = [];
  const written: WrittenObject[] = [];
  const record = async (change: Change, rv: string | null, note = '') => {
    const line = `${refText(change.ref)}: ${rv === null ? 'deleted' : `resourceVersion ${change.resourceVersion ?? '(new)'} → ${rv}`}`;
    written.push({ ref: change.ref, resourceVersion: rv, restore: change.before });
    done.push(`${line}${note}`);
    if (done.length === 1) await ctx.redis.set(lastKey(ctx.prefix), request.id, 'EX', retentionSec);
    // A second resume finds live again what the first one found: the record keeps each write once.
    if (!ctx.progress.earlier.includes(line)) await ctx.progress.record(line);
  };
  for (const change of changes) {
    if (resuming) {
      const live = await writeOutcome(primary, change);
      if (live.state === 'applied') {
        await record(change, live.rv, ' (written before the worker stopped)');
        continue;
      }
      if (live.state === 'unknown')
        return {
          ok: false,
          summary: `${refText(change.ref)} was not finished: ${live.why}`,
          detail: [
            ...(done.length > 0
              ? [`Written: ${done.join('; ')}`, 'Use `/mesh route rollback` to undo them.']
              : []),
            `Check it with \`/mesh route show ${change.ref.name}\` before requesting anything else.`,
          ],
        };
    }
    try {
      await record(change, await writeOne(primary, change));
    } catch (err) {
      const failure = classifyKubeError(err);
      const outcome = UNCLEAR.has(failure.kind) ? await writeOutcome(primary, change) : undefined;
      if (outcome?.state === 'applied') {
        // The rollback point follows what is live: this change is, whatever the lost answer said.
        await record(
          change,
          outcome.rv,
          ` (the API server answered "${failure.reason}", but reading it back shows it applied)`,
        );
        continue;
      }
      if (outcome?.state === 'unknown') {
        return {
          ok: false,
          summary: `${refText(change.ref)}: outcome unknown — the API server answered "${failure.reason}" and ${outcome.why}`,
          detail: [
            ...(done.length > 0 ? [`Written: ${done.join('; ')}`] : []),
            `${refText(change.ref)} may or may not hold this change: check it with \`/mesh route show ${change.ref.name}\` before requesting anything else.`,
            done.length > 0
              ? '`/mesh route rollback` undoes what was written.'
              : '`/mesh route rollback` still restores the state before the previous applied change.',
          ],
        };
      }
      const notApplied = outcome ? ` (read back: not applied)` : '';
      const wrote =
        done.length > 0
          ? [`Already written: ${done.join('; ')}`, 'Use `/mesh route rollback` to undo them.']
          : ['Nothing was written.'];
      if (failure.kind === 'conflict') {
        // Re-plan against what is live now, so the requester sees what a new request would change.
        const fresh = await liveOf(primary, changes).catch(() => undefined);
        const replan = fresh ? makePlan(targetsOf(changes), fresh, label) : undefined;
        return {
          ok: false,
          summary: `409 Conflict on ${refText(change.ref)}: it was changed by someone else while applying; it was not overwritten`,
          detail: [
            ...wrote,
            replan
              ? replan.changes.length === 0
                ? 'Against the live state now, there is nothing left to change.'
                : `Against the live state now, the change would be:\n${codeBlock(replan.diff)}`
              : 'The live state could not be re-read to re-plan.',
            'Request it again to apply it against the new state.',
          ],
        };
      }
      return {
        ok: false,
        summary: `${refText(change.ref)} could not be written: ${failure.reason}${notApplied}`,
        detail: wrote,
      };
    }
  }
  const watched = await rememberWritten(ctx, request.id, written);
  const { window, revert } = ctx.config.routing.verify;
  return {
    ok: true,
    summary: `${label} is live on ${primary.name} (${done.length} VirtualService${done.length === 1 ? '' : 's'})`,
    detail: [
      ...done,
      watched
        ? `meshops watches the traffic for ${Math.round(window / 60_000) || '<1'} min and ${revert === 'auto' ? 'reverts the change itself' : revert === 'propose' ? 'proposes a revert' : 'reports'} if it breaches routing.verify's thresholds.`
        : 'The traffic after this change could not be put under verification.',
    ],
    ...(watched ? { followUp: 'verify' as const } : {}),
  };
}

/** Routing as a change kind (registered in src/jobs/changes.ts). */
export const routingChange = {
  kind: ROUTING_KIND,
  plan,
  recheck,
  apply: (request: ApprovalRequest<RoutingPayload>, deps: RoutingApplyDeps) => write(request, deps, false),
  resume: (request: ApprovalRequest<RoutingPayload>, deps: RoutingApplyDeps) => write(request, deps, true),
};
