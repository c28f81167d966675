import type { StatusCheckDeps } from '../istio/check.ts';
import { runStatusCheck } from '../istio/check.ts';
import type { StatusReport } from '../istio/report.ts';
import { runPingCheck, type VpnDeps } from '../vpn/check.ts';
import type { VpnReport } from '../vpn/report.ts';

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

const reasonOf = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? String(err);

/**
 * After a step is applied: `/mesh status <remote>` and the VPN from the remote to the primary (both
 * tunnel ends, and pings to the primary's control plane at its live addresses), as those commands run them.
 */
export async function checkRemote(
  ctx: StatusCheckDeps & VpnDeps,
  remote: string,
): Promise<Pick<Verification, 'status' | 'vpn'>> {
  const primary = ctx.clusters.primary.name;
  const [status, vpn] = await Promise.all([
    runStatusCheck(ctx, { cluster: remote }).then(
      (report) => ({ ok: true as const, report, summary: report.summary }),
      (err: unknown) => ({ ok: false as const, reason: reasonOf(err) }),
    ),
    runPingCheck(ctx, { from: remote, target: { type: 'cluster', name: primary } }).then(
      (answer) =>
        answer.ok
          ? { ok: true as const, report: answer.report }
          : { ok: false as const, reason: answer.refusal },
      (err: unknown) => ({ ok: false as const, reason: reasonOf(err) }),
    ),
  ]);
  return { status, vpn };
}
