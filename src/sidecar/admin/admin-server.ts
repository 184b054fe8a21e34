// The Envoy-compatible admin API on 127.0.0.1:15000 and the bootstrap's unix socket.

import { existsSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JsonValue } from '@bufbuild/protobuf';
import { errorMessage } from '../../shared/errors.js';
import type { LogLevel } from '../../shared/log.js';
import { handleStatsRequest } from '../../telemetry/stats/render.js';
import { envoyCertsJson } from '../identity/admin-certs.js';
import { clustersJson, clustersText } from './clusters.js';
import { configDump } from './config-dump.js';
import type { AdminContext } from './context.js';
import { serverInfo } from './server-info.js';
import { syncAll } from './stats-sync.js';

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

type Handler = (url: URL, req: IncomingMessage, res: ServerResponse) => void;

const HELP: [string, string][] = [
  ['/certs', 'print certs on machine'],
  ['/clusters', 'upstream cluster status (?format=json)'],
  ['/config_dump', 'dump current Envoy configs (?include_eds)'],
  ['/drain_listeners', 'drain listeners (POST; ?graceful)'],
  ['/listeners', 'print listener info'],
  ['/logging', 'query/change logging levels (POST ?level=debug|info|warn|error)'],
  ['/quitquitquit', 'exit the server (POST)'],
  ['/ready', 'print server state, return 200 if LIVE, otherwise return 503'],
  ['/server_info', 'print server version/status information'],
  ['/stats', 'print server stats (?filter=, ?format=json, ?usedonly)'],
  ['/stats/prometheus', 'print server stats in prometheus format'],
];

export function send(
  res: ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache, max-age=0',
  });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: JsonValue): void {
  send(res, status, `${JSON.stringify(body, null, 2)}\n`, 'application/json');
}

/** Envoy's Prometheus output of the sidecar: istio_* families, then Envoy's own stats. */
export function prometheusText(
  ctx: AdminContext,
  url = '/stats/prometheus',
): { status: number; body: string; type: string } {
  syncAll(ctx, Date.now());
  const r = handleStatsRequest(ctx.telemetry.stats, url, ctx.telemetry.renderIstio());
  return { status: r.status, body: r.body, type: r.contentType };
}

export class AdminServer {
  readonly #ctx: AdminContext;
  readonly #routes = new Map<string, { post: boolean; handler: Handler }>();
  readonly #servers: Server[] = [];
  #socketPath: string | undefined;

  constructor(ctx: AdminContext) {
    this.#ctx = ctx;
    const get = (path: string, handler: Handler) => this.#routes.set(path, { post: false, handler });
    const post = (path: string, handler: Handler) => this.#routes.set(path, { post: true, handler });
    get('/', (_u, _q, res) =>
      send(res, 200, `admin commands are:\n${HELP.map(([p, d]) => `  ${p}: ${d}`).join('\n')}\n`),
    );
    get('/config_dump', (u, _q, res) =>
      sendJson(res, 200, configDump(ctx, { includeEds: u.searchParams.has('include_eds') })),
    );
    get('/clusters', (u, _q, res) => {
      if (u.searchParams.get('format') === 'json') sendJson(res, 200, clustersJson(ctx.clusters()));
      else send(res, 200, clustersText(ctx.clusters()));
    });
    get('/listeners', (u, _q, res) => {
      const list = ctx.listeners();
      if (u.searchParams.get('format') === 'json') {
        sendJson(res, 200, {
          listener_statuses: list.map((l) => ({
            name: l.name,
            local_address: { socket_address: { address: l.address, port_value: l.port } },
            ...(l.error ? { error: l.error } : {}),
          })),
        });
      } else
        send(
          res,
          200,
          list.map((l) => `${l.name}::${l.address}:${l.port}${l.error ? ` (${l.error})` : ''}\n`).join(''),
        );
    });
    const stats: Handler = (u, _q, res) => {
      syncAll(ctx, Date.now());
      const istio = u.pathname.endsWith('/prometheus') || u.searchParams.get('format') === 'prometheus';
      const r = handleStatsRequest(
        ctx.telemetry.stats,
        `${u.pathname}${u.search}`,
        istio ? ctx.telemetry.renderIstio() : '',
      );
      send(res, r.status, r.body, r.contentType);
    };
    get('/stats', stats);
    get('/stats/prometheus', stats);
    get('/ready', (_u, _q, res) => {
      const state = ctx.state();
      send(res, ctx.ready() ? 200 : 503, `${state}\n`);
    });
    get('/server_info', (_u, _q, res) => sendJson(res, 200, serverInfo(ctx, Date.now())));
    get('/certs', (_u, _q, res) => {
      const s = ctx.secrets();
      sendJson(res, 200, (s ? envoyCertsJson(s, Date.now()) : { certificates: [] }) as unknown as JsonValue);
    });
    get('/logging', (u, req, res) => this.#logging(u, req, res));
    post('/quitquitquit', (_u, _q, res) => {
      send(res, 200, 'OK\n');
      res.once('finish', () => setImmediate(() => ctx.quit()));
    });
    post('/drain_listeners', (u, _q, res) => {
      ctx.drainListeners({ graceful: u.searchParams.has('graceful') });
      send(res, 200, 'OK\n');
    });
  }

  /** Binds TCP (host:port, port 0 picks one) and, when given, a unix socket; resolves with the TCP port. */
  async listen(opts: { host: string; port: number; socketPath?: string }): Promise<number> {
    const tcp = await this.#bind((s) => s.listen({ host: opts.host, port: opts.port }));
    if (opts.socketPath) {
      if (existsSync(opts.socketPath)) unlinkSync(opts.socketPath);
      await this.#bind((s) => s.listen({ path: opts.socketPath! }));
      this.#socketPath = opts.socketPath;
    }
    return (tcp.address() as AddressInfo).port;
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
    if (this.#socketPath && existsSync(this.#socketPath)) unlinkSync(this.#socketPath);
  }

  #bind(listen: (s: Server) => void): Promise<Server> {
    const server = createServer((req, res) => this.#dispatch(req, res));
    this.#servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', () => {
        server.removeListener('error', reject);
        resolve(server);
      });
      listen(server);
    });
  }

  #dispatch(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://admin');
    const route = this.#routes.get(url.pathname);
    if (!route) {
      send(res, 404, `invalid path: ${url.pathname}\n`);
      return;
    }
    if (route.post && req.method !== 'POST') {
      send(res, 405, `Method ${req.method} not allowed, POST required.\n`);
      return;
    }
    try {
      route.handler(url, req, res);
    } catch (e) {
      send(res, 500, `${errorMessage(e)}\n`);
    }
  }

  #logging(url: URL, req: IncomingMessage, res: ServerResponse): void {
    const level = url.searchParams.get('level');
    if (level !== null) {
      if (req.method !== 'POST') {
        send(res, 405, `Method ${req.method} not allowed, POST required.\n`);
        return;
      }
      const normalized = level === 'warning' ? 'warn' : level === 'trace' ? 'debug' : level;
      if (!LEVELS.includes(normalized as LogLevel)) {
        send(res, 400, `unknown log level "${level}"; use one of ${LEVELS.join(', ')}\n`);
        return;
      }
      this.#ctx.setLogLevel(normalized as LogLevel);
    }
    send(res, 200, `active loggers:\n  trellis: ${this.#ctx.logLevel()}\n`);
  }
}
