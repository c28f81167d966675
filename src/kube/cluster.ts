import { type AgentOptions, Agent as HttpsAgent } from 'node:https';
import { Writable } from 'node:stream';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import {
  AppsV1Api,
  AuthorizationV1Api,
  type ConfigurationOptions,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  Exec,
  HttpMethod,
  KubeConfig,
  Observable,
  PatchStrategy,
  RequestContext,
  type ResponseContext,
  setHeaderOptions,
  type V1Status,
  VersionApi,
} from '@kubernetes/client-node';
// Not re-exported by the package index, but the one seam client-node offers for exec sockets.
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import { buildConnector, Agent as UndiciAgent } from 'undici';
import WebSocket from 'ws';
import type { ClusterConfig } from '../config/schema.ts';
import { registerSecret } from '../observability/logger.ts';
import { metrics } from '../observability/metrics.ts';
import { classifyKubeError, KubeError } from './errors.ts';
import { undiciHttpLibrary } from './http.ts';

export interface ExecRequest {
  namespace: string;
  pod: string;
  container?: string;
  /** argv, never a shell string: each element reaches the container as one argument. */
  command: readonly string[];
  timeoutMs: number;
  /** Bytes kept of stdout and of stderr each (default EXEC_OUTPUT_CAP); the rest is counted and said. */
  outputCap?: number;
  /** Called once the exec's stream is open: the API server has the command starting in the container. */
  onOpen?: () => void;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** One configured cluster: its API clients, bound to its own KubeConfig (never a shared, switched one). */
export interface Cluster {
  readonly name: string;
  readonly role: 'primary' | 'remote';
  readonly config: ClusterConfig;
  /** The API server URL of the kubeconfig's current context. */
  readonly server: string;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly custom: CustomObjectsApi;
  readonly discovery: DiscoveryV1Api;
  /** SelfSubjectAccessReviews: `meshops doctor` asks what the credentials may do. */
  readonly authorization: AuthorizationV1Api;
  /** Per-call options carrying the request timeout; pass as the last argument of every API call. */
  options(timeoutMs?: number): ConfigurationOptions;
  /** Options for a merge patch (client-node defaults to json-patch, which a server rejects for objects). */
  mergePatch(timeoutMs?: number): ConfigurationOptions;
  version(timeoutMs?: number): Promise<{ gitVersion: string; platform?: string }>;
  exec(request: ExecRequest): Promise<ExecResult>;
  /**
   * A GET of any API server path with the kubeconfig's credentials, e.g. a Service's proxy subresource.
   * Answers every status (the caller reads a proxied service's own errors); throws only when there is none.
   */
  get(path: string, timeoutMs?: number): Promise<{ status: number; body: string }>;
}

const ok = <T>(value: T) => new Observable(Promise.resolve(value));

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * client-node 2.0.1 builds a new undici Agent in every request's authentication (KubeConfig.createDispatcher
 * has no cache): a connection pool per call, so every call paid a TLS handshake and left its connection
 * behind, and building the Agent was most of the client CPU a small call costs (a status check of ten
 * clusters makes ~70). The first one built (same CA, client certificate and server) serves every later call of
 * this kubeconfig, so connections are kept alive and reused; the credentials are still applied to each request.
 * createDispatcher is private in client-node's typings, hence the cast; it is the one place it builds them.
 */
function oneDispatcher(kc: KubeConfig): void {
  const own = kc as unknown as {
    createDispatcher(...args: unknown[]): Dispatcher | undefined;
    createDispatcherOptions(...args: unknown[]): { type: string; connect?: buildConnector.BuildOptions };
  };
  const build = own.createDispatcher.bind(kc);
  let first: { dispatcher: Dispatcher | undefined } | undefined;
  const buildOnce = (args: unknown[]): Dispatcher | undefined => {
    const options = own.createDispatcherOptions.call(kc, ...args);
    // tls.connect builds a secure context (CA, client certificate and key parsed) for every connection it is
    // not given one; the API calls of a check open dozens.
    return options.type === 'agent' && options.connect
      ? (new UndiciAgent({
          connect: keepingSessions(
            buildConnector({
              ...options.connect,
              secureContext: createSecureContext(options.connect as SecureContextOptions),
            }),
          ),
        }) as Dispatcher)
      : build(...args);
  };
  own.createDispatcher = (...args) => {
    first ??= { dispatcher: buildOnce(args) };
    return first.dispatcher;
  };
}

/**
 * undici's connector caches TLS sessions through WeakRef, so a garbage collection drops them and, once the
 * kept-alive connections have closed (a few seconds of calm), every call of the next check paid a full TLS
 * handshake (about 55 at 10 clusters). Holding the latest session of this cluster's server keeps the cache's
 * entry alive, so new connections resume it.
 */
function keepingSessions(connect: buildConnector.connector): buildConnector.connector {
  const held: { session?: Buffer } = {};
  return (options, callback) =>
    connect(options, (err, socket) => {
      if (err || !socket) return callback(err ?? new Error('no socket'), null);
      socket.on('session', (session: Buffer) => {
        held.session = session;
      });
      callback(null, socket);
    });
}

/** Per-call options: a deadline and meshops' transport. */
function timeoutOptions(ms: number): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (ctx: RequestContext) => {
          ctx.setSignal(AbortSignal.timeout(ms));
          return ok(ctx);
        },
        post: (res: ResponseContext) => ok(res),
      },
    ],
    middlewareMergeStrategy: 'append',
    httpApi: undiciHttpLibrary,
  };
}

/** More output than any command meshops runs prints (ipsec statusall on a busy gateway is tens of KiB). */
export const EXEC_OUTPUT_CAP = 1024 * 1024;

/** Keeps the first EXEC_OUTPUT_CAP bytes of a stream and counts the rest, so a chatty pod cannot exhaust memory. */
class Collect extends Writable {
  chunks: Buffer[] = [];
  kept = 0;
  dropped = 0;
  readonly cap: number;
  constructor(cap: number) {
    super();
    this.cap = cap;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    const room = this.cap - this.kept;
    if (room > 0) {
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.chunks.push(part);
      this.kept += part.length;
    }
    this.dropped += Math.max(0, chunk.length - Math.max(0, room));
    done();
  }
  text(): string {
    const text = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped > 0
      ? `${text}\n[output cut: ${this.dropped} more bytes after the first ${this.cap}]`
      : text;
  }
}

function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : 1;
}

export function loadKubeConfig(config: ClusterConfig): KubeConfig {
  const kc = new KubeConfig();
  // In a pod, client-node re-reads the projected ServiceAccount token as the kubelet rotates it.
  if (config.inCluster || !config.kubeconfig) {
    kc.loadFromCluster();
    return kc;
  }
  kc.loadFromFile(config.kubeconfig);
  if (config.context) {
    if (!kc.getContexts().some((c) => c.name === config.context)) {
      throw new KubeError({
        kind: 'unknown',
        reason: `context "${config.context}" is not in ${config.kubeconfig} (it has: ${kc
          .getContexts()
          .map((c) => c.name)
          .join(', ')})`,
      });
    }
    kc.setCurrentContext(config.context);
  }
  registerSecret(kc.getCurrentUser()?.token);
  return kc;
}

/**
 * Counts every failed API call per cluster and kind, whatever handler made it, without each handler
 * having to remember to.
 */
function counted<T extends object>(api: T, cluster: string): T {
  return new Proxy(api, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) {
          return result.catch((err: unknown) => {
            metrics.clusterErrors.inc({ cluster, kind: classifyKubeError(err).kind });
            throw err;
          });
        }
        return result;
      };
    },
  });
}

/**
 * client-node opens every exec with a fresh https.Agent, and https.Agent builds a new TLS context (CA,
 * client certificate and key parsed again) for every socket, then does a full handshake. One Agent per
 * cluster with one prebuilt secure context, the first one client-node offers (same CA and credentials),
 * lets later execs skip the parse and resume the TLS session from the Agent's session cache; the upgraded
 * sockets themselves are never reused. A proxy's agent (client-node's own subclass) is kept as it is.
 */
function execSockets(kc: KubeConfig): WebSocketHandler {
  let agent: WebSocket.ClientOptions['agent'];
  return new WebSocketHandler(kc, (uri, protocols, opts) => {
    agent ??= withSecureContext(opts.agent);
    return new WebSocket(uri, protocols, { ...opts, agent });
  });
}

function withSecureContext(first: WebSocket.ClientOptions['agent']): WebSocket.ClientOptions['agent'] {
  if (!(first instanceof HttpsAgent) || first.constructor !== HttpsAgent) return first;
  const options = (first as HttpsAgent & { options: AgentOptions }).options;
  return new HttpsAgent({ ...options, secureContext: createSecureContext(options) });
}

export function createCluster(config: ClusterConfig, defaultTimeoutMs: number): Cluster {
  const kc = loadKubeConfig(config);
  oneDispatcher(kc);
  const versionApi = counted(kc.makeApiClient(VersionApi), config.name);
  const execApi = new Exec(kc, execSockets(kc));
  const options = (ms = defaultTimeoutMs) => timeoutOptions(ms);
  return {
    name: config.name,
    role: config.role,
    config,
    server: kc.getCurrentCluster()?.server ?? '',
    core: counted(kc.makeApiClient(CoreV1Api), config.name),
    apps: counted(kc.makeApiClient(AppsV1Api), config.name),
    custom: counted(kc.makeApiClient(CustomObjectsApi), config.name),
    discovery: counted(kc.makeApiClient(DiscoveryV1Api), config.name),
    authorization: counted(kc.makeApiClient(AuthorizationV1Api), config.name),
    options,
    mergePatch: (ms = defaultTimeoutMs) =>
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch, options(ms)),
    async version(ms = defaultTimeoutMs) {
      try {
        const info = await versionApi.getCode({}, options(ms));
        return { gitVersion: info.gitVersion, platform: info.platform };
      } catch (err) {
        throw new KubeError(classifyKubeError(err, ms), { cause: err });
      }
    },
    async get(path, ms = defaultTimeoutMs) {
      const server = kc.getCurrentCluster()?.server ?? '';
      const req = new RequestContext(`${server.replace(/\/$/, '')}${path}`, HttpMethod.GET);
      await kc.applySecurityAuthentication(req);
      req.setSignal(AbortSignal.timeout(ms));
      try {
        const res = await undiciHttpLibrary.send(req).toPromise();
        return { status: res.httpStatusCode, body: await res.body.text() };
      } catch (err) {
        metrics.clusterErrors.inc({ cluster: config.name, kind: classifyKubeError(err, ms).kind });
        throw new KubeError(classifyKubeError(err, ms), { cause: err });
      }
    },
    exec(request) {
      return runExec(execApi, request).catch((err: unknown) => {
        metrics.clusterErrors.inc({ cluster: config.name, kind: classifyKubeError(err).kind });
        throw err;
      });
    },
  };
}

function runExec(execApi: Exec, request: ExecRequest): Promise<ExecResult> {
  const stdout = new Collect(request.outputCap ?? EXEC_OUTPUT_CAP);
  const stderr = new Collect(request.outputCap ?? EXEC_OUTPUT_CAP);
  return new Promise<ExecResult>((resolve, reject) => {
    let settled = false;
    let socket: { close(): void } | undefined;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => {
      socket?.close();
      finish(() =>
        reject(
          new KubeError({
            kind: 'timeout',
            reason: `exec in ${request.pod} timed out after ${request.timeoutMs} ms`,
          }),
        ),
      );
    }, request.timeoutMs);
    execApi
      .exec(
        request.namespace,
        request.pod,
        request.container ?? '',
        [...request.command],
        stdout,
        stderr,
        null,
        false,
        (status) =>
          finish(() =>
            resolve({ stdout: stdout.text(), stderr: stderr.text(), exitCode: exitCodeOf(status) }),
          ),
      )
      .then((ws) => {
        socket = ws;
        if (settled) ws.close();
        else request.onOpen?.();
        // A server that drops the socket without a Status would otherwise leave the promise pending.
        ws.on('close', () =>
          finish(() =>
            reject(
              new KubeError({
                kind: 'unknown',
                reason: `exec in ${request.pod} closed without an exit status`,
              }),
            ),
          ),
        );
      })
      .catch((err: unknown) => finish(() => reject(new KubeError(execFailure(err), { cause: err }))));
  });
}

/** client-node reports a refused upgrade only as "Unexpected server response: 403", without the Status body. */
function execFailure(err: unknown) {
  const message = err instanceof Error ? err.message : String((err as { message?: unknown })?.message ?? err);
  const status = /Unexpected server response: (\d{3})/.exec(message);
  if (status) {
    const code = Number(status[1]);
    if (code === 403)
      return { kind: 'forbidden' as const, status: code, reason: '403 Forbidden: exec is not allowed' };
    if (code === 401)
      return {
        kind: 'unauthorized' as const,
        status: code,
        reason: '401 Unauthorized: the token was rejected',
      };
    if (code === 404)
      return { kind: 'not-found' as const, status: code, reason: '404: pod or container not found' };
    return { kind: 'server-error' as const, status: code, reason: `exec refused with HTTP ${code}` };
  }
  return classifyKubeError(err);
}
