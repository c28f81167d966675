// Pilot's HTTP debug handlers as the API server's service proxy reaches them: one loopback server for the
// whole mesh, addressed `/<cluster>/<namespace>/<service>/debug/syncz`. The Service's selector picks the
// pilot pod that answers (a Service reaches one endpoint). Istio 1.0 pilot serves the handlers on its HTTP
// and monitoring ports without authentication; istiod since 1.11 refuses callers that are not on loopback
// and not authenticated (istio/istio#32903), which every service-proxied request is.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SimCluster } from '../cluster/sim-cluster.ts';
import type { Json, KubeObject } from '../cluster/store.ts';
import { isIstio10, type SimControlPlane } from './control-plane.ts';

/** The debug ports of pilot's Services: 1.0's http-legacy-discovery and http-monitoring, istiod's 15014. */
const DEBUG_PORTS: Record<string, number[]> = { 'istio-pilot': [8080, 9093], istiod: [15014] };

export class PilotDebugServer {
  readonly #server: Server;
  readonly #clusters: ReadonlyMap<string, SimCluster>;
  readonly #controlPlane: SimControlPlane;

  constructor(clusters: ReadonlyMap<string, SimCluster>, controlPlane: SimControlPlane) {
    this.#clusters = clusters;
    this.#controlPlane = controlPlane;
    this.#server = createServer((req, res) => {
      const answer = this.#answer(req.method ?? 'GET', new URL(req.url ?? '/', 'http://localhost').pathname);
      res.writeHead(answer.status, { 'content-type': answer.type });
      res.end(answer.body);
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  /** Every `<namespace>/<service>:<port>` of pilot's debug ports that exists in a cluster, with its path here. */
  routes(cluster: SimCluster): { namespace: string; service: string; port: number; path: string }[] {
    const out: { namespace: string; service: string; port: number; path: string }[] = [];
    for (const svc of cluster.list('services') as Json[]) {
      const ports = DEBUG_PORTS[svc.metadata.name] ?? [];
      for (const port of ports) {
        if (!svc.spec?.selector || !(svc.spec.ports ?? []).some((p: Json) => p.port === port)) continue;
        const { namespace, name } = svc.metadata;
        out.push({ namespace, service: name, port, path: `/${cluster.name}/${namespace}/${name}` });
      }
    }
    return out;
  }

  #answer(method: string, path: string): { status: number; type: string; body: string } {
    const text = (status: number, body: string) => ({ status, type: 'text/plain; charset=utf-8', body });
    const [, cluster = '', namespace = '', service = '', ...rest] = path.split('/');
    const state = this.#clusters.get(cluster);
    const svc = state?.get('services', namespace, service) as Json | undefined;
    if (!state || !svc) return text(404, '404 page not found\n');
    const pilot = (state.list('pods', namespace) as Json[])
      // A Service selector is a set of equalities on pod labels.
      .filter((p) =>
        Object.entries((svc.spec.selector ?? {}) as Record<string, string>).every(
          ([k, v]) => p.metadata.labels?.[k] === v,
        ),
      )
      .filter((p) =>
        (p.status?.containerStatuses ?? []).some((s: Json) => s.name === 'discovery' && s.state?.running),
      )
      .sort((a, b) => String(a.metadata.name).localeCompare(b.metadata.name))[0];
    if (!pilot) return text(503, `no endpoints available for service "${service}"\n`);
    const image = (pilot.spec.containers as Json[]).find((c) => c.name === 'discovery')?.image;
    if (!isIstio10(image)) return text(401, 'Unauthorized\n');
    if (method !== 'GET' || `/${rest.join('/')}` !== '/debug/syncz') return text(404, '404 page not found\n');
    const rows = this.#controlPlane.syncz(cluster, pilot as KubeObject);
    return {
      status: 200,
      type: 'application/json',
      body: rows && rows.length > 0 ? JSON.stringify(rows) : 'null',
    };
  }
}
