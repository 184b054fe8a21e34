// The router filter: route actions (direct response, redirect, forward) and forwarding with retries and timeouts.

import type { Clock, Timer } from '../../../../shared/clock.js';
import type { Logger } from '../../../../shared/log.js';
import type { ClusterStats, HttpConnManagerStats } from '../../../../telemetry/stats/store.js';
import type { Tracer } from '../../../../telemetry/trace/tracer.js';
import type { RouteActionConfig, RouteEntry, WeightedClusterChoice } from '../../../config/model.js';
import type { PipelineDeps, UpstreamAttempt, UpstreamRequestOptions } from '../../../runtime/contracts.js';
import type { Host } from '../../../upstream/lb/host.js';
import { responseOutcome } from '../../../upstream/outlier/outcome.js';
import { type Body, EMPTY_BODY, makeReplayable } from '../../body.js';
import { Cancellation } from '../../cancel.js';
import { HeaderList } from '../../headers.js';
import {
  type Handler,
  localReply,
  type ProxyRequest,
  type ProxyResponse,
  resetExchange,
} from '../../message.js';
import { pipelineReply } from '../local-reply.js';
import { PEER_METADATA_HEADER, PEER_METADATA_ID_HEADER } from '../request/sanitize.js';
import type { PipelineStream } from '../stream.js';
import { streamOf } from '../stream.js';
import {
  type PeerMetadataCache,
  type PeerMetadataHeaders,
  workloadFromEndpointMetadata,
} from '../telemetry/metadata-exchange.js';
import { RouteDeadline, timeoutReason } from './deadline.js';
import { requestHash, setCookieValue } from './hash.js';
import { applyRouteHeaderOps } from './header-ops.js';
import { mirror } from './mirror.js';
import { redirectLocation } from './redirect.js';
import { effectiveRetryPolicy, retriableFailure, retriableResponse } from './retry-policy.js';
import { RetryState } from './retry-state.js';
import { rewritePath } from './rewrite.js';
import { type ClassifiedFailure, classifyFailure } from './upstream-failure.js';

export interface RouterOptions {
  deps: PipelineDeps;
  clock: Clock;
  random: () => number;
  logger: Logger;
  hcmStats: HttpConnManagerStats;
  /** Request body bytes kept for retries and mirrors. */
  replayLimitBytes: number;
  /** This proxy's metadata exchange headers, and the cache of peers' decoded ones. */
  peerHeaders: PeerMetadataHeaders;
  peerCache: PeerMetadataCache;
  tracer: Tracer | undefined;
  /** The route config's name, for replies that explain themselves. */
  routeConfigName: () => string;
}

/** Clusters that lead outside the mesh: no metadata exchange headers go there (istio/proxy skip_external). */
const EXTERNAL_CLUSTERS = new Set(['PassthroughCluster', 'InboundPassthroughCluster', 'BlackHoleCluster']);

export class Router {
  readonly #o: RouterOptions;
  readonly #clusterStats = new Map<string, ClusterStats>();

  constructor(opts: RouterOptions) {
    this.#o = opts;
  }

  /** The terminal handler of the filter chain. */
  readonly handler: Handler = (req, ctx) => {
    const s = streamOf(ctx);
    if (s === undefined)
      return Promise.reject(new Error('the router runs only inside a Trellis connection manager'));
    const route = s.route;
    if (route === undefined) return Promise.resolve(this.#noRoute(s, req));
    const action = route.action;
    if (action.kind === 'directResponse') {
      this.#o.hcmStats.rq_direct_response.inc();
      s.details = 'direct_response';
      const headers = new HeaderList();
      applyRouteHeaderOps('response', headers, s, s);
      const res = localReply({ status: action.status, headers, body: action.body ?? EMPTY_BODY });
      if (action.body !== undefined && !res.headers.has('content-type'))
        res.headers.set('content-type', 'text/plain');
      return Promise.resolve(res);
    }
    if (action.kind === 'redirect') {
      s.details = 'redirect';
      const headers = new HeaderList({ location: redirectLocation(req, route.match, action) });
      applyRouteHeaderOps('response', headers, s, s);
      return Promise.resolve(localReply({ status: action.status, headers }));
    }
    return this.#forward(s, req, route, action);
  };

  #noRoute(s: PipelineStream, req: ProxyRequest): ProxyResponse {
    this.#o.hcmStats.no_route.inc();
    const where =
      s.table === undefined ? 'no route configuration is loaded' : `route config "${s.table.name}"`;
    const host =
      s.vhost === undefined ? 'no virtual host matches' : `virtual host "${s.vhost.name}" has no match`;
    return pipelineReply(s, {
      status: 404,
      flag: 'NR',
      reason: `no route for host "${req.authority}" path "${req.path}" in ${where} (${host})`,
      details: 'route_not_found',
    });
  }

  #stats(cluster: string): ClusterStats {
    let st = this.#clusterStats.get(cluster);
    if (st === undefined) {
      st = this.#o.deps.telemetry.stats.cluster(cluster);
      this.#clusterStats.set(cluster, st);
    }
    return st;
  }

  async #forward(
    s: PipelineStream,
    req: ProxyRequest,
    route: RouteEntry,
    action: RouteActionConfig,
  ): Promise<ProxyResponse> {
    const o = this.#o;
    const choice = s.clusterChoice;
    const clusterName = choice?.name ?? '';
    s.clusterName = clusterName || undefined;
    const cluster = clusterName === '' ? undefined : o.deps.clusters.get(clusterName);
    if (cluster === undefined) {
      o.hcmStats.no_cluster.inc();
      return pipelineReply(s, {
        status: 503,
        flag: 'NC',
        reason: `cluster "${clusterName}" named by route "${route.name}" in route config "${o.routeConfigName()}" is not known (not in CDS, or removed)`,
        details: 'cluster_not_found',
      });
    }
    const stats = this.#stats(clusterName);
    const headers = req.headers;
    applyRouteHeaderOps('request', headers, { table: s.table, vhost: s.vhost, route, cluster: choice }, s);

    // Timeouts: the route's, or a trusted caller's x-envoy-upstream-rq-timeout-ms (0 disables either way).
    // Only a trusted caller's x-envoy-* headers survived the request steps, so others skip the lookups.
    let timeoutMs = action.timeoutMs;
    let headerPerTryMs: number | undefined;
    if (s.envoyControl) {
      const timeoutHeader = headers.get('x-envoy-upstream-rq-timeout-ms');
      const perTryHeader = headers.get('x-envoy-upstream-rq-per-try-timeout-ms');
      if (timeoutHeader !== undefined || perTryHeader !== undefined) {
        headers.remove('x-envoy-upstream-rq-timeout-ms');
        headers.remove('x-envoy-upstream-rq-per-try-timeout-ms');
        if (timeoutHeader !== undefined && /^\d+$/.test(timeoutHeader.trim()))
          timeoutMs = Number(timeoutHeader.trim());
        if (perTryHeader !== undefined && /^\d+$/.test(perTryHeader.trim()))
          headerPerTryMs = Number(perTryHeader.trim());
      }
    }
    const policy = effectiveRetryPolicy(action.retry, s.vhost?.retry, headers, s.envoyControl);
    let perTryMs = policy?.perTryTimeoutMs;
    // A header per-try timeout must be below the route timeout to count (Envoy ignores it otherwise).
    if (
      headerPerTryMs !== undefined &&
      headerPerTryMs > 0 &&
      (timeoutMs === 0 || headerPerTryMs < timeoutMs)
    ) {
      perTryMs = headerPerTryMs;
    }
    if (s.internal && timeoutMs > 0) {
      headers.set(
        'x-envoy-expected-rq-timeout-ms',
        String(perTryMs !== undefined && perTryMs < timeoutMs ? perTryMs : timeoutMs),
      );
    }

    // The request is edited in place for upstream (the stream keeps the path and authority as received).
    const newPath = rewritePath(req.path, route.match, action);
    if (newPath !== undefined) {
      headers.set('x-envoy-original-path', req.path);
      req.path = newPath;
    }
    if (action.hostRewrite !== undefined) req.authority = action.hostRewrite;
    req.absoluteForm = false;

    const hashing =
      action.hashPolicies.length > 0 ? requestHash(action.hashPolicies, req, s.clientAddress) : undefined;

    let body: Body = req.body;
    if (((policy !== undefined && policy.numRetries > 0) || action.mirrors.length > 0) && !body.replayable) {
      body = makeReplayable(body, o.replayLimitBytes);
      req.body = body;
    }

    // Upstream-side metadata exchange (istio/proxy upstream_propagation), and the trace context.
    if (s.conn.direction !== 'inbound' && !EXTERNAL_CLUSTERS.has(clusterName)) {
      // The request steps removed any the caller sent; the values were valid when encoded.
      headers.appendTrusted(PEER_METADATA_ID_HEADER, o.peerHeaders.id);
      headers.appendTrusted(PEER_METADATA_HEADER, o.peerHeaders.value);
    }
    if (s.span !== undefined && o.tracer !== undefined) injectTrace(o.tracer, s, headers);

    for (const m of action.mirrors) {
      if (m.fraction >= 1 || o.random() < m.fraction) {
        mirror({
          clusters: o.deps.clusters,
          clusterName: m.cluster,
          request: req,
          body,
          timeoutMs,
          limitBytes: o.replayLimitBytes,
          clock: o.clock,
          logger: o.logger,
          originalDestination: s.conn.downstream.destination,
        });
      }
    }

    const deadline = new RouteDeadline(o.clock, s.signal, timeoutMs);
    const retry =
      policy === undefined
        ? undefined
        : new RetryState({
            policy,
            cluster,
            stats,
            clock: o.clock,
            random: o.random,
            signal: deadline.signal,
            body,
          });
    const tried: Set<Host> | undefined = policy?.previousHosts ? new Set() : undefined;
    const requestOpts: UpstreamRequestOptions = {
      signal: deadline.signal,
      originalDestination: s.conn.downstream.destination,
    };
    if (hashing?.hash !== undefined) requestOpts.hash = hashing.hash;
    if (tried !== undefined) {
      requestOpts.previousHosts = tried;
      requestOpts.hostSelectionRetryMaxAttempts = policy!.hostSelectionRetryMaxAttempts;
    }
    const start = o.clock.monotonic();

    for (;;) {
      s.attempts++;
      if (s.vhost?.includeAttemptCount) headers.set('x-envoy-attempt-count', String(s.attempts));
      let perTryTimedOut = false;
      let perTryTimer: Timer | undefined;
      if (perTryMs !== undefined && perTryMs > 0) {
        const perTry = new Cancellation().follow(deadline.signal);
        perTryTimer = o.clock.setTimeout(() => {
          perTryTimedOut = true;
          perTry.abort(timeoutReason(`per-try timeout of ${perTryMs}ms`));
        }, perTryMs);
        requestOpts.signal = perTry;
      }
      if (s.attempts > 1) requestOpts.retry = true;
      let attempt: UpstreamAttempt;
      try {
        attempt = await cluster.request(
          s.attempts === 1 ? req : { ...req, body: body.replay() ?? EMPTY_BODY },
          requestOpts,
        );
      } catch (e) {
        if (perTryTimer !== undefined) o.clock.clearTimeout(perTryTimer);
        retry?.release();
        const f = classifyFailure(e, clusterName);
        if (f.host !== undefined) {
          tried?.add(f.host);
          s.upstreamHost = f.host.key;
        }
        if (deadline.timedOut) return this.#timeoutReply(s, deadline, stats, clusterName, route);
        if (s.signal.aborted) {
          deadline.clear();
          s.setFlag('DC');
          throw resetExchange('the downstream went away while waiting for the upstream');
        }
        if (perTryTimedOut) {
          stats.upstream_rq_per_try_timeout.inc();
          f.kind = 'timeout';
          f.flag = 'UT';
          f.status = 504;
          f.body = 'upstream request timeout';
          f.reason = `per-try timeout of ${perTryMs}ms to cluster "${clusterName}" (route "${route.name}")`;
          f.retriable = true;
        }
        if (retry !== undefined && f.retriable && retriableFailure(retry.policy, f.kind)) {
          const d = await retry.decide();
          if (d === 'retry') continue;
          if (d === 'aborted') {
            if (deadline.timedOut) return this.#timeoutReply(s, deadline, stats, clusterName, route);
            throw resetExchange('the downstream went away during a retry back-off');
          }
          if (d === 'limit') s.setFlag('URX');
          else if (d === 'overflow') s.setFlag('UO');
        }
        deadline.clear();
        return this.#failureReply(s, f);
      }
      if (perTryTimer !== undefined) o.clock.clearTimeout(perTryTimer);
      const res = attempt.response;
      tried?.add(attempt.host);
      stats.responseCode(res.status);
      if (retry !== undefined && retriableResponse(retry.policy, res.status, res.headers)) {
        const d = await retry.decide();
        if (d === 'retry' || d === 'aborted') {
          attempt.done(responseOutcome(res.status));
          res.tunnel?.destroy();
          res.body.cancel();
          if (d === 'retry') continue;
          if (deadline.timedOut) return this.#timeoutReply(s, deadline, stats, clusterName, route);
          throw resetExchange('the downstream went away during a retry back-off');
        }
        if (d === 'limit') s.setFlag('URX');
        else if (d === 'overflow') s.setFlag('UO');
      } else retry?.final();
      attempt.done(responseOutcome(res.status));
      this.#upstreamResponse(
        s,
        attempt,
        choice,
        route,
        start,
        hashing?.setCookie === undefined ? undefined : setCookieValue(hashing.setCookie),
      );
      if (res.status === 101 || res.tunnel !== undefined) deadline.clear();
      else s.routeTimer = deadline.timer;
      return res;
    }
  }

  /** Response-side work of the router: who answered, metadata exchange, route header edits, service time. */
  #upstreamResponse(
    s: PipelineStream,
    attempt: UpstreamAttempt,
    choice: WeightedClusterChoice | undefined,
    route: RouteEntry,
    start: number,
    setCookie: string | undefined,
  ): void {
    const res = attempt.response;
    const host = attempt.host;
    s.upstreamHost = host.key;
    s.upstreamLocalAddress = attempt.upstreamLocalAddress;
    s.upstreamPeerIdentity = attempt.upstreamPeerIdentity;
    s.details = 'via_upstream';
    const headers = res.headers;
    const peerValue = headers.get(PEER_METADATA_HEADER);
    if (peerValue !== undefined) {
      s.upstreamPeer = this.#o.peerCache.get(peerValue);
      s.upstreamPeerKey = headers.get(PEER_METADATA_ID_HEADER) ?? peerValue;
      headers.remove(PEER_METADATA_HEADER);
      headers.remove(PEER_METADATA_ID_HEADER);
    } else {
      if (headers.has(PEER_METADATA_ID_HEADER)) headers.remove(PEER_METADATA_ID_HEADER);
      const istio = host.metadata.istio as { workload?: unknown } | undefined;
      const workload = typeof istio?.workload === 'string' ? istio.workload : undefined;
      s.upstreamPeer = workloadFromEndpointMetadata(workload);
      s.upstreamPeerKey = workload ?? '';
    }
    applyRouteHeaderOps('response', headers, { table: s.table, vhost: s.vhost, route, cluster: choice }, s);
    const serviceTime = String(Math.round(this.#o.clock.monotonic() - start));
    // Another Envoy upstream may have set it already; otherwise appending skips a scan and a validation.
    if (headers.has('x-envoy-upstream-service-time'))
      headers.set('x-envoy-upstream-service-time', serviceTime);
    else headers.appendTrusted('x-envoy-upstream-service-time', serviceTime);
    if (setCookie !== undefined) headers.add('set-cookie', setCookie);
  }

  #timeoutReply(
    s: PipelineStream,
    deadline: RouteDeadline,
    stats: ClusterStats,
    cluster: string,
    route: RouteEntry,
  ): ProxyResponse {
    stats.upstream_rq_timeout.inc();
    return pipelineReply(s, {
      status: 504,
      flag: 'UT',
      reason: `route timeout of ${deadline.timeoutMs}ms to cluster "${cluster}" exceeded (route "${route.name}"${route.configPath ? ` from ${route.configPath}` : ''})`,
      body: 'upstream request timeout',
      details: 'upstream_response_timeout',
    });
  }

  #failureReply(s: PipelineStream, f: ClassifiedFailure): ProxyResponse {
    return pipelineReply(s, {
      status: f.status,
      flag: f.flag,
      reason: f.reason,
      body: f.body,
      details: `upstream_reset_before_response_started{${f.kind}}`,
    });
  }
}

/**
 * Writes the span's context into the upstream request (W3C and B3 by default). Without trace headers from the
 * caller they are appended as they are (hex ids, valid by construction); otherwise they replace the caller's.
 */
function injectTrace(tracer: Tracer, s: PipelineStream, headers: HeaderList): void {
  const out: Record<string, string | string[] | undefined> = {};
  tracer.inject(s.span!, out);
  for (const name in out) {
    const v = out[name];
    if (typeof v !== 'string') continue;
    if (s.traceHeadersReceived) headers.set(name, v);
    else headers.appendTrusted(name, v);
  }
}
