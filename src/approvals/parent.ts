import type { Message, ReplyPort } from '../chat/reply.ts';
import type { Logger } from '../observability/logger.ts';
import { inParentTurn, parentHead } from '../queue/parent.ts';
import type { ApprovalView } from './messages.ts';
import { approvalStore } from './store.ts';
import type { ApprovalDeps } from './types.ts';

type ParentDeps = Pick<ApprovalDeps, 'redis' | 'prefix' | 'replicated'> & {
  reply: ReplyPort;
  log: Logger;
};

/**
 * Rewrites the parent message of a command that asked for approval from where its requests stand now: their
 * decisions once one is no longer pending, else `whilePending` (the command's own verdict, when it ends). It reads
 * the states inside its turn among the parent's writers, so a decision taken while the command was still
 * finishing is never overwritten with "approval requested".
 */
export async function rewriteParent(
  deps: ParentDeps,
  view: Pick<ApprovalView, 'parent'>,
  parent: { channel: string; ts: string },
  options: { whilePending?: Message; requestId?: string } = {},
): Promise<void> {
  await inParentTurn(deps.redis, deps.prefix, parent.channel, parent.ts, async () => {
    // No head (a failover lost it, or the command has not recorded it yet): the command's verdict, if it is the writer.
    const head = await parentHead(deps.redis, deps.prefix, parent.channel, parent.ts);
    // A head recorded before heads listed their requests belongs to a command that made one.
    const ids = head ? (head.requests ?? (options.requestId ? [options.requestId] : [])) : [];
    const store = approvalStore(deps);
    const found = (await Promise.all(ids.map((id) => store.get(id)))).filter((f) => f !== undefined);
    const message =
      head && found.some((f) => f.status.state !== 'pending')
        ? view.parent(head, found)
        : options.whilePending;
    if (message) await deps.reply.update({ ...parent, ...message });
  });
}
