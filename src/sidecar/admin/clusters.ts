// `/clusters`: Envoy's text format (cluster::host::stat::value lines) and its JSON form (envoy.admin.v3.Clusters).

import type { JsonObject } from '@bufbuild/protobuf';
import type { CircuitBreakerThresholds } from '../upstream/breaker/thresholds.js';
import type { HostView, ManagedCluster } from '../upstream/cluster/cluster.js';
import { healthFlags } from '../upstream/outlier/health-flags.js';

function thresholdLines(name: string, priority: string, t: Readonly<CircuitBreakerThresholds>): string[] {
  return [
    `${name}::${priority}_priority::max_connections::${t.maxConnections}`,
    `${name}::${priority}_priority::max_pending_requests::${t.maxPendingRequests}`,
    `${name}::${priority}_priority::max_requests::${t.maxRequests}`,
    `${name}::${priority}_priority::max_retries::${t.maxRetries}`,
  ];
}

function hostStats(v: HostView): [string, number][] {
  return [
    ['cx_active', v.counters.cx_active],
    ['cx_connect_fail', v.counters.cx_connect_fail],
    ['cx_total', v.counters.cx_total],
    ['rq_active', v.host.activeRequests],
    ['rq_error', v.counters.rq_error],
    ['rq_success', v.counters.rq_success],
    ['rq_timeout', v.counters.rq_timeout],
    ['rq_total', v.counters.rq_total],
  ];
}

/** Envoy's plain-text `/clusters`, sorted by cluster name. */
export function clustersText(clusters: readonly ManagedCluster[]): string {
  const lines: string[] = [];
  for (const c of [...clusters].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const n = c.name;
    lines.push(`${n}::observability_name::${n}`);
    lines.push(...thresholdLines(n, 'default', c.config.circuitBreakers.DEFAULT));
    lines.push(...thresholdLines(n, 'high', c.config.circuitBreakers.HIGH));
    if (c.outlier) lines.push(`${n}::outlier::ejections_active::${c.outlier.stats.ejections_active}`);
    lines.push(`${n}::added_via_api::true`);
    if (c.config.type === 'EDS') lines.push(`${n}::eds_service_name::${c.config.edsServiceName}`);
    for (const v of c.hostViews()) {
      const h = `${n}::${v.host.key}`;
      for (const [stat, value] of hostStats(v)) lines.push(`${h}::${stat}::${value}`);
      lines.push(`${h}::hostname::${v.host.hostname}`);
      lines.push(`${h}::health_flags::${healthFlags(v.host)}`);
      lines.push(`${h}::weight::${v.host.weight}`);
      lines.push(`${h}::region::${v.host.locality.region}`);
      lines.push(`${h}::zone::${v.host.locality.zone}`);
      lines.push(`${h}::sub_zone::${v.host.locality.subZone}`);
      lines.push(`${h}::canary::false`);
      lines.push(`${h}::priority::${v.host.priority}`);
      lines.push(`${h}::success_rate::-1`);
      lines.push(`${h}::local_origin_success_rate::-1`);
    }
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

function thresholdsJson(priority: 'DEFAULT' | 'HIGH', t: Readonly<CircuitBreakerThresholds>): JsonObject {
  const out: JsonObject = {
    max_connections: t.maxConnections,
    max_pending_requests: t.maxPendingRequests,
    max_requests: t.maxRequests,
    max_retries: t.maxRetries,
  };
  if (priority === 'HIGH') out.priority = 'HIGH';
  return out;
}

function socketAddress(address: string, port: number): JsonObject {
  return { socket_address: { address, port_value: port } };
}

/** `/clusters?format=json`: envoy.admin.v3.Clusters with proto field names. */
export function clustersJson(clusters: readonly ManagedCluster[]): JsonObject {
  return {
    cluster_statuses: clusters.map((c) => {
      const status: JsonObject = {
        name: c.name,
        observability_name: c.name,
        added_via_api: true,
        circuit_breakers: {
          thresholds: [
            thresholdsJson('DEFAULT', c.config.circuitBreakers.DEFAULT),
            thresholdsJson('HIGH', c.config.circuitBreakers.HIGH),
          ],
        },
        host_statuses: c.hostViews().map((v) => {
          const health: JsonObject = {
            eds_health_status: v.host.health === 'UNKNOWN' ? 'HEALTHY' : v.host.health,
          };
          if (v.host.live.outlierEjected) health.failed_outlier_check = true;
          const host: JsonObject = {
            address: socketAddress(v.host.address, v.host.port),
            stats: hostStats(v).map(([name, value]): JsonObject => {
              const stat: JsonObject = { name, value: String(value) };
              if (name === 'rq_active' || name === 'cx_active') stat.type = 'GAUGE';
              return stat;
            }),
            health_status: health,
            weight: v.host.weight,
            locality: {
              region: v.host.locality.region,
              zone: v.host.locality.zone,
              sub_zone: v.host.locality.subZone,
            },
            priority: v.host.priority,
          };
          if (v.host.hostname) host.hostname = v.host.hostname;
          return host;
        }),
      };
      if (c.config.type === 'EDS') status.eds_service_name = c.config.edsServiceName;
      return status;
    }),
  };
}
