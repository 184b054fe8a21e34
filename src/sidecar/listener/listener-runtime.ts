// One listener config made runnable: listener filters, filter chain selection, and the chains' runtimes.

import type { Clock } from '../../shared/clock.js';
import { errorMessage } from '../../shared/errors.js';
import type { Stat } from '../../telemetry/stats/stat.js';
import type { ListenerStats } from '../../telemetry/stats/store.js';
import { selectFilterChain } from '../config/match/filter-chain.js';
import type { ConnectionInfo, FilterChain, ListenerConfig } from '../config/model.js';
import {
  type AcceptedConnection,
  type ChainRuntimeDeps,
  FilterChainRuntime,
  listenerStatName,
} from './chain-runtime.js';
import { type Inspection, inspect } from './inspect.js';

export interface ListenerRuntimeDeps extends ChainRuntimeDeps {
  clock: Clock;
}

/** Envoy's listener filter stats (`tls_inspector.*`, `http_inspector.*`): protocol detection outcomes. */
interface InspectorStats {
  tlsFound: Stat;
  tlsNotFound: Stat;
  alpnFound: Stat;
  sniFound: Stat;
  http10: Stat;
  http11: Stat;
  http2: Stat;
  httpNotFound: Stat;
}

/**
 * Built per listener version. Chains are made runnable on first use and kept; a new listener version gets a
 * new runtime while connections of the old one finish on the chains they were given.
 */
export class ListenerRuntime {
  readonly config: ListenerConfig;
  readonly #deps: ListenerRuntimeDeps;
  readonly #chains = new Map<FilterChain, FilterChainRuntime>();
  readonly #stats: ListenerStats;
  readonly #inspectors: InspectorStats;
  #closed = false;

  constructor(config: ListenerConfig, deps: ListenerRuntimeDeps) {
    this.config = config;
    this.#deps = deps;
    this.#stats = deps.stats.listener(listenerStatName(config));
    const tls = deps.stats.scope('tls_inspector');
    const http = deps.stats.scope('http_inspector');
    this.#inspectors = {
      tlsFound: tls.counter('tls_found'),
      tlsNotFound: tls.counter('tls_not_found'),
      alpnFound: tls.counter('alpn_found'),
      sniFound: tls.counter('sni_found'),
      http10: http.counter('http10_found'),
      http11: http.counter('http11_found'),
      http2: http.counter('http2_found'),
      httpNotFound: http.counter('http_not_found'),
    };
  }

  /** Runs the listener filters, picks the filter chain and hands the connection to it. */
  async dispatch(conn: AcceptedConnection): Promise<void> {
    const socket = conn.socket;
    const stats = this.#stats;
    stats.downstream_cx_total.inc();
    stats.downstream_cx_active.inc();
    socket.once('close', () => {
      stats.downstream_cx_active.dec();
      stats.downstream_cx_destroy.inc();
    });
    const l = this.config;
    let found: Inspection = { timedOut: false };
    if (l.listenerFilters.tlsInspector || l.listenerFilters.httpInspector) {
      const result = await inspect(socket, {
        tls: l.listenerFilters.tlsInspector,
        http: l.listenerFilters.httpInspector,
        timeoutMs: l.listenerFiltersTimeoutMs,
        clock: this.#deps.clock,
      });
      if (!result) return;
      found = result;
      this.#count(found);
      if (found.timedOut) {
        stats.downstream_pre_cx_timeout.inc();
        if (!l.continueOnListenerFiltersTimeout) {
          socket.destroy();
          return;
        }
      }
    }
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const info: ConnectionInfo = {
      destinationIp: conn.destination.address,
      destinationPort: conn.destination.port,
      sourceIp: conn.source.address,
      sourcePort: conn.source.port,
    };
    if (found.transportProtocol) info.transportProtocol = found.transportProtocol;
    if (found.serverName) info.serverName = found.serverName;
    if (found.applicationProtocols) info.applicationProtocols = found.applicationProtocols;
    const chain = selectFilterChain(l, info);
    if (!chain) {
      stats.no_filter_chain_match.inc();
      this.#deps.logger.debug('no filter chain matches; closing', {
        listener: l.name,
        destination: `${info.destinationIp}:${info.destinationPort}`,
        transport: info.transportProtocol ?? 'raw_buffer',
        alpn: info.applicationProtocols?.join(',') ?? '',
      });
      socket.destroy();
      return;
    }
    const runtime = this.#chain(chain);
    if (!runtime) {
      socket.destroy();
      return;
    }
    runtime.handle(found.serverName ? { ...conn, serverName: found.serverName } : conn);
  }

  /** Lets every chain's connections finish (HCMs answer `connection: close` / GOAWAY) until the deadline. */
  async drain(deadlineMs: number): Promise<void> {
    await Promise.all([...this.#chains.values()].map((c) => c.drain(deadlineMs)));
  }

  /** No further connections; the chains release their TLS servers and cut tcp_proxy connections. */
  close(): void {
    this.#closed = true;
    for (const c of this.#chains.values()) c.close();
  }

  #chain(chain: FilterChain): FilterChainRuntime | undefined {
    let runtime = this.#chains.get(chain);
    if (runtime) return runtime;
    try {
      runtime = new FilterChainRuntime(this.config, chain, this.#deps);
    } catch (e) {
      // Not cached: a chain waiting for the workload certificate works once the CA has answered.
      this.#deps.logger.warn('filter chain cannot serve; closing the connection', {
        listener: this.config.name,
        chain: chain.name,
        error: errorMessage(e),
      });
      return undefined;
    }
    this.#chains.set(chain, runtime);
    return runtime;
  }

  #count(found: Inspection): void {
    const s = this.#inspectors;
    if (this.config.listenerFilters.tlsInspector && !found.timedOut) {
      if (found.transportProtocol === 'tls') {
        s.tlsFound.inc();
        if (found.applicationProtocols) s.alpnFound.inc();
        if (found.serverName) s.sniFound.inc();
      } else s.tlsNotFound.inc();
    }
    switch (found.http) {
      case 'http/1.0':
        s.http10.inc();
        break;
      case 'http/1.1':
        s.http11.inc();
        break;
      case 'h2c':
        s.http2.inc();
        break;
      case 'not-http':
        s.httpNotFound.inc();
        break;
      default:
        break;
    }
  }
}
