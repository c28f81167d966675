import { runVpnCheck } from '../mesh/vpn/check.ts';
import { recordVpn } from '../mesh/vpn/metrics.ts';
import { renderVpn } from '../slack/render/vpn.ts';
import type { CommandHandler } from './types.ts';

/** `/mesh vpn`: every strongSwan tunnel and the pod-IP pings both ways, compared with the previous run. */
export const vpnHandler: CommandHandler<'vpn'> = async (_command, _job, ctx) => {
  const report = await runVpnCheck(ctx);
  recordVpn(report);
  return renderVpn(report);
};
