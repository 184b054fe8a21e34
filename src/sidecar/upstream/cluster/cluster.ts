// One upstream cluster: hosts, load balancer, circuit breakers, outlier detection, retry budget and pools.

import type { Socket } from 'node:net';
import type { Clock } from '../../../shared/clock.js';
import type { Logger } from '../../../shared/log.js';
import type { ClusterStats, StatsStore } from '../../../telemetry/stats/store.js';
import { transportSocketFor } from '../../config/match/transport-socket.js';
import type { ClusterConfig, EndpointSet } from '../../config/model.js';
import { EMPTY_BODY } from '../../http/body.js';
import type { DeadlineSweeper } from '../../http/deadlines.js';
import type { ProxyRequest } from '../../http/message.js';
import type { UpstreamAttempt, UpstreamCluster, UpstreamRequestOptions } from '../../runtime/contracts.js';
import { ClusterCircuitBreakers } from '../breaker/circuit-breakers.js';
import { RetryBudget } from '../budget/retry-budget.js';
import { type Host, type HostInit, reconcileHosts } from '../lb/host.js';
import { createLoadBalancer } from '../lb/load-balancer.js';
import { createLbStats, type LbStats, type LoadBalancer, type PickContext } from '../lb/types.js';
import { OutlierDetector, type OutlierEvent } from '../outlier/detector.js';
import { CONNECT_FAILURE, RESET, TIMEOUT, type UpstreamOutcome } from '../outlier/outcome.js';
import { connectEndpoint } from '../pool/connect.js';
import { isUpstreamError } from '../pool/errors.js';
import { DnsHosts, type LookupAll } from './dns-hosts.js';
import { ClusterFailure, failureFromPoolError } from './failure.js';
import { type HostCounters, hostCounters } from './host-counters.js';
import { keepAliveMs, PoolSet, type UpstreamProtocol } from './pool-set.js';
import { ReleasingBody } from './releasing-body.js';
import { UpstreamTlsProvider } from './upstream-tls.js';

/** ALPN of TCP connections over mesh mTLS (Istio's cluster default for TCP). */
export const MESH_TCP_ALPN: readonly string[] = ['istio-peer-exchange', 'istio'];

export interface ClusterRuntime {
  stats: StatsStore;
  tls: UpstreamTlsProvider;
  sweeper: DeadlineSweeper;
  clock: Clock;
  random: () => number;
  logger: Logger;
  lookup: LookupAll;
  dnsRefreshMs?: number;
  /** True when an address is one of this proxy's own listeners (an ORIGINAL_DST loop). */
  isSelf?: (address: string, port: number) => boolean;
  onOutlierEvent?: (event: OutlierEvent) => void;
}

/** A connected upstream socket for tcp_proxy; `done` must be called once when the connection ends. */
export interface TcpUpstream {
  readonly socket: Socket;
  readonly host: Host;
  readonly peerIdentity?: string;
  readonly localAddress?: string;
  done(outcome?: UpstreamOutcome): void;
}

export interface TcpConnectOptions {
  originalDestination?: { address: string; port: number };
  /** Hosts that already failed for this connection (max_connect_attempts). */
  previousHosts?: ReadonlySet<string>;
}

/** What a pick looks at: the router's options, or tcp_proxy's hosts already tried (by key). */
type PickOptions = Pick<
  UpstreamRequestOptions,
  'hash' | 'previousHosts' | 'hostSelectionRetryMaxAttempts' | 'originalDestination'
> & { previousKeys?: ReadonlySet<string> };

/** What `/clusters` shows about one host. */
export interface HostView {
  host: Host;
  counters: HostCounters;
  outlier: ReturnType<OutlierDetector['hostView']>;
  pool: { active: number; idle: number; pending: number; connecting: number };
}

export class ManagedCluster implements UpstreamCluster {
  readonly name: string;
  readonly breakers: ClusterCircuitBreakers;
  readonly lbStats: LbStats = createLbStats();
  readonly #rt: ClusterRuntime;
  readonly #stats: ClusterStats;
  readonly #peers = new Map<string, string>();
  #config: ClusterConfig;
  #endpoints: EndpointSet | undefined;
  #hosts: Host[] = [];
  #lb!: LoadBalancer;
  #outlier: OutlierDetector | undefined;
  #budget: RetryBudget;
  #pools: PoolSet;
  #dns: DnsHosts | undefined;
  #closed = false;

  constructor(config: ClusterConfig, endpoints: EndpointSet | undefined, rt: ClusterRuntime) {
    this.name = config.name;
    this.#rt = rt;
    this.#config = config;
    this.#stats = rt.stats.cluster(config.name);
    this.breakers = new ClusterCircuitBreakers({ cluster: config.name, thresholds: config.circuitBreakers });
    this.#budget = new RetryBudget(config.retryBudget, rt.clock);
    this.#pools = this.#newPools();
    this.#configureOutlier();
    this.#endpoints = endpoints;
    this.#resolveHosts();
  }

  get config(): ClusterConfig {
    return this.#config;
  }

  get hosts(): readonly Host[] {
    return this.#hosts;
  }

  get outlier(): OutlierDetector | undefined {
    return this.#outlier;
  }

  get retryBudget(): RetryBudget {
    return this.#budget;
  }

  /** A new CDS or EDS version. Live state (in-flight counts, ejections) carries over by host address. */
  update(config: ClusterConfig, endpoints: EndpointSet | undefined): void {
    if (config === this.#config && endpoints === this.#endpoints) return;
    const previous = this.#config;
    this.#config = config;
    this.#endpoints = endpoints;
    if (config !== previous) {
      this.breakers.updateThresholds(config.circuitBreakers);
      if (config.retryBudget !== previous.retryBudget)
        this.#budget = new RetryBudget(config.retryBudget, this.#rt.clock);
      if (poolSettingsChanged(previous, config)) {
        this.#pools.closeAll();
        this.#pools = this.#newPools();
      }
      this.#configureOutlier();
    }
    this.#resolveHosts();
  }

  /** Removed from CDS: no new requests; pools finish what they carry. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#dns?.stop();
    this.#outlier?.stop();
    this.#pools.closeAll();
  }

  /** Forces every connection closed (process exit). */
  destroy(): void {
    this.close();
    this.#pools.destroyAll();
  }

  /** Hosts with their counters, outlier state and pools, for `/clusters`. */
  hostViews(): HostView[] {
    return this.#hosts.map((host) => ({
      host,
      counters: hostCounters(host),
      outlier: this.#outlier?.hostView(host),
      pool: this.#pools.statsFor(host),
    }));
  }

  /** A host chosen by the balancer without sending anything (span export picks its collector this way). */
  pickHost(): Host | undefined {
    if (this.#closed) return undefined;
    return this.#lb.pick({});
  }

  peerIdentity(host: Host): string | undefined {
    return this.#peers.get(host.key);
  }

  tryStartRetry(): boolean {
    if (!this.breakers.tryStartRetry()) return false;
    if (!this.#budget.tryRetry()) {
      this.breakers.retryFinished();
      return false;
    }
    return true;
  }

  retryFinished(): void {
    this.breakers.retryFinished();
  }

  async request(req: ProxyRequest, opts: UpstreamRequestOptions): Promise<UpstreamAttempt> {
    if (!opts.retry) this.#budget.recordRequest();
    const host = this.#pick(opts);
    const protocol = this.#protocolFor(req);
    const pool = this.#pools.get(host, protocol);
    const stats = this.#stats;
    if (!this.breakers.tryStartRequest()) {
      stats.upstream_rq_pending_overflow.inc();
      throw this.#overflow(host, 'max_requests', this.#config.circuitBreakers.DEFAULT.maxRequests);
    }
    // Envoy's pool: a request that cannot have a ready connection at once waits as pending, and is refused
    // outright when max_pending_requests are already waiting.
    const waits = pool.stats.idle === 0 && !(protocol === 'http2' && pool.stats.active > 0);
    if (waits) {
      const max = this.#config.circuitBreakers.DEFAULT.maxPendingRequests;
      if (this.#pools.pending() >= max) {
        this.breakers.requestFinished();
        this.breakers.counters.upstream_rq_pending_overflow++;
        stats.upstream_rq_pending_overflow.inc();
        throw this.#overflow(host, 'max_pending_requests', max);
      }
      this.breakers.counters.upstream_rq_pending_total++;
      stats.upstream_rq_pending_total.inc();
    }
    const counters = hostCounters(host);
    host.live.requestStarted();
    counters.rq_total++;
    stats.upstream_rq_total.inc();
    stats.upstream_rq_active.inc();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      host.live.requestFinished();
      this.breakers.requestFinished();
      stats.upstream_rq_active.dec();
    };
    let res: Awaited<ReturnType<typeof pool.request>>;
    try {
      res = await pool.request(req, { signal: opts.signal });
    } catch (e) {
      release();
      this.#recordFailure(host, counters, e);
      throw failureFromPoolError(e, this.name, host);
    }
    this.#outlier?.recordConnectSuccess(host);
    const bodiless = res.body === EMPTY_BODY || res.body.size === 0;
    const response = bodiless ? res : { ...res, body: new ReleasingBody(res.body, release) };
    const outlier = this.#outlier;
    let reported = false;
    const peer = this.#peers.get(host.key);
    return {
      response,
      host,
      ...(peer && { upstreamPeerIdentity: peer }),
      done: (outcome: UpstreamOutcome) => {
        if (reported) return;
        reported = true;
        if (bodiless) release();
        if (outcome.kind === 'response' && outcome.status < 500) counters.rq_success++;
        else counters.rq_error++;
        if (outcome.kind === 'timeout') counters.rq_timeout++;
        outlier?.record(host, outcome);
      },
    };
  }

  /** Opens a connection for tcp_proxy through the cluster's balancer, breaker and transport socket. */
  async connect(opts: TcpConnectOptions = {}): Promise<TcpUpstream> {
    const host = this.#pick({
      ...(opts.originalDestination && { originalDestination: opts.originalDestination }),
      ...(opts.previousHosts && { previousKeys: opts.previousHosts }),
    });
    const resources = this.breakers.resources();
    if (!resources.connections.canCreate()) {
      this.breakers.counters.upstream_cx_overflow++;
      this.#stats.upstream_cx_overflow.inc();
      throw this.#overflow(host, 'max_connections', this.#config.circuitBreakers.DEFAULT.maxConnections);
    }
    const choice = transportSocketFor(this.#config, host.metadata);
    let tlsOptions: import('node:tls').ConnectionOptions | undefined;
    try {
      tlsOptions = choice.tls
        ? this.#rt.tls.options(this.name, choice.tls, (id) => this.#notePeer(host, id))
        : undefined;
      // Istio offers these for TCP over mesh mTLS whatever the cluster lists (its istio.alpn filter only
      // rewrites ALPN for HTTP), so the server picks its TCP chain even on a port it sniffs.
      if (tlsOptions && choice.tls && UpstreamTlsProvider.isMesh(choice.tls))
        tlsOptions = { ...tlsOptions, ALPNProtocols: [...MESH_TCP_ALPN] };
    } catch (e) {
      throw new ClusterFailure({
        flag: 'UF',
        reason: `cannot connect to ${host.key} in cluster "${this.name}": ${(e as Error).message}`,
        retriable: false,
        host,
        cause: e,
      });
    }
    const counters = hostCounters(host);
    resources.connections.inc();
    const stats = this.#stats;
    stats.upstream_cx_total.inc();
    stats.upstream_cx_active.inc();
    counters.cx_total++;
    counters.cx_active++;
    host.live.requestStarted();
    let closed = false;
    const finish = () => {
      if (closed) return;
      closed = true;
      resources.connections.dec();
      stats.upstream_cx_active.dec();
      stats.upstream_cx_destroy.inc();
      counters.cx_active--;
      host.live.requestFinished();
      this.#pools.wakeAll();
    };
    let socket: Socket;
    try {
      socket = await connectEndpoint({
        endpoint: { host: host.address, port: host.port },
        tls: tlsOptions,
        timeoutMs: this.#config.connectTimeoutMs,
        clock: this.#rt.clock,
        tcpKeepAliveMs: keepAliveMs(this.#config),
        localAddress: this.#config.upstreamBindAddress,
        allowHalfOpen: true,
      });
    } catch (e) {
      finish();
      this.#recordFailure(host, counters, e);
      throw failureFromPoolError(e, this.name, host);
    }
    this.#outlier?.recordConnectSuccess(host);
    socket.once('close', finish);
    const peer = choice.tls ? this.#peers.get(host.key) : undefined;
    const outlier = this.#outlier;
    let reported = false;
    return {
      socket,
      host,
      ...(peer && { peerIdentity: peer }),
      ...(socket.localAddress && { localAddress: `${socket.localAddress}:${socket.localPort}` }),
      done: (outcome) => {
        finish();
        if (reported || !outcome) return;
        reported = true;
        outlier?.record(host, outcome);
      },
    };
  }

  #newPools(): PoolSet {
    return new PoolSet({
      cluster: this.name,
      config: this.#config,
      breakers: this.breakers,
      stats: this.#stats,
      tls: this.#rt.tls,
      sweeper: this.#rt.sweeper,
      clock: this.#rt.clock,
      logger: this.#rt.logger,
      onPeer: (host, id) => this.#notePeer(host, id),
    });
  }

  #notePeer(host: Host, id: string | undefined): void {
    if (id) this.#peers.set(host.key, id);
    else this.#peers.delete(host.key);
  }

  #configureOutlier(): void {
    const od = this.#config.outlierDetection;
    if (!od) {
      if (this.#outlier) {
        this.#outlier.stop();
        // Without detection nothing may stay ejected.
        for (const h of this.#hosts) h.live.outlierEjected = false;
        this.#outlier = undefined;
      }
      return;
    }
    if (this.#outlier) {
      this.#outlier.updateConfig(od);
      return;
    }
    this.#outlier = new OutlierDetector({
      cluster: this.name,
      config: od,
      clock: this.#rt.clock,
      random: this.#rt.random,
      logger: this.#rt.logger,
      onEvent: (event) => {
        this.#rebuildLb();
        this.#stats.outlier_detection_ejections_active.set(this.#outlier?.stats.ejections_active ?? 0);
        if (event.action === 'EJECT' && event.enforced)
          this.#stats.outlier_detection_ejections_enforced_total.inc();
        this.#rt.onOutlierEvent?.(event);
      },
    });
    this.#outlier.setHosts(this.#hosts);
    this.#outlier.start();
  }

  #resolveHosts(): void {
    const c = this.#config;
    if (c.type === 'STRICT_DNS' || c.type === 'LOGICAL_DNS') {
      this.#dns?.stop();
      this.#dns = new DnsHosts({
        cluster: this.name,
        mode: c.type === 'STRICT_DNS' ? 'strict' : 'logical',
        endpoints: c.inlineEndpoints?.hosts ?? [],
        lookup: this.#rt.lookup,
        clock: this.#rt.clock,
        logger: this.#rt.logger,
        ...(this.#rt.dnsRefreshMs !== undefined && { refreshMs: this.#rt.dnsRefreshMs }),
        onHosts: (hosts) => this.#setHosts(hosts),
      });
      this.#setHosts([]);
      this.#dns.start();
      return;
    }
    const set = c.type === 'EDS' ? this.#endpoints : c.inlineEndpoints;
    this.#setHosts(set?.hosts ?? []);
  }

  #setHosts(inits: readonly HostInit[]): void {
    if (this.#closed) return;
    this.#hosts = reconcileHosts(this.#hosts, inits);
    this.#outlier?.setHosts(this.#hosts);
    this.#pools.retain(this.#hosts);
    for (const key of [...this.#peers.keys()])
      if (!this.#hosts.some((h) => h.key === key)) this.#peers.delete(key);
    this.#rebuildLb();
  }

  #rebuildLb(): void {
    const c = this.#config;
    if (c.lb.policy.type === 'ORIGINAL_DST' && this.#lb?.policy === 'ORIGINAL_DST') return;
    const set = c.type === 'EDS' ? this.#endpoints : c.inlineEndpoints;
    this.#lb = createLoadBalancer({
      policy: c.lb.policy,
      hosts: this.#hosts,
      overprovisioningFactor: set?.overprovisioningFactor ?? 140,
      healthyPanicThreshold: c.lb.healthyPanicThreshold,
      localityWeighted: c.lb.localityWeighted,
      weightedPriorityHealth: set?.weightedPriorityHealth ?? false,
      random: this.#rt.random,
      stats: this.lbStats,
    });
    let healthy = 0;
    for (const h of this.#hosts) if (h.coarseHealth === 'healthy') healthy++;
    this.#stats.membership_total.set(this.#hosts.length);
    this.#stats.membership_healthy.set(healthy);
  }

  #protocolFor(req: ProxyRequest): UpstreamProtocol {
    if (req.upgrade !== undefined) return 'http1';
    const p = this.#config.http.protocol;
    if (p === 'auto') return req.version === '2' ? 'http2' : 'http1';
    return p;
  }

  #pick(o: PickOptions): Host {
    if (this.#closed) {
      throw new ClusterFailure({
        flag: 'NC',
        reason: `cluster "${this.name}" was removed from the config`,
        retriable: false,
      });
    }
    const ctx: PickContext = {};
    if (o.hash !== undefined) ctx.hash = o.hash;
    if (o.previousHosts && o.previousHosts.size > 0) {
      const tried = o.previousHosts;
      ctx.shouldSelectAnotherHost = (h) => {
        for (const t of tried) if (t.key === h.key) return true;
        return false;
      };
      ctx.hostSelectionRetryCount = o.hostSelectionRetryMaxAttempts ?? 1;
    } else if (o.previousKeys && o.previousKeys.size > 0) {
      const keys = o.previousKeys;
      ctx.shouldSelectAnotherHost = (h) => keys.has(h.key);
      ctx.hostSelectionRetryCount = 5;
    }
    if (o.originalDestination && this.#config.type === 'ORIGINAL_DST') {
      const d = o.originalDestination;
      if (this.#rt.isSelf?.(d.address, d.port)) {
        throw new ClusterFailure({
          flag: 'UH',
          reason: `cluster "${this.name}" forwards to the original destination, which is this proxy's own listener ${d.address}:${d.port} (not a captured connection)`,
          retriable: false,
        });
      }
      ctx.originalDestination = d;
    }
    const host = this.#lb.pick(ctx);
    if (host) return host;
    this.#stats.upstream_cx_none_healthy.inc();
    throw new ClusterFailure({ flag: 'UH', reason: this.#noHostReason(), retriable: false });
  }

  #noHostReason(): string {
    const c = this.#config;
    if (c.type === 'ORIGINAL_DST') return `cluster "${this.name}" has no original destination to forward to`;
    const n = this.#hosts.length;
    const base = `no healthy endpoints in cluster "${this.name}"`;
    if (n === 0) {
      const subset = c.istio.subset;
      const rule = destinationRuleName(c.istio.config);
      if (subset && rule) return `${base} (subset ${subset} of DestinationRule ${rule} selects 0 endpoints)`;
      return `${base} (it has no endpoints)`;
    }
    let ejected = 0;
    let unhealthy = 0;
    for (const h of this.#hosts) {
      if (h.live.outlierEjected) ejected++;
      else if (h.coarseHealth === 'unhealthy') unhealthy++;
    }
    const parts: string[] = [];
    if (ejected > 0) parts.push(`${ejected} ejected by outlier detection`);
    if (unhealthy > 0) parts.push(`${unhealthy} not ready (EDS health)`);
    return `${base} (${n} endpoint${n === 1 ? '' : 's'}: ${parts.join(', ') || 'none usable'})`;
  }

  #overflow(host: Host, limit: string, max: number): ClusterFailure {
    return new ClusterFailure({
      flag: 'UO',
      reason: `upstream overflow in cluster "${this.name}": ${limit} (${max}) reached`,
      retriable: false,
      host,
    });
  }

  #recordFailure(host: Host, counters: HostCounters, e: unknown): void {
    if (!isUpstreamError(e)) return;
    let outcome: UpstreamOutcome | undefined;
    switch (e.code) {
      case 'UPSTREAM_CONNECT_FAILURE':
        this.#stats.upstream_cx_connect_fail.inc();
        counters.cx_connect_fail++;
        outcome = CONNECT_FAILURE;
        break;
      case 'UPSTREAM_CONNECT_TIMEOUT':
        this.#stats.upstream_cx_connect_timeout.inc();
        this.#stats.upstream_cx_connect_fail.inc();
        counters.cx_connect_fail++;
        outcome = CONNECT_FAILURE;
        break;
      case 'UPSTREAM_RESET_BEFORE_RESPONSE':
      case 'UPSTREAM_RESET_AFTER_RESPONSE_START':
        this.#stats.upstream_rq_rx_reset.inc();
        outcome = RESET;
        break;
      case 'UPSTREAM_REQUEST_TIMEOUT':
        counters.rq_timeout++;
        outcome = TIMEOUT;
        break;
      case 'UPSTREAM_DOWNSTREAM_GONE':
        this.#stats.upstream_rq_cancelled.inc();
        return;
      default:
        break;
    }
    counters.rq_error++;
    if (outcome) this.#outlier?.record(host, outcome);
  }
}

/** `/apis/networking.istio.io/v1/namespaces/default/destination-rule/reviews` → `default/reviews`. */
function destinationRuleName(path: string | undefined): string | undefined {
  const m = path && /\/namespaces\/([^/]+)\/destination-rule\/([^/]+)/.exec(path);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/** Whether existing connections may be kept: what they were made with did not change. */
function poolSettingsChanged(a: ClusterConfig, b: ClusterConfig): boolean {
  return (
    a.connectTimeoutMs !== b.connectTimeoutMs ||
    a.upstreamBindAddress !== b.upstreamBindAddress ||
    JSON.stringify(a.http) !== JSON.stringify(b.http) ||
    JSON.stringify(a.tcpKeepalive) !== JSON.stringify(b.tcpKeepalive) ||
    !sameTransport(a, b)
  );
}

function sameTransport(a: ClusterConfig, b: ClusterConfig): boolean {
  if (a.transportSockets.length !== b.transportSockets.length) return false;
  return a.transportSockets.every((t, i) => {
    const u = b.transportSockets[i]!;
    return JSON.stringify({ ...t, tls: tlsKey(t.tls) }) === JSON.stringify({ ...u, tls: tlsKey(u.tls) });
  });
}

function tlsKey(t: ClusterConfig['transportSockets'][number]['tls']): unknown {
  if (!t) return undefined;
  return {
    ...t,
    subjectAltNames: t.subjectAltNames.map((s) => `${s.type}:${s.match.kind}:${s.match.value}`),
  };
}
