// pods/exec as the apiserver's WebSocket stream translator serves it (kubectl 1.32 and
// client-node both speak it): checks first, answered as plain HTTP Status errors (kubectl then
// retries with SPDY, which must get the same error); after the upgrade, one-byte channel
// prefixes (1 stdout, 2 stderr, 3 status), a Status on channel 3, then close 1000.

import { setTimeout as sleep } from 'node:timers/promises';
import type { WebSocket } from 'ws';
import { seededRandom } from '../cluster/ids.ts';
import type { SimCluster } from '../cluster/sim-cluster.ts';
import type { Json, KubeObject } from '../cluster/store.ts';
import { resolveProgram } from '../commands/programs.ts';
import type { ExecContext } from '../commands/types.ts';
import type { SimControlPlane } from '../istio/control-plane.ts';
import type { Network } from '../net/network.ts';
import { forbidden } from './rbac.ts';
import type { ResourceRoute } from './routes.ts';
import { errors } from './status.ts';

export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

export interface ExecPlan {
  pod: KubeObject;
  container: string;
  argv: string[];
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export interface ExecTiming {
  /** Fixed real-time delay before a command answers (ms). */
  execLatencyMs: number;
  /** Real milliseconds per simulated millisecond inside commands (e.g. 0.01). */
  timeScale: number;
}

const flag = (query: URLSearchParams, name: string) => ['true', '1'].includes(query.get(name) ?? '');

/** The apiserver's checks, in its order; throws the ApiError it would answer with. */
export function planExec(
  cluster: SimCluster,
  route: ResourceRoute,
  query: URLSearchParams,
  method: string,
): ExecPlan {
  const namespace = route.namespace!;
  const name = route.name!;
  const podsType = cluster.type('pods');
  const denied = cluster.switches.execForbidden;
  if (denied.has('*') || denied.has(namespace)) {
    throw forbidden(cluster.spec.user, {
      verb: method === 'POST' ? 'create' : 'get',
      group: podsType.group,
      resource: podsType.resource,
      subresource: 'exec',
      namespace,
      name,
    });
  }
  const pod = cluster.get('pods', namespace, name) as Json | undefined;
  if (!pod) throw errors.notFound(podsType, name);
  const containers: string[] = (pod.spec?.containers ?? []).map((c: Json) => c.name);
  const initContainers: string[] = (pod.spec?.initContainers ?? []).map((c: Json) => c.name);
  let container = query.get('container') ?? '';
  if (!container) {
    if (containers.length !== 1) {
      const init =
        initContainers.length > 0 ? ` or one of the init containers: [${initContainers.join(' ')}]` : '';
      throw errors.badRequest(
        `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]${init}`,
      );
    }
    container = containers[0]!;
  }
  if (!containers.includes(container) && !initContainers.includes(container)) {
    throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
  }
  if (!pod.spec?.nodeName) throw errors.badRequest(`pod ${name} does not have a host assigned`);
  const plan = {
    pod: pod as KubeObject,
    container,
    argv: query.getAll('command'),
    stdout: flag(query, 'stdout'),
    stderr: flag(query, 'stderr'),
    tty: flag(query, 'tty'),
  };
  if (!plan.stdout && !plan.stderr && !flag(query, 'stdin')) {
    throw errors.badRequest('you must specify at least 1 of stdin, stdout, stderr');
  }
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    throw errors.badRequest(`cannot exec into a container in a completed pod; current phase is ${phase}`);
  }
  const status = ((pod.status?.containerStatuses ?? []) as Json[]).find((c) => c.name === container);
  if (!status?.state?.running) {
    throw errors.badRequest(`unable to upgrade connection: container not found ("${container}")`);
  }
  if (plan.argv.length === 0)
    throw errors.badRequest('you must specify at least one command for the container');
  return plan;
}

function frame(channel: number, text: string): Buffer {
  return Buffer.concat([Buffer.from([channel]), Buffer.from(text)]);
}

// Numbers each session so two identical pings draw different loss and jitter.
let sessions = 0;

/** Runs the planned command over an upgraded socket and closes it with the exit Status. */
export async function runExec(
  ws: WebSocket,
  plan: ExecPlan,
  cluster: SimCluster,
  network: Network,
  timing: ExecTiming,
  controlPlane: SimControlPlane,
): Promise<void> {
  const abort = new AbortController();
  ws.on('close', () => abort.abort());
  ws.on('error', () => abort.abort());
  // Like the apiserver: one empty frame on the lowest requested output channel first.
  ws.send(Buffer.from([plan.stdout ? 1 : plan.stderr ? 2 : 3]));

  const send = (stream: 'stdout' | 'stderr', text: string) => {
    if (ws.readyState !== ws.OPEN) return;
    if (plan.tty) {
      if (plan.stdout) ws.send(frame(1, text.replace(/\r?\n/g, '\r\n')));
    } else if (stream === 'stdout' ? plan.stdout : plan.stderr) {
      ws.send(frame(stream === 'stdout' ? 1 : 2, text));
    }
  };
  const ctx: ExecContext = {
    cluster: cluster.name,
    pod: plan.pod,
    container: plan.container,
    traits: cluster.podTraits(plan.pod),
    network,
    controlPlane,
    random: seededRandom(`${cluster.name}/${plan.pod.metadata.name}/${plan.argv.join(' ')}/${sessions++}`),
    now: cluster.timing.now,
    wait: async (ms) => {
      if (ms > 0) await sleep(ms * timing.timeScale, undefined, { signal: abort.signal });
    },
  };
  try {
    await sleep(timing.execLatencyMs + cluster.switches.execLatencyMs, undefined, { signal: abort.signal });
    const containers = [
      ...(plan.pod as Json).spec.containers,
      ...((plan.pod as Json).spec.initContainers ?? []),
    ];
    const image: string = containers.find((c: Json) => c.name === plan.container)?.image ?? '';
    const program = resolveProgram(plan.argv[0]!, ctx.traits, image)(plan.argv.slice(1), ctx);
    let step = await program.next();
    while (!step.done) {
      send(step.value.stream, step.value.text);
      step = await program.next();
    }
    const exitCode = step.value;
    const status =
      exitCode === 0
        ? { metadata: {}, status: 'Success' }
        : {
            metadata: {},
            status: 'Failure',
            message: `command terminated with non-zero exit code: error executing command [${plan.argv.join(' ')}], exit code ${exitCode}`,
            reason: 'NonZeroExitCode',
            details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
          };
    if (ws.readyState === ws.OPEN) {
      ws.send(frame(3, JSON.stringify(status)));
      ws.close(1000);
    }
  } catch (e) {
    if (!abort.signal.aborted) throw e;
  }
}
