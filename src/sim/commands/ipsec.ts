// `ipsec` (strongSwan's stroke front end) in a simulated strongSwan pod: `status` and
// `statusall` describe this cluster's tunnel sides from the network model.

import { hexId } from '../cluster/ids.ts';
import type { TunnelSideView } from '../net/network.ts';
import { type DaemonView, renderStatus, renderStatusAll, type SaView } from './strongswan-output.ts';
import { type ExecContext, type Program, stderr, stdout } from './types.ts';

const STRONGSWAN_VERSION = '5.9.14';
// The IBM chart's defaults: ikelifetime 3h, lifetime 1h, margintime 9m.
const REAUTH_EVERY = 3 * 3600 - 9 * 60;
const REKEY_EVERY = 3600 - 9 * 60;
const KERNEL = 'Linux 4.15.0-213-generic';
const USAGE =
  'ipsec command [arguments]\n\nUse --help for a list of commands, or refer to the ipsec(8) man page.\nSee <http://www.strongswan.org> for more general information.\n';

function podIp(ctx: ExecContext): string {
  return (ctx.pod as { status?: { podIP?: string } }).status?.podIP ?? '0.0.0.0';
}

function saOf(view: TunnelSideView, ctx: ExecContext): SaView | undefined {
  const { side, peerSide } = view;
  const state =
    side.state === 'up'
      ? 'installed'
      : side.state === 'half-up'
        ? 'no-child'
        : side.auto === 'start'
          ? 'connecting'
          : undefined;
  if (!state) return undefined;
  const secondsAgo = Math.max(0, (ctx.now() - view.establishedAt) / 1000);
  const seed = `${view.cluster}/${view.conn}/${view.establishedAt}`;
  const counters = ctx.network.counters(view.cluster, view.peer);
  const selectors = ctx.network.childSelectors(view.cluster, view.peer);
  return {
    conn: connOf(view),
    state,
    ikeUniqueId: view.index,
    childUniqueId: view.index + 1,
    reqid: view.index,
    localAddress: podIp(ctx),
    remoteAddress: peerSide.gateway,
    establishedSecondsAgo: secondsAgo,
    reauthSeconds: REAUTH_EVERY - (secondsAgo % REAUTH_EVERY),
    rekeySeconds: REKEY_EVERY - (secondsAgo % REKEY_EVERY),
    ikeSpiInitiator: hexId(`${seed}/ike-i`, 16),
    ikeSpiResponder: hexId(`${seed}/ike-r`, 16),
    espSpiIn: `c${hexId(`${seed}/esp-i`, 7)}`,
    espSpiOut: `c${hexId(`${seed}/esp-o`, 7)}`,
    ...counters,
    localTs: selectors.local,
    remoteTs: selectors.remote,
    initiator: side.auto === 'start',
  };
}

function connOf(view: TunnelSideView) {
  return {
    name: view.conn,
    localAddress: '%any',
    remoteAddress: view.side.auto === 'start' ? view.peerSide.gateway : '%any',
    localId: view.side.localId,
    remoteId: view.side.remoteId,
    localSubnets: view.side.localSubnets,
    remoteSubnets: view.side.remoteSubnets,
  };
}

/** This cluster's SAs as its charon holds them now, for either front end. */
export function sasOf(ctx: ExecContext): SaView[] {
  return ctx.network
    .sidesOf(ctx.cluster)
    .map((v) => saOf(v, ctx))
    .filter((s): s is SaView => s !== undefined);
}

export const ipsecProgram: Program = async function* ipsec(args, ctx) {
  const [command, name] = args;
  const views = ctx.network.sidesOf(ctx.cluster);
  const sas = sasOf(ctx);
  switch (command) {
    case undefined:
      yield stdout(USAGE);
      return 0;
    case 'version':
      yield stdout(
        `Linux strongSwan U${STRONGSWAN_VERSION}/K${KERNEL.slice(6)}\nUniversity of Applied Sciences Rapperswil, Switzerland\n`,
      );
      return 0;
    case 'status':
      yield stdout(renderStatus(sas, name));
      return 0;
    case 'statusall': {
      const created = Date.parse(ctx.pod.metadata.creationTimestamp ?? '') || ctx.now();
      const startedAt = new Date(created + 4000);
      const daemon: DaemonView = {
        version: STRONGSWAN_VERSION,
        kernel: KERNEL,
        machine: 'x86_64',
        uptimeSeconds: (ctx.now() - startedAt.getTime()) / 1000,
        startedAt,
        listening: [podIp(ctx)],
        conns: views.map(connOf),
      };
      yield stdout(renderStatusAll(daemon, sas, name));
      return 0;
    }
    default:
      yield stderr(`/usr/sbin/ipsec: unknown command \`${command}' (\`ipsec --help' for list)\n`);
      return 2;
  }
};
