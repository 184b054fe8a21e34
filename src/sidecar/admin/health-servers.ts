// The sidecar's other ports: 15090 (/stats/prometheus), 15021 (/healthz/ready), 15020 (merged metrics + ready).

import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { prometheusText, send } from './admin-server.js';
import type { AdminContext } from './context.js';

export interface AppMetricsTarget {
  address: string;
  port: number;
  path: string;
}

export interface HealthServersOptions {
  host: string;
  ports: { stats: number; readiness: number; mergedMetrics: number };
  appMetrics?: AppMetricsTarget;
  logger: Logger;
  /** Scrape timeout for the app's metrics. Default 2 s. */
  appTimeoutMs?: number;
}

/** The app's own exposition, or '' when it cannot be read (Istio keeps serving the sidecar's metrics then). */
export function fetchAppMetrics(t: AppMetricsTarget, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host: t.address, port: t.port, path: t.path, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`the app answered ${res.statusCode}`));
        else resolve(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export class HealthServers {
  readonly #ctx: AdminContext;
  readonly #opts: HealthServersOptions;
  readonly #servers: Server[] = [];
  readonly ports = { stats: 0, readiness: 0, mergedMetrics: 0 };

  constructor(ctx: AdminContext, opts: HealthServersOptions) {
    this.#ctx = ctx;
    this.#opts = opts;
  }

  async listen(): Promise<void> {
    const ctx = this.#ctx;
    const ready = () => ctx.ready() && ctx.state() === 'LIVE';
    this.ports.stats = await this.#serve(this.#opts.ports.stats, async (path, res) => {
      if (path !== '/stats/prometheus' && path !== '/metrics') return false;
      const r = prometheusText(ctx);
      send(res, r.status, r.body, r.type);
      return true;
    });
    this.ports.readiness = await this.#serve(this.#opts.ports.readiness, async (path, res) => {
      if (path !== '/healthz/ready') return false;
      send(res, ready() ? 200 : 503, ready() ? 'ok\n' : `${ctx.state()}\n`);
      return true;
    });
    this.ports.mergedMetrics = await this.#serve(this.#opts.ports.mergedMetrics, async (path, res) => {
      if (path === '/healthz/ready') {
        send(res, ready() ? 200 : 503, ready() ? 'ok\n' : `${ctx.state()}\n`);
        return true;
      }
      if (path !== '/stats/prometheus' && path !== '/metrics') return false;
      const own = prometheusText(ctx);
      let app = '';
      if (this.#opts.appMetrics) {
        try {
          app = await fetchAppMetrics(this.#opts.appMetrics, this.#opts.appTimeoutMs ?? 2000);
        } catch (e) {
          this.#opts.logger.debug('app metrics unavailable for merging', { error: errorMessage(e) });
        }
      }
      const body = app ? `${own.body}${own.body.endsWith('\n') ? '' : '\n'}${app}` : own.body;
      send(res, 200, body, 'text/plain; version=0.0.4; charset=utf-8');
      return true;
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }

  #serve(
    port: number,
    handle: (path: string, res: import('node:http').ServerResponse) => Promise<boolean>,
  ): Promise<number> {
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      handle(path, res).then(
        (handled) => {
          if (!handled) send(res, 404, `not found: ${path}\n`);
        },
        (e) => send(res, 500, `${errorMessage(e)}\n`),
      );
    });
    this.#servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.#opts.host, port }, () => {
        server.removeListener('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }
}
