// The telemetry endpoint Prometheus scrapes (Mixer's adapter serves `:42422/metrics` in Istio 1.0;
// modern sidecars serve `/stats/prometheus`): plain HTTP on loopback.

import { createServer, type Server } from 'node:http';
import type { TrafficMetrics } from './metrics.ts';

export class MetricsExporter {
  readonly #server: Server;
  #port = 0;

  constructor(metrics: TrafficMetrics) {
    this.#server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (req.method !== 'GET' || (path !== '/metrics' && path !== '/stats/prometheus')) {
        res.writeHead(404).end('not found\n');
        return;
      }
      const body = metrics.text();
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = this.#server.address();
    this.#port = typeof address === 'object' && address ? address.port : 0;
    return this.url;
  }

  /** host:port, as a Prometheus scrape target. */
  get target(): string {
    return `127.0.0.1:${this.#port}`;
  }

  get url(): string {
    return `http://${this.target}/metrics`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
