// Copies state kept elsewhere (breaker gauges, outlier counters, server facts) into the stats store before a read.

import type { StatsStore } from '../../telemetry/stats/store.js';
import type { ManagedCluster } from '../upstream/cluster/cluster.js';
import type { AdminContext, ServerState } from './context.js';

const STATE_VALUE: Record<ServerState, number> = {
  LIVE: 0,
  DRAINING: 1,
  PRE_INITIALIZING: 2,
  INITIALIZING: 3,
};

/** Envoy names: `cluster.<name>.circuit_breakers.default.cx_open`, `.outlier_detection.ejections_*`, ... */
export function syncClusterStats(stats: StatsStore, clusters: readonly ManagedCluster[]): void {
  for (const c of clusters) {
    const scope = stats.scope('cluster', c.name, 'envoy_cluster_name');
    for (const [name, value] of Object.entries(c.breakers.gauges())) scope.gauge(name).set(value);
    const od = c.outlier?.stats;
    if (od) {
      for (const [name, value] of Object.entries(od)) {
        const stat =
          name === 'ejections_active'
            ? scope.gauge(`outlier_detection.${name}`)
            : scope.counter(`outlier_detection.${name}`);
        stat.set(value);
      }
    }
    scope.counter('lb_healthy_panic').set(c.lbStats.lb_healthy_panic);
    scope.gauge('retry_budget.remaining').set(c.retryBudget.available());
  }
}

/** `server.*`: state, uptime, memory, connections, certificate expiry. */
export function syncServerStats(ctx: AdminContext, now: number): void {
  const server = ctx.telemetry.stats.server();
  server.refresh(ctx.startedAt, now);
  server.live.set(ctx.state() === 'LIVE' ? 1 : 0);
  server.state.set(STATE_VALUE[ctx.state()]);
  server.concurrency.set(1);
  const secrets = ctx.secrets();
  if (secrets) {
    const days = Math.floor((secrets.default.leaf.notAfter.getTime() - now) / 86_400_000);
    server.days_until_first_cert_expiring.set(Math.max(0, days));
  }
}

export function syncAll(ctx: AdminContext, now: number): void {
  syncServerStats(ctx, now);
  syncClusterStats(ctx.telemetry.stats, ctx.clusters());
}
