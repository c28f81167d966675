import type { KnownBlock } from '@slack/types';
import type { ApprovalCheck } from '../../approvals/decide.ts';
import type { JobResult } from '../../chat/reply.ts';
import { type Health, worstHealth } from '../../mesh/health.ts';
import type { DriftProblem } from '../../mesh/istio/drift.ts';
import { hostOf } from '../../mesh/istio/facts.ts';
import type { StatusReport } from '../../mesh/istio/report.ts';
import { type Edit, objectLabel, type RepairPlan } from '../../mesh/repair/plan.ts';
import type { RestartPlan } from '../../mesh/repair/restart-plan.ts';
import type { RolloutStep } from '../../mesh/repair/rollout-state.ts';
import type { VpnReport } from '../../mesh/vpn/report.ts';
import { checkLines, diffSections, when } from './approval.ts';
import { context, linesToSections, section } from './blocks.ts';
import { VERDICT_ICON } from './parent.ts';
import { MAX_LIST_LINES } from './status.ts';

/** Everything `/mesh repair drift` and its approval steps say, as pure functions of typed data. */

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
// Pre-flight lines of an approval message: enough to judge it, short enough to read before clicking.
const MAX_CHECK_LINES = 20;
const unique = (items: readonly string[]) => [...new Set(items)];

/** A long list cut to `max` lines, with a last line saying how many more there are and where to see them. */
function capped(lines: readonly string[], max: number, more: (n: number) => string): string[] {
  return lines.length <= max ? [...lines] : [...lines.slice(0, max), more(lines.length - max)];
}

function listed(items: readonly string[], max = 4): string {
  return items.length <= max
    ? items.join(', ')
    : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

export const repairTitle = (remote: string) => `Repair drift on ${remote}`;
export const restartTitle = (remote: string) => `Rolling restart on ${remote} (pods with old addresses)`;

function editEffect(remote: string, primary: string, edit: Edit): string {
  const to = (c: Edit['changes'][number]) => `${c.component} → ${c.to}`;
  switch (edit.kind) {
    case 'ConfigMap':
      return `*${objectLabel(edit)}* on ${remote}: ${listed(edit.changes.map(to), 5)}; sidecars injected from now on get ${primary}'s live addresses`;
    case 'Endpoints':
      return `*${objectLabel(edit)}* on ${remote}: ${edit.name}.${edit.namespace} resolves to ${listed(unique(edit.changes.map((c) => c.to)))} (${listed(unique(edit.changes.map((c) => c.component)))} on ${primary}) again`;
    case 'EndpointSlice':
      return `*${objectLabel(edit)}* on ${remote}: proxies reach istiod through the east-west gateway on ${primary} at ${listed(unique(edit.changes.map((c) => c.to)))} again`;
  }
}

const podNames = (plan: RepairPlan) =>
  unique(plan.pods.map((f) => f.object.slice('Pod '.length))).sort((a, b) => a.localeCompare(b));

/** The plan's effect in plain words, for the approval message and the requester's thread. */
export function repairEffect(plan: RepairPlan): string[] {
  const lines = plan.edits.map((e) => editEffect(plan.remote, plan.primary, e));
  const pods = podNames(plan);
  if (pods.length > 0)
    lines.push(
      `${plural(pods.length, 'injected pod')} on ${plan.remote} keep${pods.length === 1 ? 's' : ''} the old addresses until restarted (${listed(pods)}); once this is applied, meshops offers a rolling restart of their Deployments as a second approval`,
    );
  return lines;
}

function problemText(p: DriftProblem): string | undefined {
  switch (p.kind) {
    case 'not-checked':
      return undefined;
    case 'mesh-config-absent':
      return `${p.object} does not exist on ${p.cluster}`;
    case 'mesh-config-invalid':
      return `${p.object} on ${p.cluster} cannot be read as mesh config: ${p.reason}`;
    case 'istiod-service-absent':
      return `${p.object} does not exist on ${p.cluster}`;
    case 'istiod-endpoints-absent':
      return `${p.object} does not exist on ${p.cluster}`;
  }
}

export function repairChecks(plan: RepairPlan, problems: readonly DriftProblem[]): ApprovalCheck[] {
  const targets = unique(plan.edits.flatMap((e) => e.changes.map((c) => `${c.component} ${hostOf(c.to)}`)));
  const checks: ApprovalCheck[] = [
    {
      level: 'ok',
      text: `every new address is where ${plan.primary} runs the component right now (${listed(targets, 6)})`,
    },
  ];
  for (const s of plan.skipped)
    checks.push({ level: 'warn', text: `not changed: ${s.object} ${s.field} = ${s.configured}: ${s.why}` });
  for (const p of problems) {
    const text = problemText(p);
    if (text) checks.push({ level: 'warn', text: `also found: ${text}` });
  }
  return checks;
}

export function restartEffect(plan: RestartPlan): string[] {
  const lines = [
    `Rolling restart on ${plan.remote}, one Deployment at a time, each waiting until its new pods are ready: ${listed(
      plan.targets.map(
        (t) => `${t.namespace}/${t.name} (${plural(t.pods.length, 'pod')} with old addresses)`,
      ),
    )}`,
    `The new pods are injected with the addresses the configuration on ${plan.remote} holds now: those of the live control plane on ${plan.primary}`,
  ];
  return lines;
}

export function restartChecks(plan: RestartPlan): ApprovalCheck[] {
  return [
    {
      level: 'ok',
      text: `the configuration on ${plan.remote} points at the live control plane on ${plan.primary}, so restarted pods get live addresses`,
    },
    {
      level: 'ok',
      text: 'meshops stops at the first Deployment whose new pods are not ready in time; the old pods keep serving until they are',
    },
    ...capped(
      plan.left.map((l) => `not restarted: ${l.pod}: ${l.why}`),
      MAX_CHECK_LINES,
      (n) => `…and ${plural(n, 'more pod')} not restarted (\`/mesh status ${plan.remote}\` lists the drift)`,
    ).map((text) => ({ level: 'warn' as const, text })),
  ];
}

/** What one remote's planning came to, for the command's reply. */
export type RemoteOutcome =
  | {
      kind: 'requested';
      step: 'repair' | 'restart';
      remote: string;
      request: { id: string; expiresAt: number };
      effect: string[];
      checks: ApprovalCheck[];
      diff: string;
    }
  /** `left`: drift meshops cannot repair (nothing live to point at, a hostname), and why. */
  | { kind: 'nothing'; remote: string; primary: string; left: string[] }
  | { kind: 'not-requested'; remote: string; reason: string; checks: ApprovalCheck[] };

function outcomeSummary(o: RemoteOutcome): string {
  switch (o.kind) {
    case 'requested':
      return `${o.remote}: ${o.step === 'repair' ? 'repair' : 'rolling restart'} waits for approval (${o.request.id})`;
    case 'nothing':
      return o.left.length > 0
        ? `${o.remote}: nothing meshops can repair now, ${plural(o.left.length, 'address', 'addresses')} left for you`
        : `${o.remote}: nothing to repair`;
    case 'not-requested':
      return `${o.remote}: ${o.reason}`;
  }
}

function outcomeBlocks(o: RemoteOutcome): KnownBlock[] {
  switch (o.kind) {
    case 'requested': {
      const title = o.step === 'repair' ? repairTitle(o.remote) : restartTitle(o.remote);
      return [
        section(
          `:raised_hand: *${title}* waits for approval by someone in access.approvers other than the requester, until ${when(o.request.expiresAt)}. The approval message (request \`${o.request.id}\`) is in this channel.`,
        ),
        ...linesToSections(o.effect, '*Effect*\n'),
        ...diffSections(o.diff),
        ...(o.checks.length > 0 ? linesToSections(checkLines(o.checks), '*Pre-flight*\n') : []),
      ];
    }
    case 'nothing':
      return o.left.length === 0
        ? [
            section(
              `:white_check_mark: *${o.remote}* points at the live control plane on ${o.primary}: nothing to repair, so nobody was asked to approve anything.`,
            ),
          ]
        : [
            section(
              `:warning: *${o.remote}* has drift meshops cannot repair now, so nobody was asked to approve anything.`,
            ),
            ...linesToSections(
              capped(
                o.left,
                MAX_LIST_LINES,
                (n) => `…and ${n} more (\`/mesh status ${o.remote}\` lists them)`,
              ),
              '*Left for you*\n',
            ),
          ];
    case 'not-requested':
      return [
        section(`:no_entry: *${repairTitle(o.remote)}*: ${o.reason}`),
        ...(o.checks.length > 0 ? linesToSections(checkLines(o.checks), '*Pre-flight*\n') : []),
      ];
  }
}

/** The thread reply to `/mesh repair drift [remote]`: one part per remote. */
export function renderRepairReply(outcomes: readonly RemoteOutcome[]): JobResult {
  const verdict: JobResult['verdict'] = outcomes.some((o) => o.kind === 'not-requested')
    ? 'failed'
    : outcomes.some((o) => o.kind === 'nothing' && o.left.length > 0)
      ? 'degraded'
      : outcomes.some((o) => o.kind === 'requested')
        ? 'info'
        : 'healthy';
  const summary = outcomes.map(outcomeSummary).join('; ') || 'no remote cluster is configured';
  const blocks = outcomes.flatMap(outcomeBlocks);
  return {
    verdict,
    summary,
    text: `Repair drift: ${summary}`,
    blocks: blocks.length > 0 ? blocks : [section(`:information_source: ${summary}: nothing to repair.`)],
  };
}

/** Lines for the apply's thread reply: what was written, at which resourceVersion. */
export function writtenLines(
  remote: string,
  done: readonly { edit: Edit; resourceVersion: string }[],
): string[] {
  return done.flatMap(({ edit, resourceVersion }) => [
    `*${objectLabel(edit)}* on ${remote}: resourceVersion ${edit.resourceVersion} → ${resourceVersion}`,
    ...edit.changes.map((c) => `    ${c.field}: \`${c.from}\` → \`${c.to}\``),
  ]);
}

const STEP_ICON: Record<RolloutStep['state'], string> = {
  waiting: ':white_circle:',
  rolling: ':hourglass_flowing_sand:',
  ready: ':white_check_mark:',
  'not-ready': ':x:',
  failed: ':x:',
  skipped: ':black_circle:',
};

export function stepLines(steps: readonly RolloutStep[]): string[] {
  return steps.map(
    (s) => `${STEP_ICON[s.state]} \`${s.deployment}\` ${s.state}${s.detail ? `: ${s.detail}` : ''}`,
  );
}

/** The progress message of a rolling restart, updated in place as each Deployment rolls. */
export function renderProgress(
  remote: string,
  steps: readonly RolloutStep[],
): { text: string; blocks: KnownBlock[] } {
  const done = steps.filter((s) => s.state === 'ready').length;
  const text = `Rolling restart on ${remote}: ${done} of ${steps.length} Deployments ready`;
  return {
    text,
    blocks: [
      section(`:arrows_counterclockwise: *${text}* (one at a time)`),
      ...linesToSections(stepLines(steps)),
    ],
  };
}

/** The verification once a step is applied: the remote's status and VPN checks, and what is left. */
export interface Verification {
  remote: string;
  primary: string;
  after: 'repair' | 'restart';
  status: { ok: true; report: StatusReport; summary: string } | { ok: false; reason: string };
  vpn: { ok: true; report: VpnReport } | { ok: false; reason: string };
  /** Pods still holding old addresses, and what meshops did about them. */
  pods?: { lines: string[]; offer: string };
}

function verificationHealth(v: Verification): Health {
  return worstHealth([
    v.status.ok ? v.status.report.health : 'failed',
    v.vpn.ok ? v.vpn.report.verdict : 'failed',
  ]);
}

export function renderVerification(v: Verification): { text: string; blocks: KnownBlock[] } {
  const verdict = verificationHealth(v);
  const what = v.after === 'repair' ? 'the repair' : 'the restart';
  const headline =
    verdict === 'healthy'
      ? `:white_check_mark: *${v.remote} after ${what}*: healthy — the status and VPN checks find nothing left to do.`
      : `${VERDICT_ICON[verdict]} *${v.remote} after ${what}*: still ${verdict}. What is left is below.`;
  const statusLine = v.status.ok
    ? `${VERDICT_ICON[v.status.report.health]} *Status of ${v.remote}*: ${v.status.report.health} — ${v.status.summary}`
    : `${VERDICT_ICON.failed} *Status of ${v.remote}*: the check could not run: ${v.status.reason}`;
  const vpnLine = v.vpn.ok
    ? `${VERDICT_ICON[v.vpn.report.verdict]} *VPN ${v.remote} → ${v.primary}*: ${v.vpn.report.verdict} — ${v.vpn.report.summary}`
    : `${VERDICT_ICON.failed} *VPN ${v.remote} → ${v.primary}*: the check could not run: ${v.vpn.reason}`;
  const left = [
    ...(v.status.ok
      ? v.status.report.findings
          .filter((f) => f.severity !== 'info')
          .map((f) => `• ${f.text}${f.action ? ` → ${f.action}` : ''}`)
      : []),
    ...(v.vpn.ok
      ? v.vpn.report.findings
          .filter((f) => f.severity !== 'info')
          .map((f) => `• ${f.text}${f.action ? ` → ${f.action}` : ''}`)
      : []),
  ];
  const blocks: KnownBlock[] = [section(headline), section(`${statusLine}\n${vpnLine}`)];
  if (left.length > 0) blocks.push(...linesToSections(left, '*What is left*\n'));
  if (v.pods) {
    blocks.push(...linesToSections(v.pods.lines, '*Injected pods still holding old addresses*\n'));
    blocks.push(section(v.pods.offer));
  }
  blocks.push(
    context(
      `Checked after ${what} on ${v.remote} · \`/mesh status ${v.remote}\` and \`/mesh vpn\` run the same checks`,
    ),
  );
  return { text: `${v.remote} after ${what}: ${verdict}`, blocks };
}

/** Lines naming each pod that still holds an old address, and the address (a long list is cut, and says so). */
export function stalePodLines(plan: RestartPlan): string[] {
  const lines = [
    ...plan.targets.flatMap((t) =>
      t.pods.map(
        (p) =>
          `\`${t.namespace}/${p.name}\` (Deployment ${t.name}): ${p.addresses.map((a) => `${a.field} ${a.value}`).join(', ')}`,
      ),
    ),
    ...plan.left.map((l) => `\`${l.pod}\`: not restarted by meshops: ${l.why}`),
  ];
  return capped(
    lines,
    MAX_LIST_LINES,
    (n) => `…and ${plural(n, 'more pod')} (\`/mesh status ${plan.remote}\` lists the drift)`,
  );
}
