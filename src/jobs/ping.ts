import { runPingCheck } from '../mesh/vpn/check.ts';
import { recordVpn } from '../mesh/vpn/metrics.ts';
import { renderRefusal, renderVpn } from '../slack/render/vpn.ts';
import type { CommandHandler } from './types.ts';

/** `/mesh ping <from> <to | IPv4>`: the VPN check for one pair; an address outside every cluster is refused unpinged. */
export const pingHandler: CommandHandler<'ping'> = async (command, _job, ctx) => {
  const answer = await runPingCheck(ctx, command);
  if (answer.ok) recordVpn(answer.report);
  return answer.ok ? renderVpn(answer.report) : renderRefusal(answer.refusal);
};
