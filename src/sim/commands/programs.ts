// The programs a simulated container has. argv is never handed to a shell: `argv[0]` picks
// a program and the rest are its arguments, verbatim.

import type { PodTraits } from '../cluster/sim-cluster.ts';
import { ipsecProgram } from './ipsec.ts';
import { cat, pilotAgent, pilotDiscovery } from './istio.ts';
import { ncProgram } from './nc.ts';
import { pingProgram } from './ping.ts';
import { swanctlProgram } from './swanctl.ts';
import { type Program, stderr, stdout } from './types.ts';

const exit = (code: number): Program =>
  // biome-ignore lint/correctness/useYield: `true` and `false` print nothing; they are still programs.
  async function* status() {
    return code;
  };

const echo: Program = async function* (args) {
  yield stdout(`${args.join(' ')}\n`);
  return 0;
};

const hostname: Program = async function* (_args, ctx) {
  yield stdout(`${ctx.pod.metadata.name}\n`);
  return 0;
};

const iputilsPing = pingProgram('iputils');
const busyboxPing = pingProgram('busybox');

/**
 * Istio 1.0's proxy images are built on istionightly/base_debug (ubuntu:xenial with curl, iputils-ping,
 * netcat, tcpdump, …: istio docker/Dockerfile.xenial_debug); an app image has no netcat.
 */
const hasNetcat = (image: string) => /(^|\/)(proxyv2|proxy_debug):1\.[01]\./.test(image);

function lookup(name: string, traits: PodTraits, image: string): Program | undefined {
  switch (name) {
    case 'nc':
      return hasNetcat(image) ? ncProgram : undefined;
    case 'ping':
      return traits.ping === 'none' ? undefined : traits.ping === 'busybox' ? busyboxPing : iputilsPing;
    case 'ipsec':
      return traits.strongswan && traits.strongswanFrontEnd === 'stroke' ? ipsecProgram : undefined;
    case 'swanctl':
      return traits.strongswan && traits.strongswanFrontEnd === 'vici' ? swanctlProgram : undefined;
    case 'sudo':
      return traits.strongswan ? sudo(traits, image) : undefined;
    case 'pilot-discovery':
      return pilotDiscovery;
    case 'pilot-agent':
      return pilotAgent;
    case 'cat':
      return cat;
    case 'echo':
      return echo;
    case 'hostname':
      return hostname;
    case 'true':
      return exit(0);
    case 'false':
      return exit(1);
    default:
      return undefined;
  }
}

/** The strongSwan chart's newer images run as non-root and document `sudo ipsec status`. */
function sudo(traits: PodTraits, image: string): Program {
  return async function* (args, ctx) {
    const [name = '', ...rest] = args;
    return yield* resolveProgram(name, traits, image)(rest, ctx);
  };
}

/** `image`: the exec'd container's image, for tools that come with the image rather than the workload. */
export function resolveProgram(argv0: string, traits: PodTraits, image = ''): Program {
  const name = argv0.slice(argv0.lastIndexOf('/') + 1);
  return (
    lookup(name, traits, image) ??
    async function* notFound() {
      yield stderr(`sh: ${argv0}: not found\n`);
      return 127;
    }
  );
}
