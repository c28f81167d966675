import { auditOf } from '../access/audit.ts';
import { renderAudit } from '../slack/render/audit.ts';
import type { CommandHandler } from './types.ts';

/** `/mesh audit [n]`: the latest n entries of the audit stream. */
export const auditHandler: CommandHandler<'audit'> = async (command, _job, ctx) =>
  renderAudit(await auditOf(ctx).latest(command.limit), command.limit, ctx.config.audit.retention);
