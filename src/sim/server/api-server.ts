// One simulated cluster's kube-apiserver: HTTPS on 127.0.0.1, bearer-token authentication,
// the fault switches (latency, 503, refused connections), discovery, REST and WebSocket exec.

import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer } from 'ws';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from '../api/discovery.ts';
import { EXEC_PROTOCOLS, type ExecTiming, planExec, runExec } from '../api/exec.ts';
import {
  forbidden,
  type Identity,
  nameFromFieldSelector,
  type RequestAttributes,
  requestVerb,
} from '../api/rbac.ts';
import { handleRest, resolveType } from '../api/rest.ts';
import { parseRoute, type ResourceRoute } from '../api/routes.ts';
import { ApiError, errors } from '../api/status.ts';
import { isWatch, startWatch } from '../api/watch.ts';
import type { SimCluster } from '../cluster/sim-cluster.ts';
import type { SimControlPlane } from '../istio/control-plane.ts';
import type { Network } from '../net/network.ts';
import type { ClusterAuth } from './auth.ts';
import { apiServerGroups, type ClusterTls } from './tls.ts';

interface Reply {
  status: number;
  body: string | Buffer;
  contentType?: string;
}

const MAX_BODY = 16 * 1024 * 1024;
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function statusReply(e: unknown): Reply {
  const error =
    e instanceof ApiError
      ? e
      : new ApiError(500, 'InternalError', `Internal error occurred: ${(e as Error)?.message ?? String(e)}`);
  return { status: error.status.code, body: JSON.stringify(error.status) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'RequestEntityTooLarge', 'request entity too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class ClusterApiServer {
  readonly #cluster: SimCluster;
  readonly #network: Network;
  readonly #timing: ExecTiming;
  readonly #controlPlane: SimControlPlane;
  readonly #auth: ClusterAuth;
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #sockets = new Set<Socket>();
  /** Cancels requests still waiting out an added latency when the listener closes. */
  #inFlight = new AbortController();
  #port = 0;
  #listening = false;

  constructor(
    cluster: SimCluster,
    network: Network,
    tls: ClusterTls,
    auth: ClusterAuth,
    timing: ExecTiming,
    controlPlane: SimControlPlane,
  ) {
    this.#controlPlane = controlPlane;
    this.#cluster = cluster;
    this.#network = network;
    this.#timing = timing;
    this.#auth = auth;
    this.#server = createServer({
      key: tls.key,
      cert: tls.cert,
      ecdhCurve: apiServerGroups(cluster.spec.kubernetesVersion),
    });
    this.#wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (offered) => EXEC_PROTOCOLS.find((p) => offered.has(p)) ?? false,
    });
    this.#server.on('secureConnection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    this.#server.on('request', (req, res) => {
      this.#handle(req, res).catch((e) => this.#send(res, statusReply(e)));
    });
    this.#server.on('upgrade', (req, socket, head) => {
      this.#upgrade(req, socket, head).catch((e) => this.#reject(socket, statusReply(e)));
    });
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `https://127.0.0.1:${this.#port}`;
  }

  listen(port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        const address = this.#server.address();
        this.#port = typeof address === 'object' && address ? address.port : port;
        this.#listening = true;
        resolve(this.#port);
      });
    });
  }

  /** Stops accepting connections and drops open ones: clients see ECONNREFUSED. */
  async refuse(): Promise<void> {
    if (!this.#listening) return;
    this.#listening = false;
    this.#inFlight.abort();
    this.#inFlight = new AbortController();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    for (const ws of this.#wss.clients) ws.terminate();
    await closed;
  }

  /** Listens again on the same port. */
  async restore(): Promise<void> {
    if (!this.#listening) await this.listen(this.#port);
  }

  close(): Promise<void> {
    return this.refuse();
  }

  /** The gates every request passes before routing: authentication, added latency, 503. */
  async #gate(req: IncomingMessage): Promise<Identity> {
    const who = this.#auth.authenticate(req.headers.authorization, this.#cluster.switches.tokenRevoked);
    if (!who) throw errors.unauthorized();
    const latency = this.#cluster.switches.apiLatencyMs;
    if (latency > 0) await sleep(latency, undefined, { signal: this.#inFlight.signal });
    if (this.#cluster.switches.unavailable) throw errors.unavailable();
    return who;
  }

  /**
   * RBAC on a resource request, before the object is looked at (the apiserver authorizes in its filter
   * chain, so a forbidden request learns nothing about existence). Requests for Namespace objects are
   * authorized in the namespace they name, as the apiserver's RequestInfo resolves them.
   */
  #authorize(who: Identity, route: ResourceRoute, verb: string, query: URLSearchParams): void {
    const namespaceObject = route.group === '' && route.resource === 'namespaces' && route.name !== undefined;
    const name =
      route.name ?? (verb === 'list' || verb === 'watch' ? nameFromFieldSelector(query) : undefined);
    const attributes: RequestAttributes = {
      verb,
      group: route.group,
      resource: route.resource,
      ...(route.subresource !== undefined ? { subresource: route.subresource } : {}),
      ...(namespaceObject
        ? { namespace: route.name }
        : route.namespace !== undefined
          ? { namespace: route.namespace }
          : {}),
      ...(name !== undefined ? { name } : {}),
    };
    if (!this.#auth.authorize(who, attributes)) throw forbidden(who.user, attributes);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const who = await this.#gate(req);
    const url = new URL(req.url ?? '/', 'https://localhost');
    const route = parseRoute(url.pathname);
    if (route.kind === 'resource' && route.proxyPath !== undefined) {
      // Authorized as the apiserver does: a verb on services/proxy named by the path's name[:port] segment.
      this.#authorize(who, route, requestVerb(req.method ?? 'GET', true, url.searchParams), url.searchParams);
      this.#send(res, await this.#proxy(req, route, url, body));
      return;
    }
    if (
      route.kind === 'resource' &&
      req.method === 'GET' &&
      route.name === undefined &&
      route.subresource === undefined &&
      isWatch(url.searchParams)
    ) {
      this.#authorize(who, route, 'watch', url.searchParams);
      this.#watch(res, route, url, req.headers.accept ?? '');
      return;
    }
    const write = WRITE_METHODS.has(req.method ?? '') && route.kind === 'resource';
    const fault = write ? this.#cluster.switches.writeFaults.shift() : undefined;
    if (fault === 'not-committed') throw errors.etcdTimeout();
    const reply = this.#route(req, url, body, who);
    if (fault === 'lost-reply' && reply.status < 300) throw errors.timeout();
    this.#send(res, reply);
  }

  /** A watch stays open, one chunk per event, until the client leaves or its timeoutSeconds pass. */
  #watch(res: ServerResponse, route: ResourceRoute, url: URL, accept: string): void {
    const type = resolveType(this.#cluster, route);
    if (!type.verbs.includes('watch')) throw errors.methodNotAllowed('watch', type);
    const head = () => {
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
    };
    const stop = startWatch(
      this.#cluster,
      type,
      { route, query: url.searchParams, accept },
      {
        write: (line) => {
          head();
          res.write(line);
        },
        end: () => {
          head();
          res.end();
        },
      },
    );
    head();
    res.flushHeaders();
    res.on('close', stop);
  }

  /**
   * `services/[scheme:]name[:port]/proxy/…` as kube-apiserver serves it: the Service must exist and have
   * that port (number or name); the request goes on to the Service's backend with its query and body.
   */
  async #proxy(req: IncomingMessage, route: ResourceRoute, url: URL, body: string): Promise<Reply> {
    const segment = route.name ?? '';
    const parts = segment.split(':');
    const [name, port] = parts.length === 3 ? [parts[1]!, parts[2]] : [parts[0]!, parts[1]];
    const svc = this.#cluster.get('services', route.namespace, name) as
      | { spec?: { ports?: { name?: string; port: number }[] } }
      | undefined;
    if (!svc) throw errors.notFound({ resource: 'services', group: '' }, name);
    const ports = svc.spec?.ports ?? [];
    const match =
      port === undefined ? ports[0] : ports.find((p) => String(p.port) === port || p.name === port);
    const backend = match && this.#cluster.serviceBackends.get(`${route.namespace}/${name}:${match.port}`);
    if (!backend)
      throw new ApiError(503, 'ServiceUnavailable', `no endpoints available for service "${segment}"`);
    const method = req.method ?? 'GET';
    try {
      const answer = await fetch(`${backend}${route.proxyPath}${url.search}`, {
        method,
        headers: req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {},
        ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
        signal: this.#inFlight.signal,
      });
      return {
        status: answer.status,
        body: Buffer.from(await answer.arrayBuffer()),
        contentType: answer.headers.get('content-type') ?? 'application/octet-stream',
      };
    } catch (e) {
      throw new ApiError(
        503,
        'ServiceUnavailable',
        `error trying to reach service: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`,
      );
    }
  }

  #route(req: IncomingMessage, url: URL, body: string, who: Identity): Reply {
    const method = req.method ?? 'GET';
    const registry = this.#cluster.registry;
    const route = parseRoute(url.pathname);
    const ok = (value: unknown): Reply => ({ status: 200, body: JSON.stringify(value) });
    switch (route.kind) {
      case 'version':
        return ok(versionInfo(this.#cluster.spec.kubernetesVersion));
      case 'health':
        return { status: 200, body: 'ok', contentType: 'text/plain; charset=utf-8' };
      case 'api':
        return ok(apiVersions(`127.0.0.1:${this.#port}`));
      case 'apis':
        return ok(apiGroupList(registry));
      case 'group': {
        const doc = apiGroup(registry, route.group);
        if (!doc) throw errors.pathNotFound();
        return ok(doc);
      }
      case 'groupVersion': {
        const doc = apiResourceList(registry, route.group, route.version);
        if (!doc) throw errors.pathNotFound();
        return ok(doc);
      }
      case 'resource':
        // Any authenticated user may ask what it may do (the default system:basic-user ClusterRole).
        if (
          route.group === 'authorization.k8s.io' &&
          route.resource === 'selfsubjectaccessreviews' &&
          route.name === undefined &&
          method === 'POST'
        )
          return { status: 201, body: JSON.stringify(this.#selfSubjectAccessReview(body, who)) };
        this.#authorize(
          who,
          route,
          requestVerb(method, route.name !== undefined, url.searchParams),
          url.searchParams,
        );
        if (route.subresource === 'exec' && route.name !== undefined) {
          this.#planExec(route, url, method);
          // Valid, but not a WebSocket upgrade (kubectl's SPDY fallback ends here).
          throw errors.badRequest('Upgrade request required');
        }
        return handleRest(this.#cluster, {
          method,
          route,
          query: url.searchParams,
          accept: req.headers.accept ?? '',
          contentType: req.headers['content-type'],
          body,
        });
      default:
        throw errors.pathNotFound();
    }
  }

  /** A new token for meshops' ServiceAccount; the old one stops working at once. */
  rotateToken(): string {
    return this.#auth.rotateMeshopsToken();
  }

  /** "Can I?" for the token's own identity (POST authorization.k8s.io/v1 selfsubjectaccessreviews). */
  #selfSubjectAccessReview(body: string, who: Identity) {
    let review: { spec?: { resourceAttributes?: Partial<RequestAttributes> } };
    try {
      review = JSON.parse(body) as typeof review;
    } catch {
      throw errors.badRequest('the request body is not JSON');
    }
    const attrs = review.spec?.resourceAttributes;
    if (!attrs?.verb || !attrs.resource)
      throw errors.badRequest('spec.resourceAttributes.verb and .resource are required');
    const { verb, resource, group = '', subresource, namespace, name } = attrs;
    const allowed = this.#auth.allows(who, {
      verb,
      group,
      resource,
      ...(subresource ? { subresource } : {}),
      ...(namespace ? { namespace } : {}),
      ...(name ? { name } : {}),
    });
    return {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: review.spec,
      status: { allowed },
    };
  }

  #planExec(route: ResourceRoute, url: URL, method: string) {
    if (resolveType(this.#cluster, route).resource !== 'pods') throw errors.pathNotFound();
    return planExec(this.#cluster, route, url.searchParams, method);
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const who = await this.#gate(req);
    const url = new URL(req.url ?? '/', 'https://localhost');
    const route = parseRoute(url.pathname);
    if (route.kind !== 'resource' || route.subresource !== 'exec' || route.name === undefined) {
      throw errors.pathNotFound();
    }
    // The WebSocket upgrade is a GET, authorized as get; from Kubernetes 1.35 (feature gate
    // AuthorizePodWebsocketUpgradeCreatePermission, on by default) it needs create as well.
    this.#authorize(who, route, 'get', url.searchParams);
    this.#authorize(who, route, 'create', url.searchParams);
    const plan = this.#planExec(route, url, req.method ?? 'GET');
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!EXEC_PROTOCOLS.some((p) => offered.includes(p))) {
      throw errors.badRequest(`unable to upgrade: no supported subprotocol among [${offered.join(' ')}]`);
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      runExec(ws, plan, this.#cluster, this.#network, this.#timing, this.#controlPlane).catch(() =>
        ws.terminate(),
      );
    });
  }

  #send(res: ServerResponse, reply: Reply): void {
    if (res.headersSent) return;
    res.writeHead(reply.status, {
      'Content-Type': reply.contentType ?? 'application/json',
      'Content-Length': typeof reply.body === 'string' ? Buffer.byteLength(reply.body) : reply.body.length,
    });
    res.end(reply.body);
  }

  #reject(socket: Duplex, reply: Reply): void {
    socket.end(
      `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(reply.body)}\r\nConnection: close\r\n\r\n${reply.body}`,
    );
  }
}
