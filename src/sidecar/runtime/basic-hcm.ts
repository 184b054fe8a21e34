// A minimal HttpConnectionManager: route lookup, direct responses and forwarding through the cluster manager.
// It stands in until the full pipeline (src/sidecar/http/pipeline) is wired; it has no filters, retries,
// header edits or metadata exchange, but it counts Envoy stats, Istio metrics and access logs.

import { errorMessage } from '../../shared/errors.js';
import type { RequestRecord } from '../../telemetry/record.js';
import { findRoute } from '../config/match/route.js';
import { pickWeightedCluster } from '../config/match/weighted.js';
import type { HcmConfig, RouteTable } from '../config/model.js';
import { Cancellation } from '../http/cancel.js';
import type { ExchangeContext, ExchangeOutcome, ProxyRequest, ProxyResponse } from '../http/message.js';
import { localReply } from '../http/message.js';
import { HttpServer } from '../http/server.js';
import { responseOutcome } from '../upstream/outlier/outcome.js';
import type {
  DownstreamConnection,
  HttpConnectionManager,
  HttpConnectionManagerFactory,
  PipelineDeps,
  UpstreamFailure,
} from './contracts.js';

/** The stand-in factory. */
export const basicHcmFactory: HttpConnectionManagerFactory = (config, deps) => new BasicHcm(config, deps);

interface Pending {
  conn: DownstreamConnection;
  started: number;
  cluster?: string;
  upstreamHost?: string;
  flags?: string;
  peer?: string;
}

class BasicHcm implements HttpConnectionManager {
  readonly #config: HcmConfig;
  readonly #deps: PipelineDeps;
  readonly #server: HttpServer;
  readonly #byRequest = new WeakMap<ProxyRequest, Pending>();
  readonly #connections = new WeakMap<object, DownstreamConnection>();
  readonly #loggers: { log(r: RequestRecord): void }[];

  constructor(config: HcmConfig, deps: PipelineDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#loggers = deps.telemetry.accessLoggers(config.accessLog);
    this.#server = new HttpServer({
      handler: (req, ctx) => this.#handle(req, ctx),
      idleTimeoutMs: config.idleTimeoutMs || 2_147_483_647,
      allowConnect: false,
      onExchangeComplete: (o) => this.#complete(o),
    });
  }

  serve(conn: DownstreamConnection): void {
    this.#connections.set(conn.socket, conn);
    if (this.#deps.draining()) {
      this.#server.serve(conn.socket);
      this.#server.close();
      return;
    }
    this.#server.serve(conn.socket);
  }

  async drain(deadlineMs: number): Promise<void> {
    this.#server.close();
    const clock = { now: () => performance.now() };
    while (this.#server.http1.connections + this.#server.http2.sessions > 0 && clock.now() < deadlineMs) {
      await new Promise((r) => setTimeout(r, 25));
    }
    this.#server.destroy();
  }

  async #handle(req: ProxyRequest, ctx: ExchangeContext): Promise<ProxyResponse> {
    const conn = this.#connections.get(ctx.connection.socket);
    const stats = this.#deps.telemetry.stats.httpConnManager(this.#config.statPrefix);
    stats.downstream_rq_total.inc();
    const pending: Pending = { conn: conn!, started: Date.now() };
    this.#byRequest.set(req, pending);
    const table = this.#table();
    const vhost = table?.findVirtualHost(req.authority);
    const route = vhost
      ? findRoute(vhost, { path: req.path, header: (n) => req.headers.getJoined(n) })
      : undefined;
    if (!route) {
      stats.no_route.inc();
      pending.flags = 'NR';
      return localReply({
        status: 404,
        reason: `NR no route for host "${req.authority}" path "${req.path}" in route config "${table?.name ?? this.#config.rds ?? ''}"`,
      });
    }
    const action = route.action;
    if (action.kind === 'directResponse') {
      stats.rq_direct_response.inc();
      return localReply({ status: action.status, ...(action.body && { body: action.body }) });
    }
    if (action.kind === 'redirect') {
      return localReply({ status: 501, reason: 'redirects need the full HTTP pipeline' });
    }
    const choice = pickWeightedCluster(action);
    const cluster = choice ? this.#deps.clusters.get(choice.name) : undefined;
    pending.cluster = choice?.name;
    if (!cluster) {
      stats.no_cluster.inc();
      pending.flags = 'NC';
      return localReply({ status: 503, reason: `NC cluster "${choice?.name ?? ''}" not found` });
    }
    const signal = new Cancellation().follow(ctx.signal);
    try {
      const attempt = await cluster.request(req, {
        signal,
        ...(conn && { originalDestination: conn.destination }),
      });
      pending.upstreamHost = attempt.host.key;
      if (attempt.upstreamPeerIdentity) pending.peer = attempt.upstreamPeerIdentity;
      attempt.done(responseOutcome(attempt.response.status));
      this.#deps.telemetry.stats.cluster(cluster.name).responseCode(attempt.response.status);
      return attempt.response;
    } catch (e) {
      const f = e as Partial<UpstreamFailure>;
      const flag = f.flag ?? 'UF';
      pending.flags = flag;
      if (f.host) pending.upstreamHost = f.host.key;
      return localReply({
        status: flag === 'UT' ? 504 : 503,
        reason: `${flag} ${f.reason ?? errorMessage(e)}`,
      });
    }
  }

  #complete(o: ExchangeOutcome): void {
    const p = this.#byRequest.get(o.request);
    if (!p) return;
    const stats = this.#deps.telemetry.stats.httpConnManager(this.#config.statPrefix);
    if (o.status !== undefined) stats.responseCode(o.status);
    const conn = p.conn;
    const rec: RequestRecord = {
      startTime: p.started,
      durationMs: o.completedAt - o.receivedAt,
      protocol: o.request.version === '2' ? 'HTTP/2' : `HTTP/${o.request.version}`,
      method: o.request.method,
      path: o.request.path,
      authority: o.request.authority,
      scheme: o.request.scheme,
      responseCode: o.status ?? 0,
      responseFlags: p.flags ?? '-',
      bytesReceived: o.requestBytes,
      bytesSent: o.responseBytes,
      ...(p.cluster && { upstreamCluster: p.cluster }),
      ...(p.upstreamHost && { upstreamHost: p.upstreamHost }),
      ...(p.peer && { upstreamPeerUriSan: p.peer }),
      ...(conn && {
        downstreamLocalAddress: `${conn.destination.address}:${conn.destination.port}`,
        downstreamRemoteAddress: `${conn.source.address}:${conn.source.port}`,
      }),
      ...(conn?.tls?.peerIdentity && { downstreamPeerUriSan: conn.tls.peerIdentity }),
    };
    const inbound = conn?.direction === 'inbound';
    const local = this.#deps.telemetry.local;
    this.#deps.telemetry.istio
      .http({
        reporter: inbound ? 'destination' : 'source',
        local,
        ...(local.principal && { localPrincipal: local.principal }),
        ...((inbound ? conn?.tls?.peerIdentity : p.peer) && {
          peerPrincipal: (inbound ? conn?.tls?.peerIdentity : p.peer)!,
        }),
      })
      .record(rec);
    for (const l of this.#loggers) l.log(rec);
  }

  #table(): RouteTable | undefined {
    if (this.#config.routeConfig) return this.#config.routeConfig;
    return this.#config.rds !== undefined ? this.#deps.routes.get(this.#config.rds) : undefined;
  }
}
