// Envoy-compatible stats for one proxy: typed per-cluster, per-listener, per-HCM and server stats.

import { envoyPromName, extractResponseCodeTag, Stat, type StatKind } from './stat.js';

interface ScopeSpec {
  /** `cluster`, `http`, `listener`, `server`. */
  root: string;
  /** Scope name inside the root (cluster name, stat prefix, listener address); empty for server. */
  name: string;
  /** The Prometheus tag that carries `name` (`envoy_cluster_name`...). */
  tag?: string;
}

/** Creates stats in one scope; stats are cached by full name so a scope can be re-resolved cheaply. */
export class StatsScope {
  readonly #store: StatsStore;
  readonly #spec: ScopeSpec;

  constructor(store: StatsStore, spec: ScopeSpec) {
    this.#store = store;
    this.#spec = spec;
  }

  counter(suffix: string): Stat {
    return this.#stat(suffix, 'counter');
  }

  gauge(suffix: string): Stat {
    return this.#stat(suffix, 'gauge');
  }

  #stat(suffix: string, kind: StatKind): Stat {
    const { root, name, tag } = this.#spec;
    const full = name ? `${root}.${name}.${suffix}` : `${root}.${suffix}`;
    return this.#store.getOrCreate(full, () => {
      const extracted = extractResponseCodeTag(suffix);
      const tags: [string, string][] = [];
      if (extracted.tag) tags.push(extracted.tag);
      if (tag) tags.push([tag, name]);
      return new Stat({
        name: full,
        kind,
        promName: envoyPromName(`${root}_${extracted.suffix}`),
        promTags: tags,
      });
    });
  }
}

/** Response code accounting shared by cluster (`upstream_rq_*`) and HCM (`downstream_rq_*`) stats. */
class ResponseCodes {
  readonly #scope: StatsScope;
  readonly #prefix: string;
  readonly #classes: Stat[];
  readonly #codes = new Map<number, Stat>();

  constructor(scope: StatsScope, prefix: string) {
    this.#scope = scope;
    this.#prefix = prefix;
    this.#classes = [1, 2, 3, 4, 5].map((c) => scope.counter(`${prefix}_${c}xx`));
  }

  record(code: number, perCode: boolean): void {
    const cls = Math.floor(code / 100);
    if (cls >= 1 && cls <= 5) this.#classes[cls - 1]!.inc();
    if (!perCode) return;
    let s = this.#codes.get(code);
    if (s === undefined) {
      s = this.#scope.counter(`${this.#prefix}_${code}`);
      this.#codes.set(code, s);
    }
    s.inc();
  }
}

/** `cluster.<name>.*` as Envoy names them. */
export class ClusterStats {
  readonly upstream_rq_total: Stat;
  readonly upstream_rq_completed: Stat;
  readonly upstream_rq_active: Stat;
  readonly upstream_rq_pending_total: Stat;
  readonly upstream_rq_pending_active: Stat;
  readonly upstream_rq_pending_overflow: Stat;
  readonly upstream_rq_retry: Stat;
  readonly upstream_rq_retry_success: Stat;
  readonly upstream_rq_retry_overflow: Stat;
  readonly upstream_rq_timeout: Stat;
  readonly upstream_rq_per_try_timeout: Stat;
  readonly upstream_rq_rx_reset: Stat;
  readonly upstream_rq_tx_reset: Stat;
  readonly upstream_rq_cancelled: Stat;
  readonly upstream_cx_total: Stat;
  readonly upstream_cx_active: Stat;
  readonly upstream_cx_overflow: Stat;
  readonly upstream_cx_connect_fail: Stat;
  readonly upstream_cx_connect_timeout: Stat;
  readonly upstream_cx_destroy: Stat;
  readonly upstream_cx_rx_bytes_total: Stat;
  readonly upstream_cx_tx_bytes_total: Stat;
  readonly upstream_cx_none_healthy: Stat;
  readonly membership_healthy: Stat;
  readonly membership_total: Stat;
  readonly outlier_detection_ejections_active: Stat;
  readonly outlier_detection_ejections_enforced_total: Stat;
  readonly outlier_detection_ejections_overflow: Stat;
  readonly #codes: ResponseCodes;

  constructor(scope: StatsScope) {
    const c = (s: string) => scope.counter(s);
    const g = (s: string) => scope.gauge(s);
    this.upstream_rq_total = c('upstream_rq_total');
    this.upstream_rq_completed = c('upstream_rq_completed');
    this.upstream_rq_active = g('upstream_rq_active');
    this.upstream_rq_pending_total = c('upstream_rq_pending_total');
    this.upstream_rq_pending_active = g('upstream_rq_pending_active');
    this.upstream_rq_pending_overflow = c('upstream_rq_pending_overflow');
    this.upstream_rq_retry = c('upstream_rq_retry');
    this.upstream_rq_retry_success = c('upstream_rq_retry_success');
    this.upstream_rq_retry_overflow = c('upstream_rq_retry_overflow');
    this.upstream_rq_timeout = c('upstream_rq_timeout');
    this.upstream_rq_per_try_timeout = c('upstream_rq_per_try_timeout');
    this.upstream_rq_rx_reset = c('upstream_rq_rx_reset');
    this.upstream_rq_tx_reset = c('upstream_rq_tx_reset');
    this.upstream_rq_cancelled = c('upstream_rq_cancelled');
    this.upstream_cx_total = c('upstream_cx_total');
    this.upstream_cx_active = g('upstream_cx_active');
    this.upstream_cx_overflow = c('upstream_cx_overflow');
    this.upstream_cx_connect_fail = c('upstream_cx_connect_fail');
    this.upstream_cx_connect_timeout = c('upstream_cx_connect_timeout');
    this.upstream_cx_destroy = c('upstream_cx_destroy');
    this.upstream_cx_rx_bytes_total = c('upstream_cx_rx_bytes_total');
    this.upstream_cx_tx_bytes_total = c('upstream_cx_tx_bytes_total');
    this.upstream_cx_none_healthy = c('upstream_cx_none_healthy');
    this.membership_healthy = g('membership_healthy');
    this.membership_total = g('membership_total');
    this.outlier_detection_ejections_active = g('outlier_detection.ejections_active');
    this.outlier_detection_ejections_enforced_total = c('outlier_detection.ejections_enforced_total');
    this.outlier_detection_ejections_overflow = c('outlier_detection.ejections_overflow');
    this.#codes = new ResponseCodes(scope, 'upstream_rq');
  }

  /** A completed upstream request: `upstream_rq_completed`, `upstream_rq_<class>xx` and `upstream_rq_<code>`. */
  responseCode(code: number): void {
    this.upstream_rq_completed.inc();
    this.#codes.record(code, true);
  }
}

/** `http.<stat_prefix>.*` for one HttpConnectionManager. */
export class HttpConnManagerStats {
  readonly downstream_rq_total: Stat;
  readonly downstream_rq_active: Stat;
  readonly downstream_rq_timeout: Stat;
  readonly downstream_rq_rx_reset: Stat;
  readonly downstream_rq_tx_reset: Stat;
  readonly downstream_cx_total: Stat;
  readonly downstream_cx_active: Stat;
  readonly downstream_cx_destroy: Stat;
  readonly no_route: Stat;
  readonly no_cluster: Stat;
  readonly rq_direct_response: Stat;
  readonly #codes: ResponseCodes;

  constructor(scope: StatsScope) {
    const c = (s: string) => scope.counter(s);
    const g = (s: string) => scope.gauge(s);
    this.downstream_rq_total = c('downstream_rq_total');
    this.downstream_rq_active = g('downstream_rq_active');
    this.downstream_rq_timeout = c('downstream_rq_timeout');
    this.downstream_rq_rx_reset = c('downstream_rq_rx_reset');
    this.downstream_rq_tx_reset = c('downstream_rq_tx_reset');
    this.downstream_cx_total = c('downstream_cx_total');
    this.downstream_cx_active = g('downstream_cx_active');
    this.downstream_cx_destroy = c('downstream_cx_destroy');
    this.no_route = c('no_route');
    this.no_cluster = c('no_cluster');
    this.rq_direct_response = c('rq_direct_response');
    this.#codes = new ResponseCodes(scope, 'downstream_rq');
  }

  /** Envoy's HCM counts response classes only (`downstream_rq_2xx`), not each code. */
  responseCode(code: number): void {
    this.#codes.record(code, false);
  }
}

/** `listener.<address>.*` (address as Envoy writes it: `0.0.0.0_15006`). */
export class ListenerStats {
  readonly downstream_cx_total: Stat;
  readonly downstream_cx_active: Stat;
  readonly downstream_cx_destroy: Stat;
  readonly downstream_cx_overflow: Stat;
  readonly no_filter_chain_match: Stat;
  readonly downstream_pre_cx_timeout: Stat;

  constructor(scope: StatsScope) {
    this.downstream_cx_total = scope.counter('downstream_cx_total');
    this.downstream_cx_active = scope.gauge('downstream_cx_active');
    this.downstream_cx_destroy = scope.counter('downstream_cx_destroy');
    this.downstream_cx_overflow = scope.counter('downstream_cx_overflow');
    this.no_filter_chain_match = scope.counter('no_filter_chain_match');
    this.downstream_pre_cx_timeout = scope.counter('downstream_pre_cx_timeout');
  }
}

/** `server.*` process-level gauges. */
export class ServerStats {
  readonly live: Stat;
  readonly state: Stat;
  readonly uptime: Stat;
  readonly concurrency: Stat;
  readonly memory_allocated: Stat;
  readonly memory_heap_size: Stat;
  readonly memory_physical_size: Stat;
  readonly total_connections: Stat;
  readonly days_until_first_cert_expiring: Stat;

  constructor(scope: StatsScope) {
    this.live = scope.gauge('live');
    this.state = scope.gauge('state');
    this.uptime = scope.gauge('uptime');
    this.concurrency = scope.gauge('concurrency');
    this.memory_allocated = scope.gauge('memory_allocated');
    this.memory_heap_size = scope.gauge('memory_heap_size');
    this.memory_physical_size = scope.gauge('memory_physical_size');
    this.total_connections = scope.gauge('total_connections');
    this.days_until_first_cert_expiring = scope.gauge('days_until_first_cert_expiring');
  }

  /** Fills uptime and memory from this process (Envoy's allocated/heap map to V8 heap used/total, RSS). */
  refresh(startedAtMs: number, nowMs: number): void {
    const mem = process.memoryUsage();
    this.uptime.set(Math.floor((nowMs - startedAtMs) / 1000));
    this.memory_allocated.set(mem.heapUsed);
    this.memory_heap_size.set(mem.heapTotal);
    this.memory_physical_size.set(mem.rss);
  }
}

/** All stats of one proxy. Scope objects are cached, so `cluster(name)` twice returns the same handles. */
export class StatsStore {
  readonly #stats = new Map<string, Stat>();
  readonly #clusters = new Map<string, ClusterStats>();
  readonly #hcms = new Map<string, HttpConnManagerStats>();
  readonly #listeners = new Map<string, ListenerStats>();
  #server: ServerStats | undefined;

  getOrCreate(name: string, make: () => Stat): Stat {
    let s = this.#stats.get(name);
    if (s === undefined) {
      s = make();
      this.#stats.set(name, s);
    }
    return s;
  }

  scope(root: string, name = '', tag?: string): StatsScope {
    return new StatsScope(this, tag === undefined ? { root, name } : { root, name, tag });
  }

  cluster(name: string): ClusterStats {
    let c = this.#clusters.get(name);
    if (c === undefined) {
      c = new ClusterStats(this.scope('cluster', name, 'envoy_cluster_name'));
      this.#clusters.set(name, c);
    }
    return c;
  }

  httpConnManager(statPrefix: string): HttpConnManagerStats {
    let h = this.#hcms.get(statPrefix);
    if (h === undefined) {
      h = new HttpConnManagerStats(this.scope('http', statPrefix, 'envoy_http_conn_manager_prefix'));
      this.#hcms.set(statPrefix, h);
    }
    return h;
  }

  listener(address: string): ListenerStats {
    let l = this.#listeners.get(address);
    if (l === undefined) {
      l = new ListenerStats(this.scope('listener', address, 'envoy_listener_address'));
      this.#listeners.set(address, l);
    }
    return l;
  }

  server(): ServerStats {
    this.#server ??= new ServerStats(this.scope('server'));
    return this.#server;
  }

  /** Removes every stat of a cluster that left the config (Envoy drops a removed cluster's stats too). */
  removeCluster(name: string): void {
    this.#clusters.delete(name);
    const prefix = `cluster.${name}.`;
    for (const key of this.#stats.keys()) if (key.startsWith(prefix)) this.#stats.delete(key);
  }

  all(): IterableIterator<Stat> {
    return this.#stats.values();
  }

  get(name: string): Stat | undefined {
    return this.#stats.get(name);
  }
}
