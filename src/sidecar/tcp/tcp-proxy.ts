// Envoy's tcp_proxy network filter: pick a cluster, connect through the cluster manager, splice, report.

import type { Clock } from '../../shared/clock.js';
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { IstioTcpRecorder } from '../../telemetry/metrics/istio.js';
import type { IstioPeerFacts, WorkloadFacts } from '../../telemetry/metrics/istio-labels.js';
import type { RequestRecord } from '../../telemetry/record.js';
import type { Stat } from '../../telemetry/stats/stat.js';
import { pickTcpCluster } from '../config/match/weighted.js';
import type { ClusterConfig, TcpProxyConfig } from '../config/model.js';
import type { DeadlineSweeper } from '../http/deadlines.js';
import type { DownstreamConnection, SidecarTelemetry } from '../runtime/contracts.js';
import type { TcpConnectOptions, TcpUpstream } from '../upstream/cluster/cluster.js';
import { RESET } from '../upstream/outlier/outcome.js';
import { Splice, type SpliceResult } from './splice.js';

/** How TCP metrics reach Istio's counters: deltas every interval (Istio's default is 15 s) and at close. */
const REPORT_INTERVAL_MS = 10_000;

/** What tcp_proxy needs of a cluster: a connection, and the services it serves (metric labels). */
export interface TcpCluster {
  readonly config: Pick<ClusterConfig, 'istio'>;
  connect(opts?: TcpConnectOptions): Promise<TcpUpstream>;
}

export interface TcpClusters {
  get(name: string): TcpCluster | undefined;
}

export interface TcpProxyDeps {
  clusters: TcpClusters;
  telemetry: SidecarTelemetry;
  sweeper: DeadlineSweeper;
  clock: Clock;
  random: () => number;
  logger: Logger;
}

interface TcpStats {
  downstream_cx_total: Stat;
  downstream_cx_no_route: Stat;
  downstream_cx_rx_bytes_total: Stat;
  downstream_cx_tx_bytes_total: Stat;
  idle_timeout: Stat;
  upstream_flush_total: Stat;
  max_downstream_connection_duration: Stat;
}

interface Live {
  splice: Splice;
  recorder: IstioTcpRecorder;
  reportedIn: number;
  reportedOut: number;
}

/**
 * One instance per filter chain and config version. `handle` takes the socket over; `drain` lets the
 * connections run until the deadline and then cuts them (Envoy keeps TCP connections through a drain).
 */
export class TcpProxy {
  readonly config: TcpProxyConfig;
  readonly #deps: TcpProxyDeps;
  readonly #stats: TcpStats;
  readonly #loggers: { log(record: RequestRecord): void }[];
  readonly #live = new Set<Live>();
  readonly #connecting = new Set<DownstreamConnection>();
  #reportTimer: ReturnType<Clock['setTimeout']> | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(config: TcpProxyConfig, deps: TcpProxyDeps) {
    this.config = config;
    this.#deps = deps;
    const scope = deps.telemetry.stats.scope('tcp', config.statPrefix || 'tcp', 'envoy_tcp_prefix');
    this.#stats = {
      downstream_cx_total: scope.counter('downstream_cx_total'),
      downstream_cx_no_route: scope.counter('downstream_cx_no_route'),
      downstream_cx_rx_bytes_total: scope.counter('downstream_cx_rx_bytes_total'),
      downstream_cx_tx_bytes_total: scope.counter('downstream_cx_tx_bytes_total'),
      idle_timeout: scope.counter('idle_timeout'),
      upstream_flush_total: scope.counter('upstream_flush_total'),
      max_downstream_connection_duration: scope.counter('max_downstream_connection_duration'),
    };
    this.#loggers = deps.telemetry.accessLoggers(config.accessLog);
  }

  /** Connections open now (connecting or spliced). */
  get active(): number {
    return this.#live.size + this.#connecting.size;
  }

  handle(conn: DownstreamConnection): void {
    const socket = conn.socket;
    socket.pause();
    this.#stats.downstream_cx_total.inc();
    const started = this.#deps.clock.now();
    const choice = pickTcpCluster(this.config, this.#deps.random);
    const cluster = choice ? this.#deps.clusters.get(choice.name) : undefined;
    if (!choice || !cluster) {
      this.#stats.downstream_cx_no_route.inc();
      this.#deps.logger.debug('tcp_proxy: no cluster', {
        chain: conn.filterChainName,
        cluster: choice?.name,
      });
      socket.destroy();
      this.#log(conn, started, { flags: 'NC', cluster: choice?.name ?? '' });
      return;
    }
    this.#connecting.add(conn);
    // A client that leaves while we connect must not leave an upstream connection behind.
    let gone = false;
    const onGone = () => {
      gone = true;
    };
    socket.once('close', onGone);
    void this.#connect(conn, cluster, choice.name).then(
      (upstream) => {
        this.#connecting.delete(conn);
        socket.removeListener('close', onGone);
        if (gone || socket.destroyed) {
          upstream.socket.destroy();
          upstream.done();
          this.#log(conn, started, { flags: 'DC', cluster: choice.name, upstream });
          this.#settled();
          return;
        }
        this.#spliced(conn, cluster, choice.name, upstream, started);
      },
      (failure: { flag?: string; reason?: string }) => {
        this.#connecting.delete(conn);
        socket.removeListener('close', onGone);
        this.#deps.logger.debug('tcp_proxy: upstream connect failed', {
          cluster: choice.name,
          error: failure.reason ?? errorMessage(failure),
        });
        socket.destroy();
        this.#log(conn, started, {
          flags: failure.flag ?? 'UF',
          cluster: choice.name,
          details: failure.reason,
        });
        this.#settled();
      },
    );
  }

  /** Resolves once every connection closed, or cuts the rest at the deadline (monotonic ms). */
  drain(deadlineMs: number): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    const clock = this.#deps.clock;
    return new Promise((resolve) => {
      const timer = clock.setTimeout(
        () => {
          for (const l of this.#live) l.splice.terminate();
          for (const c of this.#connecting) c.socket.destroy();
          resolve();
        },
        Math.max(0, deadlineMs - clock.monotonic()),
      );
      this.#idleWaiters.push(() => {
        clock.clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Cuts every connection now. */
  destroy(): void {
    for (const l of this.#live) l.splice.terminate();
    for (const c of this.#connecting) c.socket.destroy();
  }

  async #connect(conn: DownstreamConnection, cluster: TcpCluster, name: string): Promise<TcpUpstream> {
    const tried = new Set<string>();
    const attempts = Math.max(1, this.config.maxConnectAttempts);
    for (let i = 1; ; i++) {
      try {
        return await cluster.connect({
          originalDestination: conn.destination,
          ...(tried.size > 0 && { previousHosts: tried }),
        });
      } catch (e) {
        const f = e as { flag?: string; host?: { key: string } };
        if (f.host) tried.add(f.host.key);
        if (i >= attempts || f.flag !== 'UF' || conn.socket.destroyed) throw e;
        this.#deps.logger.debug('tcp_proxy: retrying connect', { cluster: name, attempt: i + 1 });
      }
    }
  }

  #spliced(
    conn: DownstreamConnection,
    cluster: TcpCluster,
    name: string,
    upstream: TcpUpstream,
    started: number,
  ): void {
    const recorder = this.#deps.telemetry.istio.tcp(this.#peerFacts(conn, cluster, upstream));
    recorder.opened();
    const live: Live = {
      recorder,
      reportedIn: 0,
      reportedOut: 0,
      splice: undefined as unknown as Splice,
    };
    live.splice = new Splice({
      downstream: conn.socket,
      upstream: upstream.socket,
      idleTimeoutMs: this.config.idleTimeoutMs,
      ...(this.config.maxDownstreamConnectionDurationMs && {
        maxDurationMs: this.config.maxDownstreamConnectionDurationMs,
      }),
      sweeper: this.#deps.sweeper,
      onClose: (result) => {
        this.#live.delete(live);
        this.#report(live);
        const flags = resultFlags(result);
        recorder.closed(flags);
        this.#stats.downstream_cx_rx_bytes_total.inc(result.bytesFromDownstream);
        this.#stats.downstream_cx_tx_bytes_total.inc(result.bytesToDownstream);
        if (result.reason === 'idle_timeout') this.#stats.idle_timeout.inc();
        if (result.reason === 'max_duration') this.#stats.max_downstream_connection_duration.inc();
        upstream.done(
          result.reason === 'upstream_error' && result.bytesToDownstream === 0 ? RESET : undefined,
        );
        this.#log(conn, started, {
          flags,
          cluster: name,
          upstream,
          bytesIn: result.bytesFromDownstream,
          bytesOut: result.bytesToDownstream,
          details: result.reason === 'closed' ? undefined : result.reason,
        });
        this.#settled();
      },
    });
    this.#live.add(live);
    this.#armReports();
  }

  #peerFacts(conn: DownstreamConnection, cluster: TcpCluster, upstream: TcpUpstream): IstioPeerFacts {
    const local = this.#deps.telemetry.local;
    const service = cluster.config.istio.services[0];
    const inbound = conn.direction === 'inbound';
    const facts: IstioPeerFacts = {
      reporter: inbound ? 'destination' : 'source',
      local,
      ...(local.principal && { localPrincipal: local.principal }),
      ...(service && { service: { host: service.host, name: service.name } }),
    };
    const peerPrincipal = inbound ? conn.tls?.peerIdentity : upstream.peerIdentity;
    if (peerPrincipal) facts.peerPrincipal = peerPrincipal;
    if (!inbound) {
      const peer = workloadFromEndpoint(upstream.host.metadata);
      if (peer) facts.peer = peer;
    }
    return facts;
  }

  /** Istio reports TCP bytes as they flow; deltas go out on one shared timer rather than per chunk. */
  #armReports(): void {
    if (this.#reportTimer || this.#live.size === 0) return;
    const clock = this.#deps.clock;
    this.#reportTimer = clock.setTimeout(() => {
      this.#reportTimer = undefined;
      for (const l of this.#live) this.#report(l);
      this.#armReports();
    }, REPORT_INTERVAL_MS);
    this.#reportTimer.unref?.();
  }

  #report(l: Live): void {
    const sent = l.splice.bytesToDownstream - l.reportedOut;
    const received = l.splice.bytesFromDownstream - l.reportedIn;
    if (sent === 0 && received === 0) return;
    l.reportedOut += sent;
    l.reportedIn += received;
    l.recorder.bytes(sent, received);
  }

  #settled(): void {
    if (this.active > 0) return;
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  #log(
    conn: DownstreamConnection,
    started: number,
    o: {
      flags: string;
      cluster: string;
      upstream?: TcpUpstream;
      bytesIn?: number;
      bytesOut?: number;
      details?: string | undefined;
    },
  ): void {
    if (this.#loggers.length === 0) return;
    const rec: RequestRecord = {
      startTime: started,
      durationMs: this.#deps.clock.now() - started,
      responseCode: 0,
      responseFlags: o.flags || '-',
      bytesReceived: o.bytesIn ?? 0,
      bytesSent: o.bytesOut ?? 0,
      upstreamCluster: o.cluster,
      downstreamLocalAddress: `${conn.destination.address}:${conn.destination.port}`,
      downstreamRemoteAddress: `${conn.source.address}:${conn.source.port}`,
    };
    if (o.upstream) rec.upstreamHost = o.upstream.host.key;
    if (o.upstream?.localAddress) rec.upstreamLocalAddress = o.upstream.localAddress;
    if (o.upstream?.peerIdentity) rec.upstreamPeerUriSan = o.upstream.peerIdentity;
    if (conn.tls?.sni) rec.requestedServerName = conn.tls.sni;
    if (conn.tls?.peerIdentity) rec.downstreamPeerUriSan = conn.tls.peerIdentity;
    if (conn.tls?.localIdentity) rec.downstreamLocalUriSan = conn.tls.localIdentity;
    if (o.details) rec.connectionTerminationDetails = o.details;
    for (const l of this.#loggers) l.log(rec);
  }
}

function resultFlags(r: SpliceResult): string {
  switch (r.reason) {
    case 'upstream_error':
      return r.bytesToDownstream === 0 ? 'UC' : '-';
    case 'max_duration':
      return 'DT';
    default:
      return '-';
  }
}

/** Istio's endpoint metadata `istio.workload`: `<name>;<namespace>;<canonical service>;<revision>;<cluster>`. */
export function workloadFromEndpoint(metadata: Readonly<Record<string, unknown>>): WorkloadFacts | undefined {
  const istio = metadata.istio as { workload?: unknown } | undefined;
  if (typeof istio?.workload !== 'string') return undefined;
  const [workloadName = '', namespace = '', canonicalService = '', canonicalRevision = '', cluster = ''] =
    istio.workload.split(';');
  return { workloadName, namespace, canonicalService, canonicalRevision, cluster };
}
