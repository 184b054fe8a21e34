// The HTTP connection manager: serves downstream connections through the request steps, filters and router.

import type { Socket } from 'node:net';
import { errorMessage, isTrellisError } from '../../../shared/errors.js';
import type { HttpConnManagerStats } from '../../../telemetry/stats/store.js';
import type { Tracer } from '../../../telemetry/trace/tracer.js';
import type { HcmConfig } from '../../config/model.js';
import type {
  DownstreamConnection,
  HttpConnectionManager,
  HttpConnectionManagerFactory,
  PipelineDeps,
} from '../../runtime/contracts.js';
import type {
  ConnectionInfo,
  ExchangeContext,
  ExchangeOutcome,
  Handler,
  ProxyRequest,
  ProxyResponse,
} from '../message.js';
import { HttpServer } from '../server.js';
import { ConnectionState } from './connection-state.js';
import { buildFilterChain } from './filters/chain.js';
import type { FilterEnv } from './filters/types.js';
import { grpcStatusOf } from './grpc.js';
import { pipelineReply } from './local-reply.js';
import { type PipelineOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { type PrepareEnv, prepareRequest } from './request/prepare.js';
import { PEER_METADATA_HEADER, PEER_METADATA_ID_HEADER } from './request/sanitize.js';
import { Router } from './router/router.js';
import { PipelineStream } from './stream.js';
import {
  encodePeerMetadata,
  PeerMetadataCache,
  type PeerMetadataHeaders,
} from './telemetry/metadata-exchange.js';
import { HcmReporter } from './telemetry/reporter.js';
import { TrailerTap } from './trailer-tap.js';

/**
 * Builds Trellis's connection managers. `options` carries the seams (security engines, path normalization,
 * XFCC, RLS client) and test hooks (clock, randomness, request ids); one factory serves every listener.
 */
export function createHttpConnectionManagerFactory(
  options: PipelineOptions = {},
): HttpConnectionManagerFactory {
  const resolved = resolveOptions(options);
  return (config, deps) => new PipelineHcm(config, deps, resolved);
}

/** Istio's node cluster, `<workload>.<namespace>` (the `source_cluster` rate limit descriptor). */
function nodeCluster(deps: PipelineDeps): string {
  const l = deps.telemetry.local;
  return l.workloadName && l.namespace ? `${l.workloadName}.${l.namespace}` : (l.workloadName ?? '');
}

class PipelineHcm implements HttpConnectionManager {
  readonly #config: HcmConfig;
  readonly #deps: PipelineDeps;
  readonly #o: ResolvedOptions;
  readonly #stats: HttpConnManagerStats;
  readonly #chain: Handler;
  readonly #reporter: HcmReporter;
  readonly #prepare: PrepareEnv;
  readonly #peerHeaders: PeerMetadataHeaders;
  readonly #connections = new WeakMap<ConnectionInfo, ConnectionState>();
  readonly #states = new Map<Socket, ConnectionState>();
  readonly #streams = new Map<ProxyRequest, PipelineStream>();
  /** The server new connections go to; while draining each new connection gets its own (see serve). */
  #server: HttpServer;
  readonly #servers = new Set<HttpServer>();
  #drainingSeen = false;
  #stopped = false;
  #idleWaiters: (() => void)[] = [];

  constructor(config: HcmConfig, deps: PipelineDeps, o: ResolvedOptions) {
    this.#config = config;
    this.#deps = deps;
    this.#o = o;
    const telemetry = deps.telemetry;
    this.#stats = telemetry.stats.httpConnManager(config.statPrefix);
    const tracer: Tracer | undefined =
      config.tracing === undefined ? undefined : telemetry.tracer(config.tracing);
    const peerCache = new PeerMetadataCache();
    this.#peerHeaders = encodePeerMetadata({
      ...telemetry.local,
      labels: o.peerMetadata.labels,
      appContainers: o.peerMetadata.appContainers,
    });
    const env: FilterEnv = {
      hcm: config,
      deps,
      clock: o.clock,
      random: o.random,
      logger: o.logger,
    };
    const router = new Router({
      deps,
      clock: o.clock,
      random: o.random,
      logger: o.logger,
      hcmStats: this.#stats,
      replayLimitBytes: o.replayLimitBytes,
      peerHeaders: this.#peerHeaders,
      peerCache,
      tracer,
      routeConfigName: () => config.routeConfig?.name ?? config.rds ?? '',
    });
    this.#chain = buildFilterChain(config.httpFilters, {
      env,
      router: router.handler,
      security: o.security,
      faultHeaders: o.faultHeaders,
      rateLimitClient: (cluster) => o.rateLimitClient(cluster, deps.clusters),
      sourceCluster: nodeCluster(deps),
    });
    this.#reporter = new HcmReporter({
      deps,
      stats: this.#stats,
      loggers: config.accessLog.length > 0 ? telemetry.accessLoggers(config.accessLog) : [],
      tracer,
      clock: o.clock,
    });
    this.#prepare = {
      hcm: config,
      routes: deps.routes,
      requestId: o.requestId,
      random: o.random,
      normalizePath: o.normalizePath,
      forwardClientCert: o.forwardClientCert,
      peerCache,
      tracer,
    };
    this.#server = this.#newServer();
  }

  #newServer(): HttpServer {
    const c = this.#config;
    const server = new HttpServer({
      handler: this.#handle,
      limits: { maxHeadBytes: c.maxRequestHeadersKb * 1024, maxHeaderCount: c.maxHeadersCount },
      ...(c.idleTimeoutMs > 0 && { idleTimeoutMs: c.idleTimeoutMs }),
      ...(c.requestTimeoutMs > 0 && { headersTimeoutMs: c.requestTimeoutMs }),
      allowConnect: false,
      http2: {
        maxConcurrentStreams:
          c.maxConcurrentStreams > 0 ? Math.min(c.maxConcurrentStreams, 2 ** 31 - 1) : 100,
        maxHeaderCount: c.maxHeadersCount,
        maxHeaderListBytes: c.maxRequestHeadersKb * 1024,
      },
      onExchangeComplete: this.#onComplete,
      clock: this.#o.clock,
      logger: this.#o.logger,
    });
    this.#servers.add(server);
    return server;
  }

  serve(conn: DownstreamConnection): void {
    const socket = conn.socket;
    if (this.#stopped) {
      socket.destroy();
      return;
    }
    const state = new ConnectionState(conn, this.#deps.telemetry.local.principal);
    this.#states.set(socket, state);
    this.#stats.downstream_cx_total.inc();
    this.#stats.downstream_cx_active.inc();
    socket.once('close', () => {
      this.#states.delete(socket);
      this.#stats.downstream_cx_active.dec();
      this.#stats.downstream_cx_destroy.inc();
    });
    // While draining, a new connection gets a server of its own: closing it after the first response
    // (connection: close / GOAWAY) then affects that connection alone.
    const server = this.#drainingSeen ? this.#newServer() : this.#server;
    state.server = server;
    if (server !== this.#server) socket.once('close', () => this.#servers.delete(server));
    server.serve(socket, {
      localAddress: conn.destination.address,
      localPort: conn.destination.port,
      remoteAddress: conn.source.address,
      remotePort: conn.source.port,
    });
  }

  #stateOf(info: ConnectionInfo): ConnectionState {
    let state = this.#connections.get(info);
    if (state === undefined) {
      state = this.#states.get(info.socket);
      if (state === undefined)
        throw new Error('a request arrived on a connection this manager was not given');
      this.#connections.set(info, state);
    }
    return state;
  }

  readonly #handle: Handler = async (
    req: ProxyRequest,
    exchange: ExchangeContext,
  ): Promise<ProxyResponse> => {
    const s = new PipelineStream(this.#stateOf(exchange.connection), req, exchange, this.#o.clock.now());
    this.#streams.set(req, s);
    this.#stats.downstream_rq_total.inc();
    this.#stats.downstream_rq_active.inc();
    let res: ProxyResponse;
    try {
      res = prepareRequest(s, req, this.#prepare) ?? (await this.#chain(req, s));
    } catch (e) {
      if (isTrellisError(e, 'HTTP_EXCHANGE_RESET')) throw e;
      this.#o.logger.warn('request failed inside the pipeline', { error: errorMessage(e), path: req.path });
      res = pipelineReply(s, { status: 500, reason: `internal error in the sidecar: ${errorMessage(e)}` });
    }
    this.#finish(s, res, exchange.connection);
    return res;
  };

  /** HCM response steps: peer metadata for mesh callers, the server header, gRPC status, drain. */
  #finish(s: PipelineStream, res: ProxyResponse, info: ConnectionInfo): void {
    const headers = res.headers;
    if (s.peerHeadersReceived) {
      headers.set(PEER_METADATA_ID_HEADER, this.#peerHeaders.id);
      headers.set(PEER_METADATA_HEADER, this.#peerHeaders.value);
    }
    if (this.#config.serverName) headers.set('server', this.#config.serverName);
    s.responseHeaders = headers;
    if (s.grpc) {
      s.grpcStatus = grpcStatusOf(headers);
      if (s.grpcStatus === undefined && res.body.size !== 0) {
        res.body = new TrailerTap(res.body, (trailers) => {
          s.grpcStatus = grpcStatusOf(trailers);
        });
      }
    }
    if (this.#deps.draining()) this.#startDrain(info);
  }

  /**
   * The proxy is draining: close the server this connection belongs to. HTTP/1.1 responses in flight then
   * carry `connection: close`, idle keep-alive connections close, HTTP/2 sessions get GOAWAY. Later
   * connections each get a server of their own (serve), closed the same way after their first response.
   */
  #startDrain(info: ConnectionInfo): void {
    this.#drainingSeen = true;
    const server = this.#states.get(info.socket)?.server;
    if (server !== undefined && !server.http1.closing) server.close();
  }

  readonly #onComplete = (outcome: ExchangeOutcome): void => {
    const s = this.#streams.get(outcome.request);
    if (s === undefined) return;
    this.#streams.delete(outcome.request);
    this.#reporter.complete(s, outcome);
    if (this.#streams.size === 0 && this.#idleWaiters.length > 0)
      for (const w of this.#idleWaiters.splice(0)) w();
  };

  async drain(deadlineMs: number): Promise<void> {
    this.#stopped = true;
    this.#drainingSeen = true;
    for (const server of this.#servers) server.close();
    if (this.#streams.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.#o.clock.setTimeout(resolve, Math.max(0, deadlineMs));
        this.#idleWaiters.push(() => {
          this.#o.clock.clearTimeout(timer);
          resolve();
        });
      });
    }
    for (const server of this.#servers) server.destroy();
    this.#servers.clear();
  }
}
