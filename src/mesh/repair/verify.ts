import type { JobContext } from '../../jobs/types.ts';
import type { Verification } from '../../slack/render/repair.ts';
import { runStatusCheck } from '../istio/check.ts';
import { runPingCheck } from '../vpn/check.ts';

const reasonOf = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? String(err);

/**
 * After a step is applied: `/mesh status <remote>` and the VPN from the remote to the primary (both
 * tunnel ends, and pings to the primary's control plane at its live addresses), as those commands run them.
 */
export async function checkRemote(
  ctx: JobContext,
  remote: string,
): Promise<Pick<Verification, 'status' | 'vpn'>> {
  const primary = ctx.clusters.primary.name;
  const [status, vpn] = await Promise.all([
    runStatusCheck(ctx, { cluster: remote }).then(
      (report) => ({ ok: true as const, report, summary: report.summary }),
      (err: unknown) => ({ ok: false as const, reason: reasonOf(err) }),
    ),
    runPingCheck(ctx, { kind: 'ping', from: remote, target: { type: 'cluster', name: primary } }).then(
      (answer) =>
        answer.ok
          ? { ok: true as const, report: answer.report }
          : { ok: false as const, reason: answer.refusal },
      (err: unknown) => ({ ok: false as const, reason: reasonOf(err) }),
    ),
  ]);
  return { status, vpn };
}
