import type { StoredAuditEntry } from '../../access/audit.ts';
import { plural } from '../../chat/mrkdwn.ts';
import type { JobResult } from '../../chat/reply.ts';
import { when, who } from './approval.ts';
import { context, header, linesToSections, section } from './blocks.ts';

const ICON: Record<StoredAuditEntry['action'], string> = {
  requested: ':raised_hand:',
  approved: ':ballot_box_with_check:',
  rejected: ':no_entry_sign:',
  withdrawn: ':leftwards_arrow_with_hook:',
  expired: ':hourglass:',
  refused: ':no_entry:',
  applied: ':white_check_mark:',
  failed: ':x:',
  verified: ':mag:',
  reverted: ':rewind:',
};

// The stream keeps plain user ids in its results (it is read outside Slack too); the chat mentions them.
const PEOPLE = /\b(requested|approved) by ([UW][A-Z0-9]{2,})\b/g;
const mentioned = (result: string) =>
  result.replace(PEOPLE, (_, verb: string, id: string) => `${verb} by ${who(id)}`);

export function auditLine(e: StoredAuditEntry): string {
  const ids = [e.request ? `\`${e.request}\`` : '', e.planHash ? `plan \`${e.planHash.slice(0, 12)}\`` : '']
    .filter(Boolean)
    .join(' · ');
  return `${ICON[e.action] ?? ''} ${when(e.at)} *${e.action}* ${e.subject} by ${who(e.who)} — ${mentioned(e.result)}${ids ? ` (${ids})` : ''}`;
}

/** `/mesh audit [n]`: newest first, one line per entry. */
export function renderAudit(
  entries: readonly StoredAuditEntry[],
  asked: number,
  retentionMs: number,
): JobResult {
  const days = Math.round(retentionMs / 86_400_000);
  if (entries.length === 0) {
    const text = `No audit entries (entries are kept ${plural(days, 'day')}, audit.retention).`;
    return { verdict: 'info', summary: 'no audit entries', text, blocks: [section(text)] };
  }
  const summary = `latest ${plural(entries.length, 'audit entry', 'audit entries')}`;
  return {
    verdict: 'info',
    summary,
    text: `Audit: ${summary}`,
    blocks: [
      header(`Audit: latest ${entries.length}${entries.length < asked ? ` (all there are)` : ''}`),
      ...linesToSections(entries.map(auditLine)),
      context(
        `Newest first · kept ${plural(days, 'day')} (audit.retention) · diffs are in the stream and the worker log`,
      ),
    ],
  };
}
