import type { Cluster } from '../../../kube/cluster.ts';
import { classifyKubeError } from '../../../kube/errors.ts';
import {
  createVirtualService,
  deleteVirtualService,
  readVirtualService,
  replaceVirtualService,
} from '../live.ts';
import { refText } from '../types.ts';
import type { WrittenObject } from '../written.ts';

export type RevertResult =
  | { ok: true; lines: string[] }
  /** conflict: someone changed an object since meshops wrote it; nothing of theirs was overwritten. */
  | { ok: false; conflict: boolean; reason: string; lines: string[] };

/**
 * The objects someone changed since meshops wrote them (their resourceVersion moved), as
 * "default/reviews (resourceVersion 12 → 15)"; empty when every object is still exactly what meshops wrote.
 */
export async function changedSince(
  primary: Cluster,
  written: readonly WrittenObject[],
): Promise<{ moved: string[]; live: Awaited<ReturnType<typeof readVirtualService>>[] }> {
  const live = await Promise.all(written.map((w) => readVirtualService(primary, w.ref)));
  const moved = written.flatMap((w, i) => {
    const now = live[i]?.live.resourceVersion ?? null;
    return now === w.resourceVersion
      ? []
      : [`${refText(w.ref)} (resourceVersion ${w.resourceVersion ?? 'deleted'} → ${now ?? 'deleted'})`];
  });
  return { moved, live };
}

export const changedReason = (moved: readonly string[]) =>
  `changed since meshops wrote it: ${moved.join(', ')}`;

/**
 * Puts back what was live before the change, on the primary, only where the object is still exactly what
 * meshops wrote (same resourceVersion). Every object is checked before the first write, so a change made by
 * someone else to one of them stops the whole revert instead of leaving half of it applied.
 */
export async function revertWritten(
  primary: Cluster,
  written: readonly WrittenObject[],
): Promise<RevertResult> {
  const { moved, live } = await changedSince(primary, written);
  if (moved.length > 0) return { ok: false, conflict: true, reason: changedReason(moved), lines: [] };
  const lines: string[] = [];
  for (const [i, w] of written.entries()) {
    try {
      if (w.resourceVersion === null) {
        const rv = await createVirtualService(primary, w.ref, w.restore ?? {});
        lines.push(`${refText(w.ref)}: re-created (resourceVersion ${rv})`);
      } else if (w.restore === null) {
        await deleteVirtualService(primary, w.ref, w.resourceVersion);
        lines.push(`${refText(w.ref)}: deleted again (it did not exist before the change)`);
      } else {
        const rv = await replaceVirtualService(primary, live[i]!.raw, w.ref, w.resourceVersion, w.restore);
        lines.push(`${refText(w.ref)}: resourceVersion ${w.resourceVersion} → ${rv}`);
      }
    } catch (err) {
      const failure = classifyKubeError(err);
      return {
        ok: false,
        conflict: failure.kind === 'conflict',
        reason:
          failure.kind === 'conflict'
            ? `${refText(w.ref)} was changed by someone else while reverting; it was not overwritten`
            : `${refText(w.ref)} could not be written: ${failure.reason}`,
        lines,
      };
    }
  }
  return { ok: true, lines };
}
