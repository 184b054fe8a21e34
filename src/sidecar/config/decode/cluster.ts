// Cluster → ClusterConfig, reusing the upstream room's decoders for balancing, circuit breakers and outlier detection.

import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { errorMessage } from '../../../shared/errors.js';
import { RETRY_BUDGET_METADATA_KEY, retryBudgetFromMetadata } from '../../../shared/retry-budget.js';
import {
  CircuitBreakers_ThresholdsSchema,
  CircuitBreakersSchema,
} from '../../../xds/gen/envoy/config/cluster/v3/circuit_breaker_pb.js';
import {
  type Cluster,
  Cluster_CommonLbConfigSchema,
  Cluster_DiscoveryType,
  Cluster_EdsClusterConfigSchema,
  Cluster_LeastRequestLbConfigSchema,
  Cluster_MaglevLbConfigSchema,
  Cluster_RingHashLbConfigSchema,
  Cluster_TransportSocketMatchSchema,
  ClusterSchema,
  UpstreamConnectionOptionsSchema,
} from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { OutlierDetectionSchema } from '../../../xds/gen/envoy/config/cluster/v3/outlier_detection_pb.js';
import { BindConfigSchema, TcpKeepaliveSchema } from '../../../xds/gen/envoy/config/core/v3/address_pb.js';
import { ConfigSourceSchema } from '../../../xds/gen/envoy/config/core/v3/config_source_pb.js';
import type { ClusterConfig, TransportSocketChoice } from '../model.js';
import { jsonKind, nonNegativeMs, stringRecord } from './common.js';
import { endpointSet } from './endpoints.js';
import { fieldPolicy } from './fields.js';
import { at, type DecodeContext } from './problems.js';
import { httpProtocolOptions } from './protocol-options.js';
import { transportSocket } from './tls.js';
import { breakerThresholdsFromProto, lbSettingsFromProto, outlierFromProto } from './upstream-rooms.js';

const CLUSTER_FIELDS = fieldPolicy(ClusterSchema, {
  handled: [
    'transport_socket_matches',
    'name',
    'type',
    'eds_cluster_config',
    'connect_timeout',
    'per_connection_buffer_limit_bytes',
    'lb_policy',
    'load_assignment',
    'circuit_breakers',
    'typed_extension_protocol_options',
    'outlier_detection',
    'upstream_bind_config',
    'ring_hash_lb_config',
    'maglev_lb_config',
    'least_request_lb_config',
    'common_lb_config',
    'transport_socket',
    'metadata',
    'upstream_connection_options',
  ],
  // Stats names and housekeeping timers that do not change where or how requests go.
  ignored: [
    'alt_stat_name',
    'cleanup_interval',
    'track_cluster_stats',
    'wait_for_warm_on_init',
    'track_timeout_budgets',
    'preconnect_policy',
  ],
});
const EDS_FIELDS = fieldPolicy(Cluster_EdsClusterConfigSchema, { handled: ['eds_config', 'service_name'] });
const SOURCE_FIELDS = fieldPolicy(ConfigSourceSchema, {
  handled: ['ads'],
  ignored: ['resource_api_version', 'initial_fetch_timeout'],
});
const BREAKER_FIELDS = fieldPolicy(CircuitBreakersSchema, { handled: ['thresholds'] });
const THRESHOLD_FIELDS = fieldPolicy(CircuitBreakers_ThresholdsSchema, {
  handled: [
    'priority',
    'max_connections',
    'max_pending_requests',
    'max_requests',
    'max_retries',
    'max_connection_pools',
  ],
  ignored: ['track_remaining'],
});
const OUTLIER_FIELDS = fieldPolicy(OutlierDetectionSchema, {
  handled: [
    'consecutive_5xx',
    'interval',
    'base_ejection_time',
    'max_ejection_percent',
    'enforcing_consecutive_5xx',
    'enforcing_success_rate',
    'consecutive_gateway_failure',
    'enforcing_consecutive_gateway_failure',
    'split_external_local_origin_errors',
    'consecutive_local_origin_failure',
    'enforcing_consecutive_local_origin_failure',
    'enforcing_local_origin_success_rate',
    'enforcing_failure_percentage',
    'enforcing_failure_percentage_local_origin',
    'max_ejection_time',
    'max_ejection_time_jitter',
    'always_eject_one_host',
  ],
  // Parameters of the success-rate and failure-percentage algorithms, which only matter when enforced.
  ignored: [
    'success_rate_minimum_hosts',
    'success_rate_request_volume',
    'success_rate_stdev_factor',
    'failure_percentage_threshold',
    'failure_percentage_minimum_hosts',
    'failure_percentage_request_volume',
    'successful_active_health_check_uneject_host',
  ],
});
const COMMON_LB_FIELDS = fieldPolicy(Cluster_CommonLbConfigSchema, {
  handled: ['healthy_panic_threshold', 'locality_weighted_lb_config'],
  // Zone-aware routing needs the bootstrap's local cluster, which a Trellis sidecar never has: Envoy does
  // not apply it either. The merge window only batches host updates.
  ignored: ['zone_aware_lb_config', 'update_merge_window'],
});
const RING_FIELDS = fieldPolicy(Cluster_RingHashLbConfigSchema, {
  handled: ['minimum_ring_size', 'maximum_ring_size', 'hash_function'],
});
const MAGLEV_FIELDS = fieldPolicy(Cluster_MaglevLbConfigSchema, { handled: ['table_size'] });
const LEAST_REQUEST_FIELDS = fieldPolicy(Cluster_LeastRequestLbConfigSchema, {
  handled: ['choice_count', 'active_request_bias'],
});
const MATCH_FIELDS = fieldPolicy(Cluster_TransportSocketMatchSchema, {
  handled: ['name', 'match', 'transport_socket'],
});
const BIND_FIELDS = fieldPolicy(BindConfigSchema, { handled: ['source_address'] });
const CONNECTION_FIELDS = fieldPolicy(UpstreamConnectionOptionsSchema, { handled: ['tcp_keepalive'] });
const KEEPALIVE_FIELDS = fieldPolicy(TcpKeepaliveSchema, {
  handled: ['keepalive_probes', 'keepalive_time', 'keepalive_interval'],
});

/** Envoy's connect timeout when unset. */
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

const TYPES: Record<number, ClusterConfig['type']> = {
  [Cluster_DiscoveryType.STATIC]: 'STATIC',
  [Cluster_DiscoveryType.STRICT_DNS]: 'STRICT_DNS',
  [Cluster_DiscoveryType.LOGICAL_DNS]: 'LOGICAL_DNS',
  [Cluster_DiscoveryType.EDS]: 'EDS',
  [Cluster_DiscoveryType.ORIGINAL_DST]: 'ORIGINAL_DST',
};

export function clusterConfig(ctx: DecodeContext, c: Cluster): ClusterConfig {
  CLUSTER_FIELDS.check(ctx, c, '');
  if (!c.name) ctx.report('name', 'name is required');
  const type = discoveryType(ctx, c);
  const connectTimeoutMs = nonNegativeMs(
    ctx,
    c.connectTimeout,
    'connect_timeout',
    DEFAULT_CONNECT_TIMEOUT_MS,
  );
  if (c.connectTimeout && connectTimeoutMs <= 0) ctx.report('connect_timeout', 'must be greater than 0');
  checkLbConfig(ctx, c);
  const out: ClusterConfig = {
    name: c.name,
    type,
    edsServiceName: '',
    connectTimeoutMs,
    lb: lbSettingsFromProto(ctx, c),
    circuitBreakers: breakers(ctx, c),
    http: httpProtocolOptions(ctx, c.typedExtensionProtocolOptions, 'typed_extension_protocol_options'),
    transportSockets: transportSockets(ctx, c),
    istio: istioMetadata(ctx, c.metadata?.filterMetadata.istio, 'metadata.filter_metadata.istio'),
    retryBudget: retryBudget(ctx, c),
  };
  if (c.outlierDetection) {
    const od = outlier(ctx, c);
    if (od) out.outlierDetection = od;
  }
  if (type === 'EDS') {
    const eds = c.edsClusterConfig;
    if (!eds) ctx.report('eds_cluster_config', 'an EDS cluster needs eds_cluster_config');
    else {
      EDS_FIELDS.check(ctx, eds, 'eds_cluster_config');
      const src = eds.edsConfig;
      if (src?.configSourceSpecifier.case !== 'ads') {
        ctx.report('eds_cluster_config.eds_config', 'endpoints must come over ADS (eds_config.ads)');
      } else SOURCE_FIELDS.check(ctx, src, 'eds_cluster_config.eds_config');
    }
    out.edsServiceName = eds?.serviceName || c.name;
    if (c.loadAssignment)
      ctx.report('load_assignment', 'an EDS cluster takes its endpoints from EDS, not load_assignment');
  } else if (type === 'ORIGINAL_DST') {
    if (c.loadAssignment?.endpoints.length)
      ctx.report('load_assignment', 'an ORIGINAL_DST cluster has no endpoints of its own');
  } else {
    if (c.edsClusterConfig)
      ctx.report('eds_cluster_config', `a ${type} cluster does not use eds_cluster_config`);
    const requireIp = type === 'STATIC';
    const set = c.loadAssignment
      ? endpointSet(ctx, c.loadAssignment, 'load_assignment', { requireIp })
      : { clusterName: c.name, hosts: [], overprovisioningFactor: 140, weightedPriorityHealth: false };
    if (type === 'LOGICAL_DNS' && set && set.hosts.length !== 1) {
      ctx.report(
        'load_assignment',
        `a LOGICAL_DNS cluster needs exactly one endpoint, got ${set.hosts.length}`,
      );
    }
    if (set) out.inlineEndpoints = set;
  }
  if (c.upstreamBindConfig) {
    BIND_FIELDS.check(ctx, c.upstreamBindConfig, 'upstream_bind_config');
    const sa = c.upstreamBindConfig.sourceAddress;
    if (!sa) ctx.report('upstream_bind_config.source_address', 'source_address is required');
    else if (sa.portSpecifier.case === 'portValue' && sa.portSpecifier.value !== 0) {
      ctx.report(
        'upstream_bind_config.source_address.port_value',
        'binding a fixed source port is not supported',
      );
    } else out.upstreamBindAddress = sa.address;
  }
  const ka = c.upstreamConnectionOptions?.tcpKeepalive;
  if (c.upstreamConnectionOptions)
    CONNECTION_FIELDS.check(ctx, c.upstreamConnectionOptions, 'upstream_connection_options');
  if (ka) {
    KEEPALIVE_FIELDS.check(ctx, ka, 'upstream_connection_options.tcp_keepalive');
    const keepalive: NonNullable<ClusterConfig['tcpKeepalive']> = {};
    if (ka.keepaliveProbes !== undefined) keepalive.probes = ka.keepaliveProbes;
    if (ka.keepaliveTime !== undefined) keepalive.timeSec = ka.keepaliveTime;
    if (ka.keepaliveInterval !== undefined) keepalive.intervalSec = ka.keepaliveInterval;
    out.tcpKeepalive = keepalive;
  }
  if (c.perConnectionBufferLimitBytes !== undefined)
    out.perConnectionBufferLimitBytes = c.perConnectionBufferLimitBytes;
  return out;
}

function discoveryType(ctx: DecodeContext, c: Cluster): ClusterConfig['type'] {
  const d = c.clusterDiscoveryType;
  if (d.case === 'clusterType') {
    ctx.report('cluster_type', `custom cluster type "${d.value.name}" is not supported`);
    return 'STATIC';
  }
  const t = TYPES[d.case === 'type' ? d.value : Cluster_DiscoveryType.STATIC];
  if (!t) {
    ctx.report('type', `unknown discovery type ${d.value}`);
    return 'STATIC';
  }
  return t;
}

function checkLbConfig(ctx: DecodeContext, c: Cluster): void {
  const lb = c.lbConfig;
  if (lb.case === 'ringHashLbConfig') RING_FIELDS.check(ctx, lb.value, 'ring_hash_lb_config');
  else if (lb.case === 'maglevLbConfig') MAGLEV_FIELDS.check(ctx, lb.value, 'maglev_lb_config');
  else if (lb.case === 'leastRequestLbConfig')
    LEAST_REQUEST_FIELDS.check(ctx, lb.value, 'least_request_lb_config');
  if (c.commonLbConfig) COMMON_LB_FIELDS.check(ctx, c.commonLbConfig, 'common_lb_config');
}

function breakers(ctx: DecodeContext, c: Cluster): ClusterConfig['circuitBreakers'] {
  if (c.circuitBreakers) {
    BREAKER_FIELDS.check(ctx, c.circuitBreakers, 'circuit_breakers');
    c.circuitBreakers.thresholds.forEach((t, i) => {
      THRESHOLD_FIELDS.check(ctx, t, at('circuit_breakers.thresholds', i));
    });
  }
  return breakerThresholdsFromProto(c.circuitBreakers);
}

function outlier(ctx: DecodeContext, c: Cluster): ClusterConfig['outlierDetection'] {
  const od = c.outlierDetection!;
  OUTLIER_FIELDS.check(ctx, od, 'outlier_detection');
  // Envoy runs success-rate ejection unless told not to; Trellis implements only the consecutive-error kinds.
  if (od.enforcingSuccessRate === undefined || od.enforcingSuccessRate > 0) {
    ctx.report(
      'outlier_detection.enforcing_success_rate',
      'success-rate ejection is not implemented; set enforcing_success_rate to 0',
    );
  }
  for (const [field, v] of [
    ['enforcing_failure_percentage', od.enforcingFailurePercentage],
    ['enforcing_failure_percentage_local_origin', od.enforcingFailurePercentageLocalOrigin],
  ] as const) {
    if (v !== undefined && v > 0)
      ctx.report(at('outlier_detection', field), 'failure-percentage ejection is not implemented');
  }
  if (
    od.splitExternalLocalOriginErrors &&
    (od.enforcingLocalOriginSuccessRate === undefined || od.enforcingLocalOriginSuccessRate > 0)
  ) {
    ctx.report(
      'outlier_detection.enforcing_local_origin_success_rate',
      'local-origin success-rate ejection is not implemented; set it to 0',
    );
  }
  return outlierFromProto(ctx, od, c.name);
}

function transportSockets(ctx: DecodeContext, c: Cluster): TransportSocketChoice[] {
  const out: TransportSocketChoice[] = [];
  c.transportSocketMatches.forEach((m, i) => {
    const p = at('transport_socket_matches', i);
    MATCH_FIELDS.check(ctx, m, p);
    if (!m.transportSocket) {
      ctx.report(at(p, 'transport_socket'), 'transport_socket is required');
      return;
    }
    const ts = transportSocket(ctx, m.transportSocket, at(p, 'transport_socket'), 'upstream');
    if (!ts) return;
    const choice: TransportSocketChoice = { name: m.name, match: stringRecord(ctx, m.match, at(p, 'match')) };
    if (ts.kind === 'upstreamTls') choice.tls = ts.tls;
    out.push(choice);
  });
  // The cluster's own socket (raw buffer when unset) serves endpoints no match selected.
  const fallback: TransportSocketChoice = { name: 'default', match: {} };
  if (c.transportSocket) {
    const ts = transportSocket(ctx, c.transportSocket, 'transport_socket', 'upstream');
    if (ts?.kind === 'upstreamTls') fallback.tls = ts.tls;
  }
  out.push(fallback);
  return out;
}

function istioMetadata(
  ctx: DecodeContext,
  meta: JsonObject | undefined,
  path: string,
): ClusterConfig['istio'] {
  const out: { -readonly [K in keyof ClusterConfig['istio']]: ClusterConfig['istio'][K] } = { services: [] };
  if (!meta) return out;
  const services = meta.services;
  if (services !== undefined) {
    if (!Array.isArray(services))
      ctx.report(at(path, 'services'), `expected a list, got ${jsonKind(services)}`);
    else {
      out.services = services.flatMap((s, i) => {
        const o = s as JsonObject;
        if (typeof s !== 'object' || s === null || Array.isArray(s) || typeof o.host !== 'string') {
          ctx.report(at(at(path, 'services'), i), 'expected {host, name, namespace} strings');
          return [];
        }
        return [{ host: o.host, name: str(o.name), namespace: str(o.namespace) }];
      });
    }
  }
  const subset = meta.subset;
  if (typeof subset === 'string' && subset) out.subset = subset;
  const config = meta.config;
  if (typeof config === 'string' && config) out.config = config;
  const port = meta.default_original_port;
  if (typeof port === 'number') out.defaultOriginalPort = port;
  return out;
}

function str(v: JsonValue | undefined): string {
  return typeof v === 'string' ? v : '';
}

function retryBudget(ctx: DecodeContext, c: Cluster): ClusterConfig['retryBudget'] {
  const raw = c.metadata?.filterMetadata[RETRY_BUDGET_METADATA_KEY];
  try {
    return retryBudgetFromMetadata(
      raw as { percent?: unknown; min_retries_per_second?: unknown } | undefined,
      c.name,
    );
  } catch (e) {
    ctx.report(`metadata.filter_metadata["${RETRY_BUDGET_METADATA_KEY}"]`, errorMessage(e));
    return retryBudgetFromMetadata(undefined, c.name);
  }
}
