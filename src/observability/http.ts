import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { registry } from './metrics.ts';

export interface Route {
  path: string;
  method: string;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** A bare 200 with no details: what a load balancer in front of the public Slack port may ask. */
export const healthzRoute: Route = {
  path: '/healthz',
  method: 'GET',
  handler: (_req, res) => json(res, 200, { ok: true }),
};

/**
 * /healthz, /readyz and /metrics for the ops port (OPS_PORT). /readyz and /metrics name clusters and their
 * health, so they are never served on the public Slack port, which carries /healthz alone.
 */
export function opsRoutes(options: {
  ready: () => Promise<boolean>;
  /** Further conditions for readiness, reported by name (e.g. socketMode while its connection is down). */
  checks?: () => Record<string, boolean>;
  beforeScrape?: () => Promise<void>;
}): Route[] {
  return [
    healthzRoute,
    {
      path: '/readyz',
      method: 'GET',
      handler: (_req, res) => {
        void options.ready().then((redisOk) => {
          const checks = Object.entries(options.checks?.() ?? {});
          const ok = redisOk && checks.every(([, up]) => up);
          json(res, ok ? 200 : 503, {
            ready: ok,
            redis: redisOk ? 'ok' : 'unavailable',
            ...Object.fromEntries(checks.map(([name, up]) => [name, up ? 'ok' : 'unavailable'])),
          });
        });
      },
    },
    {
      path: '/metrics',
      method: 'GET',
      handler: (_req, res) => {
        void (async () => {
          await options.beforeScrape?.().catch(() => {});
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(await registry.metrics());
        })();
      },
    },
  ];
}

/** A plain HTTP server for the ops routes, where no Bolt receiver listens. */
export async function startOpsServer(
  port: number,
  host: string | undefined,
  routes: readonly Route[],
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = routes.find((r) => r.path === path && r.method === req.method);
    if (route) route.handler(req, res);
    else json(res, 404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return server;
}
