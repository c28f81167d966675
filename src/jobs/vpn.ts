import { runVpnCheck } from '../mesh/vpn/check.ts';
import { renderVpn } from '../mesh/vpn/render.ts';
import { recordVpn } from '../observability/record.ts';
import type { CommandHandler } from './types.ts';

/** `/mesh vpn`: every strongSwan tunnel and the pod-IP pings both ways, compared with the previous run. */
export const vpnHandler: CommandHandler<'vpn'> = async (_command, _job, ctx) => {
  const report = await runVpnCheck(ctx);
  recordVpn(report);
  return renderVpn(report);
};
