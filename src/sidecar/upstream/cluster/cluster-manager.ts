// The sidecar's cluster manager: one ManagedCluster per CDS cluster, kept in step with each applied snapshot.

import { type Clock, systemClock } from '../../../shared/clock.js';
import { type Logger, silentLogger } from '../../../shared/log.js';
import type { StatsStore } from '../../../telemetry/stats/store.js';
import type { SidecarConfig } from '../../config/model.js';
import { DeadlineSweeper } from '../../http/deadlines.js';
import type { ClusterManager } from '../../runtime/contracts.js';
import type { OutlierEvent } from '../outlier/detector.js';
import { ManagedCluster } from './cluster.js';
import { type LookupAll, systemLookup } from './dns-hosts.js';
import type { UpstreamTlsProvider } from './upstream-tls.js';

export interface ClusterManagerOptions {
  stats: StatsStore;
  tls: UpstreamTlsProvider;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
  lookup?: LookupAll;
  dnsRefreshMs?: number;
  /** True for this proxy's own listener addresses (an ORIGINAL_DST cluster must never loop back). */
  isSelf?: (address: string, port: number) => boolean;
  onOutlierEvent?: (event: OutlierEvent) => void;
}

export class SidecarClusterManager implements ClusterManager {
  readonly #clusters = new Map<string, ManagedCluster>();
  readonly #opts: ClusterManagerOptions;
  readonly #sweeper: DeadlineSweeper;

  constructor(opts: ClusterManagerOptions) {
    this.#opts = opts;
    this.#sweeper = new DeadlineSweeper({ clock: opts.clock ?? systemClock });
  }

  get(name: string): ManagedCluster | undefined {
    return this.#clusters.get(name);
  }

  all(): ManagedCluster[] {
    return [...this.#clusters.values()];
  }

  /**
   * Brings the clusters in line with a snapshot: new ones are created, changed ones updated in place (their
   * hosts keep in-flight counts and ejections), removed ones drain their pools and drop their stats.
   */
  apply(config: Pick<SidecarConfig, 'clusters' | 'endpoints'>): void {
    for (const [name, c] of config.clusters) {
      const endpoints = c.type === 'EDS' ? config.endpoints.get(c.edsServiceName) : undefined;
      const existing = this.#clusters.get(name);
      if (existing) existing.update(c, endpoints);
      else this.#clusters.set(name, new ManagedCluster(c, endpoints, this.#runtime()));
    }
    for (const [name, cluster] of this.#clusters) {
      if (config.clusters.has(name)) continue;
      this.#clusters.delete(name);
      cluster.close();
      this.#opts.stats.removeCluster(name);
    }
  }

  /** Closes every pool at once (the process is exiting). */
  destroy(): void {
    for (const c of this.#clusters.values()) c.destroy();
    this.#clusters.clear();
  }

  #runtime() {
    const o = this.#opts;
    return {
      stats: o.stats,
      tls: o.tls,
      sweeper: this.#sweeper,
      clock: o.clock ?? systemClock,
      random: o.random ?? Math.random,
      logger: o.logger ?? silentLogger,
      lookup: o.lookup ?? systemLookup,
      ...(o.dnsRefreshMs !== undefined && { dnsRefreshMs: o.dnsRefreshMs }),
      ...(o.isSelf && { isSelf: o.isSelf }),
      ...(o.onOutlierEvent && { onOutlierEvent: o.onOutlierEvent }),
    };
  }
}
