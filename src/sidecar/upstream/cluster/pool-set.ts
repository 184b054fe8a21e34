// One connection pool per host and protocol for a cluster, gated by the cluster's connection circuit breaker.

import type { Clock } from '../../../shared/clock.js';
import { errorMessage } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/log.js';
import type { ClusterStats } from '../../../telemetry/stats/store.js';
import { transportSocketFor } from '../../config/match/transport-socket.js';
import type { ClusterConfig } from '../../config/model.js';
import type { DeadlineSweeper } from '../../http/deadlines.js';
import type { ClusterCircuitBreakers } from '../breaker/circuit-breakers.js';
import { breakerConnectionPolicy, type ConnectionPolicy } from '../breaker/pool-policy.js';
import type { Host } from '../lb/host.js';
import { Http1Pool, type UpstreamPool } from '../pool/h1-pool.js';
import { Http2Pool } from '../pool/h2-pool.js';
import type { PoolPolicy } from '../pool/policy.js';
import { ClusterFailure } from './failure.js';
import { type HostCounters, hostCounters } from './host-counters.js';
import { UpstreamTlsProvider } from './upstream-tls.js';

export type UpstreamProtocol = 'http1' | 'http2';

/** setTimeout's ceiling: what "no idle timeout" becomes. */
export const NO_TIMEOUT_MS = 2_147_483_647;

export interface PoolSetOptions {
  cluster: string;
  config: ClusterConfig;
  breakers: ClusterCircuitBreakers;
  stats: ClusterStats;
  tls: UpstreamTlsProvider;
  sweeper: DeadlineSweeper;
  clock: Clock;
  logger: Logger;
  /** The verified SPIFFE ID of a host's server certificate, learnt at each handshake. */
  onPeer(host: Host, identity: string | undefined): void;
}

interface Entry {
  pool: UpstreamPool;
  /** Secrets version the pool's TLS context was built from (mesh pools are replaced on rotation). */
  tlsVersion: number | undefined;
}

/** Keep-alive probe delay from `upstream_connection_options.tcp_keepalive` (Linux default 7200 s). */
export function keepAliveMs(config: ClusterConfig): number | undefined {
  const k = config.tcpKeepalive;
  return k ? (k.timeSec ?? 7200) * 1000 : undefined;
}

export class PoolSet {
  readonly #opts: PoolSetOptions;
  readonly #pools = new Map<string, Entry>();
  readonly #policy: ConnectionPolicy;

  constructor(opts: PoolSetOptions) {
    this.#opts = opts;
    this.#policy = breakerConnectionPolicy(opts.breakers.resources(), opts.breakers.counters);
  }

  get size(): number {
    return this.#pools.size;
  }

  /** Requests waiting for a connection in any of the cluster's pools (max_pending_requests). */
  pending(): number {
    let n = 0;
    for (const e of this.#pools.values()) n += e.pool.stats.pending;
    return n;
  }

  /** The host's pool for a protocol, created on first use; throws a ClusterFailure (UO, UF) when it cannot be. */
  get(host: Host, protocol: UpstreamProtocol): UpstreamPool {
    const key = `${host.key}|${protocol}`;
    const found = this.#pools.get(key);
    if (found && (found.tlsVersion === undefined || found.tlsVersion === this.#opts.tls.version))
      return found.pool;
    if (found) this.#retire(key, found);
    if (!this.#opts.breakers.tryCreatePool()) {
      throw new ClusterFailure({
        flag: 'UO',
        reason: `cluster "${this.#opts.cluster}" reached max_connection_pools`,
        retriable: false,
        host,
      });
    }
    try {
      const entry = this.#create(host, protocol);
      this.#pools.set(key, entry);
      return entry.pool;
    } catch (e) {
      this.#opts.breakers.poolDestroyed();
      if (e instanceof ClusterFailure) throw e;
      throw new ClusterFailure({
        flag: 'UF',
        reason: `cannot open connections to ${host.key} in cluster "${this.#opts.cluster}": ${errorMessage(e)}`,
        retriable: false,
        host,
        cause: e,
      });
    }
  }

  /** Closes (gracefully) the pools of hosts that left the cluster. */
  retain(hosts: readonly Host[]): void {
    const keep = new Set(hosts.map((h) => h.key));
    for (const [key, e] of this.#pools) {
      if (!keep.has(key.slice(0, key.lastIndexOf('|')))) this.#retire(key, e);
    }
  }

  /** A slot under max_connections freed up: pools waiting on the breaker may connect now. */
  wakeAll(): void {
    for (const e of this.#pools.values()) e.pool.wake();
  }

  /** Stops taking requests; busy connections finish their exchange (a cluster drain). */
  closeAll(): void {
    for (const [key, e] of [...this.#pools]) this.#retire(key, e);
  }

  destroyAll(): void {
    for (const [key, e] of [...this.#pools]) {
      this.#pools.delete(key);
      e.pool.destroy();
      this.#opts.breakers.poolDestroyed();
    }
  }

  /** Pool counters per host key, for `/clusters`. */
  statsFor(host: Host): { active: number; idle: number; pending: number; connecting: number } {
    const out = { active: 0, idle: 0, pending: 0, connecting: 0 };
    for (const p of ['http1', 'http2'] as const) {
      const e = this.#pools.get(`${host.key}|${p}`);
      if (!e) continue;
      out.active += e.pool.stats.active;
      out.idle += e.pool.stats.idle;
      out.pending += e.pool.stats.pending;
      out.connecting += e.pool.stats.connecting;
    }
    return out;
  }

  #retire(key: string, e: Entry): void {
    this.#pools.delete(key);
    e.pool.close();
    this.#opts.breakers.poolDestroyed();
  }

  #create(host: Host, protocol: UpstreamProtocol): Entry {
    const o = this.#opts;
    const config = o.config;
    const choice = transportSocketFor(config, host.metadata);
    const tls = choice.tls ? o.tls.options(o.cluster, choice.tls, (id) => o.onPeer(host, id)) : undefined;
    const tlsVersion = choice.tls && UpstreamTlsProvider.isMesh(choice.tls) ? o.tls.version : undefined;
    const policy = this.#hostPolicy(hostCounters(host));
    const common = {
      endpoint: { host: host.address, port: host.port },
      ...(tls && { tls }),
      connectTimeoutMs: config.connectTimeoutMs,
      idleTimeoutMs: config.http.idleTimeoutMs || NO_TIMEOUT_MS,
      ...(config.http.maxRequestsPerConnection > 0 && {
        maxRequestsPerConnection: config.http.maxRequestsPerConnection,
      }),
      ...(config.upstreamBindAddress && { localAddress: config.upstreamBindAddress }),
      ...(keepAliveMs(config) !== undefined && { tcpKeepAliveMs: keepAliveMs(config) }),
      policy,
      clock: o.clock,
      logger: o.logger,
    };
    const pool =
      protocol === 'http2'
        ? new Http2Pool({ ...common, maxConcurrentStreams: Math.min(config.http.maxConcurrentStreams, 1000) })
        : new Http1Pool({ ...common, sweeper: o.sweeper });
    return { pool, tlsVersion };
  }

  /** The breaker's rule for this pool, plus Envoy's cluster and per-host connection counters. */
  #hostPolicy(host: HostCounters): PoolPolicy {
    const stats = this.#opts.stats;
    const shared = this.#policy;
    return {
      mayOpenConnection: (s) => {
        const before = this.#opts.breakers.counters.upstream_cx_overflow;
        const ok = shared.mayOpenConnection(s);
        if (this.#opts.breakers.counters.upstream_cx_overflow !== before) stats.upstream_cx_overflow.inc();
        return ok;
      },
      onConnectionOpened: () => {
        shared.connectionOpened();
        stats.upstream_cx_total.inc();
        stats.upstream_cx_active.inc();
        host.cx_total++;
        host.cx_active++;
      },
      onConnectionClosed: () => {
        shared.connectionClosed();
        stats.upstream_cx_active.dec();
        stats.upstream_cx_destroy.inc();
        host.cx_active--;
        // Another pool of the cluster may be waiting for this max_connections slot.
        queueMicrotask(() => this.wakeAll());
      },
    };
  }
}
