// `swanctl` (strongSwan's vici front end) in a simulated strongSwan pod: `--list-sas` (`-l`) describes this
// cluster's tunnel sides from the network model, as `ipsec statusall` does for stroke.

import { sasOf } from './ipsec.ts';
import { renderListSas } from './strongswan-output.ts';
import { type Program, stderr, stdout } from './types.ts';

export const swanctlProgram: Program = async function* swanctl(args, ctx) {
  const [command] = args;
  if (command === '--list-sas' || command === '-l') {
    yield stdout(renderListSas(sasOf(ctx)));
    return 0;
  }
  // Only the listing meshops reads is simulated; anything else is refused the way getopt refuses it.
  yield stderr(`swanctl: unrecognized option '${command ?? ''}'\n`);
  return 1;
};
