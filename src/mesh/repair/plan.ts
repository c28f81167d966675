import { createHash } from 'node:crypto';
import type { V1Endpoint, V1EndpointSubset } from '@kubernetes/client-node';
import { isScalar, parseDocument, type Scalar } from 'yaml';
import type { IstioProfile } from '../../config/schema.ts';
import type { DriftFinding } from '../istio/drift.ts';
import { hostOf, MESH_ADDRESS_FIELDS } from '../istio/facts.ts';

/**
 * The repair of a remote's control-plane addresses as pure data: which objects change, each changed
 * field with the reason, and the diff an approver reads. Built from the drift findings of
 * `src/mesh/istio/drift.ts` and the remote's objects as read (with their resourceVersions).
 */

interface ObjectRef {
  namespace: string;
  name: string;
  /** The resourceVersion the plan was made against; the write names it, so a change in between is a 409. */
  resourceVersion: string;
}

/** The remote objects a repair may write, as read. */
export type LiveObject = ObjectRef &
  (
    | { kind: 'ConfigMap'; mesh: string }
    | { kind: 'Endpoints'; subsets: V1EndpointSubset[] }
    | { kind: 'EndpointSlice'; addressType: string; endpoints: V1Endpoint[] }
  );

export interface FieldChange {
  /** As the drift finding names it, e.g. "mesh: defaultConfig.discoveryAddress". */
  field: string;
  component: string;
  from: string;
  to: string;
  /** e.g. "pilot restarted on icp: 10.1.0.23 → 10.1.0.57". */
  reason: string;
  /** The line as it reads now and as it will read. */
  minus: string;
  plus: string;
}

/** One object to write: its new content and every field that changes in it. */
export type Edit = LiveObject & { changes: FieldChange[] };

/** Drift the repair leaves alone, and why (said in the plan, never silently dropped). */
export interface Skipped {
  object: string;
  field: string;
  configured: string;
  why: string;
}

export interface RepairPlan {
  remote: string;
  primary: string;
  profile: IstioProfile;
  edits: Edit[];
  skipped: Skipped[];
  /** Injected pods holding old addresses: not changed by this plan, restarted in a second step. */
  pods: DriftFinding[];
  diff: string;
  /** sha256 of `diff`: an approval is bound to exactly this text. */
  hash: string;
}

export const objectLabel = (o: { kind: string; namespace: string; name: string }) =>
  `${o.kind} ${o.namespace}/${o.name}`;

export const isPodFinding = (f: DriftFinding) => f.object.startsWith('Pod ');

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const MESH_PATHS = new Map<string, readonly string[]>(
  MESH_ADDRESS_FIELDS.map((f) => [`mesh: ${f.path.join('.')}`, f.path]),
);

/** Why the address changes, in the words of the issue: "pilot restarted on icp: 10.1.0.23 → 10.1.0.57". */
export function reasonFor(finding: DriftFinding, profile: IstioProfile, to: string): string {
  const others = finding.live.filter((a) => a !== to);
  const also = others.length > 0 ? ` (also live: ${others.join(', ')})` : '';
  return profile === 'modern'
    ? `the east-west gateway on ${finding.primary} is at ${to}: ${finding.configuredHost} → ${to}${also}`
    : `${finding.component} restarted on ${finding.primary}: ${finding.configuredHost} → ${to}${also}`;
}

type Planned = { edit?: Edit; skipped: Skipped[] };

const skip = (f: DriftFinding, why: string): Skipped => ({
  object: f.object,
  field: f.field,
  configured: f.configured,
  why,
});

/** The line of `text` around offset `at`, as [start, end). */
function lineAround(text: string, at: number): [number, number] {
  const start = text.lastIndexOf('\n', at - 1) + 1;
  const end = text.indexOf('\n', at);
  return [start, end === -1 ? text.length : end];
}

function scalarText(node: Scalar, value: string): string | undefined {
  switch (node.type) {
    case 'PLAIN':
      return value;
    case 'QUOTE_DOUBLE':
      return JSON.stringify(value);
    case 'QUOTE_SINGLE':
      return `'${value.replace(/'/g, "''")}'`;
    default:
      return undefined;
  }
}

/**
 * Edits the mesh config text in place, value by value: comments, order and formatting stay as the chart
 * rendered them, so the diff shows only the addresses.
 */
function planConfigMap(
  live: Extract<LiveObject, { kind: 'ConfigMap' }>,
  findings: readonly DriftFinding[],
  profile: IstioProfile,
): Planned {
  const doc = parseDocument(live.mesh);
  const skipped: Skipped[] = [];
  const splices: { start: number; end: number; text: string; change: FieldChange }[] = [];
  for (const f of findings) {
    const path = MESH_PATHS.get(f.field);
    const node = path ? doc.getIn(path, true) : undefined;
    if (!path || !isScalar(node) || !node.range) {
      skipped.push(skip(f, 'meshops does not know where this field is written'));
      continue;
    }
    if (String(node.value) !== f.configured) {
      skipped.push(skip(f, `it changed while the plan was made (it now reads ${String(node.value)})`));
      continue;
    }
    const to = hostOf(f.suggested!);
    const text = scalarText(node, f.suggested!);
    if (text === undefined) {
      skipped.push(skip(f, `it is a ${node.type} scalar, which meshops does not rewrite`));
      continue;
    }
    const [start, end] = [node.range[0], node.range[1]];
    const [lineStart, lineEnd] = lineAround(live.mesh, start);
    const line = live.mesh.slice(lineStart, lineEnd);
    splices.push({
      start,
      end,
      text,
      change: {
        field: f.field,
        component: f.component,
        from: f.configured,
        to: f.suggested!,
        reason: reasonFor(f, profile, to),
        minus: line,
        plus: line.slice(0, start - lineStart) + text + line.slice(end - lineStart),
      },
    });
  }
  if (splices.length === 0) return { skipped };
  let mesh = live.mesh;
  // From the end backwards, so each splice leaves the offsets of the ones before it valid.
  for (const s of [...splices].sort((a, b) => b.start - a.start))
    mesh = mesh.slice(0, s.start) + s.text + mesh.slice(s.end);
  const changes = splices.sort((a, b) => a.start - b.start).map((s) => s.change);
  return { edit: { ...live, mesh, changes }, skipped };
}

const ENDPOINTS_FIELD = /^subsets\[(\d+)\]\.addresses\[(\d+)\]\.ip$/;
const SLICE_FIELD = /^endpoints\[(\d+)\]\.addresses\[(\d+)\]$/;

/**
 * Replaces drifted addresses in a list of address lists (Endpoints subsets, EndpointSlice endpoints). An
 * address that would then be listed twice in one list is dropped instead.
 */
function planAddressLists(
  lists: string[][],
  findings: readonly DriftFinding[],
  pattern: RegExp,
  profile: IstioProfile,
  fits: (address: string) => string | undefined,
  show: (address: string) => string,
): { lists: string[][]; changes: FieldChange[]; skipped: Skipped[] } {
  const next = lists.map((l) => [...l]);
  const removed = new Set<string>();
  const changes: FieldChange[] = [];
  const skipped: Skipped[] = [];
  for (const f of findings) {
    const m = pattern.exec(f.field);
    const [i, j] = m ? [Number(m[1]), Number(m[2])] : [-1, -1];
    const current = next[i]?.[j];
    if (current === undefined) {
      skipped.push(skip(f, 'meshops does not know where this field is written'));
      continue;
    }
    if (current !== f.configured) {
      skipped.push(skip(f, `it changed while the plan was made (it now reads ${current})`));
      continue;
    }
    const to = hostOf(f.suggested!);
    const unfit = fits(to);
    if (unfit) {
      skipped.push(skip(f, unfit));
      continue;
    }
    const listed = next[i]!.includes(to);
    next[i]![j] = to;
    if (listed) removed.add(`${i}/${j}`);
    changes.push({
      field: f.field,
      component: f.component,
      from: f.configured,
      to,
      reason: reasonFor(f, profile, to),
      minus: show(f.configured),
      plus: listed ? `  (dropped: ${to} is already listed)` : show(to),
    });
  }
  return {
    lists: next.map((l, i) => l.filter((_, j) => !removed.has(`${i}/${j}`))),
    changes,
    skipped,
  };
}

function planEndpoints(
  live: Extract<LiveObject, { kind: 'Endpoints' }>,
  findings: readonly DriftFinding[],
  profile: IstioProfile,
): Planned {
  const lists = live.subsets.map((s) => (s.addresses ?? []).map((a) => a.ip));
  const planned = planAddressLists(
    lists,
    findings,
    ENDPOINTS_FIELD,
    profile,
    () => undefined,
    (ip) => `  - ip: ${ip}`,
  );
  if (planned.changes.length === 0) return { skipped: planned.skipped };
  const subsets = live.subsets.map((s, i) => {
    const keep = planned.lists[i]!;
    // Entries keep their other fields (nodeName, targetRef) where the IP stays; a new IP has none.
    const byIp = new Map((s.addresses ?? []).map((a) => [a.ip, a]));
    return { ...s, addresses: keep.map((ip) => ({ ...(byIp.get(ip) ?? {}), ip })) };
  });
  return { edit: { ...live, subsets, changes: planned.changes }, skipped: planned.skipped };
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function planSlice(
  live: Extract<LiveObject, { kind: 'EndpointSlice' }>,
  findings: readonly DriftFinding[],
  profile: IstioProfile,
): Planned {
  const lists = live.endpoints.map((e) => [...e.addresses]);
  const fits = (address: string) => {
    if (live.addressType === 'IPv4' && !IPV4.test(address))
      return `${address} is not an IPv4 address, and the EndpointSlice's addressType is IPv4`;
    if (live.addressType === 'IPv6' && !address.includes(':'))
      return `${address} is not an IPv6 address, and the EndpointSlice's addressType is IPv6`;
    return undefined;
  };
  const planned = planAddressLists(lists, findings, SLICE_FIELD, profile, fits, (a) => `  - ${a}`);
  if (planned.changes.length === 0) return { skipped: planned.skipped };
  const endpoints = live.endpoints.map((e, i) => ({ ...e, addresses: planned.lists[i]! }));
  return { edit: { ...live, endpoints, changes: planned.changes }, skipped: planned.skipped };
}

function editDiff(remote: string, edit: Edit): string {
  const lines = [
    `--- live ${objectLabel(edit)} on ${remote} (resourceVersion ${edit.resourceVersion})`,
    '+++ repaired',
  ];
  for (const c of edit.changes) lines.push(`@@ ${c.field} · ${c.reason}`, `-${c.minus}`, `+${c.plus}`);
  return lines.join('\n');
}

export interface PlanInput {
  remote: string;
  primary: string;
  profile: IstioProfile;
  /** Every drift finding of the remote, from `gatherDrift`. */
  findings: readonly DriftFinding[];
  /** The remote objects the findings point into, as read. */
  objects: readonly LiveObject[];
}

/** The repair of one remote, from its drift findings and its objects. */
export function makeRepairPlan(input: PlanInput): RepairPlan {
  const { remote, profile } = input;
  const pods = input.findings.filter(isPodFinding);
  const written = input.findings.filter((f) => !isPodFinding(f));
  const skipped: Skipped[] = [];
  const edits: Edit[] = [];
  const repairable = written.filter((f) => {
    if (f.suggested !== undefined) return true;
    skipped.push(
      skip(
        f,
        profile === 'modern'
          ? `the east-west gateway on ${f.primary} has no external address to point at`
          : `${f.component} has no running pod on ${f.primary} to point at`,
      ),
    );
    return false;
  });
  for (const live of input.objects) {
    const mine = repairable.filter((f) => f.object === objectLabel(live));
    if (mine.length === 0) continue;
    const planned =
      live.kind === 'ConfigMap'
        ? planConfigMap(live, mine, profile)
        : live.kind === 'Endpoints'
          ? planEndpoints(live, mine, profile)
          : planSlice(live, mine, profile);
    if (planned.edit) edits.push(planned.edit);
    skipped.push(...planned.skipped);
  }
  const known = new Set(input.objects.map(objectLabel));
  for (const f of repairable) {
    if (known.has(f.object)) continue;
    skipped.push(
      skip(
        f,
        f.field === 'spec.externalName'
          ? 'an ExternalName Service holds a hostname; change it where the remote profile is installed'
          : 'meshops does not write this object',
      ),
    );
  }
  const diff = edits.map((e) => editDiff(remote, e)).join('\n');
  return {
    remote,
    primary: input.primary,
    profile,
    edits,
    skipped,
    pods,
    diff,
    hash: sha256(diff),
  };
}

/** Why a fresh plan no longer matches an approved one, in one line naming what moved. */
export function planChanges(approved: readonly Edit[], fresh: readonly Edit[]): string {
  const key = (e: Edit, c: FieldChange) => `${objectLabel(e)} ${c.field}`;
  const before = new Map(approved.flatMap((e) => e.changes.map((c) => [key(e, c), c] as const)));
  const after = new Map(fresh.flatMap((e) => e.changes.map((c) => [key(e, c), c] as const)));
  const out: string[] = [];
  for (const [k, c] of before) {
    const now = after.get(k);
    if (!now) out.push(`${k} needs no change any more`);
    else if (now.to !== c.to) out.push(`${c.component} is now at ${hostOf(now.to)}, not ${hostOf(c.to)}`);
  }
  for (const [k] of after) if (!before.has(k)) out.push(`${k} now needs a change too`);
  // One component moving shows in every object holding its address: say it once.
  return out.length > 0 ? [...new Set(out)].join('; ') : 'the plan computed from the live state is different';
}
