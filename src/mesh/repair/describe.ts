import { MAX_LIST_LINES, plural } from '../../chat/mrkdwn.ts';
import type { ApprovalCheck } from '../change.ts';
import type { DriftProblem } from '../istio/drift.ts';
import { hostOf } from '../istio/facts.ts';
import { CHART_VALUE } from '../istio/findings.ts';
import { type Edit, objectLabel, type RepairPlan } from './plan.ts';
import type { RestartPlan } from './restart-plan.ts';
import type { RolloutStep } from './rollout-state.ts';

/**
 * A drift repair in plain words: the titles, effect and checks of its approval requests, the lines of what
 * was written or restarted, and what one remote's planning came to.
 */

// Pre-flight lines of an approval message: enough to judge it, short enough to read before clicking.
const MAX_CHECK_LINES = 20;
const unique = (items: readonly string[]) => [...new Set(items)];

/** A long list cut to `max` lines, with a last line saying how many more there are and where to see them. */
export function capped(lines: readonly string[], max: number, more: (n: number) => string): string[] {
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

/**
 * The same repair as istio-remote chart values. meshops edits objects Helm rendered, outside Helm: the next
 * `helm upgrade` (or `helm template | kubectl apply`) with the old values writes the old addresses back.
 */
export function chartValuesLine(plan: RepairPlan): string | undefined {
  const values = new Map<string, string>();
  for (const c of plan.edits.flatMap((e) => e.changes)) {
    const key = CHART_VALUE[c.component];
    if (key) values.set(key, hostOf(c.to));
  }
  if (values.size === 0) return undefined;
  const chart = plan.profile === 'modern' ? 'the remote profile' : 'the istio-remote chart';
  const set = [...values].map(([k, v]) => `--set ${k}=${v}`).join(' ');
  return `the same values for ${chart}: \`${set}\`. meshops changes the objects outside Helm: a helm upgrade of ${chart} on ${plan.remote} with the old values undoes this repair, so use these values there too`;
}

/** The plan's effect in plain words, for the approval message and the requester's thread. */
export function repairEffect(plan: RepairPlan): string[] {
  const lines = plan.edits.map((e) => editEffect(plan.remote, plan.primary, e));
  const chart = chartValuesLine(plan);
  if (chart) lines.push(chart);
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
