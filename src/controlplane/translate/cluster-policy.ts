// DestinationRule traffic policy → Envoy cluster settings: load balancer, circuit breakers, outlier detection.

import type { JsonObject } from '@bufbuild/protobuf';
import type { TrafficPolicy } from '../../api/types/index.js';
import type { Protocol } from '../../registry/model.js';
import { parseDuration } from '../../shared/duration.js';
import {
  RETRY_BUDGET_ANNOTATION,
  resolveRetryBudget,
  retryBudgetMetadata,
} from '../../shared/retry-budget.js';
import type { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { Cluster_LbPolicy } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { Http2ProtocolOptionsSchema } from '../../xds/gen/envoy/config/core/v3/protocol_pb.js';
import { HttpProtocolOptionsSchema } from '../../xds/gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { HTTP_PROTOCOL_OPTIONS_TYPE } from '../../xds/type-urls.js';
import { duration, type Init, MAX_UINT32, ms, typed } from './envoy.js';

export type ClusterInit = Init<typeof ClusterSchema>;

/** Which HTTP codec the cluster speaks upstream; `auto` follows the downstream request (sniffed ports). */
export type UpstreamHttp = 'http1' | 'http2' | 'auto' | 'none';

export function upstreamHttpFor(protocol: Protocol): UpstreamHttp {
  switch (protocol) {
    case 'HTTP':
      return 'http1';
    case 'HTTP2':
    case 'GRPC':
      return 'http2';
    case 'UNKNOWN':
      return 'auto';
    default:
      return 'none';
  }
}

/** Istio's defaults: every threshold at MaxUint32, so circuit breaking is off until a DestinationRule sets it. */
export function circuitBreakers(policy: TrafficPolicy | undefined) {
  const tcp = policy?.connectionPool?.tcp;
  const http = policy?.connectionPool?.http;
  return {
    thresholds: [
      {
        maxConnections: tcp?.maxConnections ?? MAX_UINT32,
        maxPendingRequests: http?.http1MaxPendingRequests ?? MAX_UINT32,
        maxRequests: http?.http2MaxRequests ?? MAX_UINT32,
        maxRetries: http?.maxRetries ?? MAX_UINT32,
        trackRemaining: true,
      },
    ],
  };
}

export function httpProtocolOptions(policy: TrafficPolicy | undefined, upstream: UpstreamHttp) {
  const http = policy?.connectionPool?.http;
  const tcp = policy?.connectionPool?.tcp;
  const idle = duration(http?.idleTimeout) ?? ms(3_600_000);
  const h2 = { maxConcurrentStreams: http?.maxConcurrentStreams };
  const explicit =
    upstream === 'http2' || (upstream === 'auto' && http?.h2UpgradePolicy === 'UPGRADE')
      ? {
          case: 'explicitHttpConfig' as const,
          value: { protocolConfig: { case: 'http2ProtocolOptions' as const, value: h2 } },
        }
      : upstream === 'auto'
        ? {
            case: 'useDownstreamProtocolConfig' as const,
            value: { httpProtocolOptions: {}, http2ProtocolOptions: h2 },
          }
        : {
            case: 'explicitHttpConfig' as const,
            value: { protocolConfig: { case: 'httpProtocolOptions' as const, value: {} } },
          };
  return typed(HttpProtocolOptionsSchema, {
    commonHttpProtocolOptions: {
      idleTimeout: idle,
      maxRequestsPerConnection: http?.maxRequestsPerConnection || undefined,
      maxConnectionDuration: duration(tcp?.maxConnectionDuration),
    },
    upstreamProtocolOptions: explicit,
  });
}

export { HTTP_PROTOCOL_OPTIONS_TYPE, Http2ProtocolOptionsSchema };

/** Istio maps LEAST_CONN to LEAST_REQUEST and PASSTHROUGH to an ORIGINAL_DST cluster (handled by the caller). */
export function loadBalancerFields(policy: TrafficPolicy | undefined): Partial<ClusterInit> {
  const lb = policy?.loadBalancer;
  const hash = lb?.consistentHash;
  if (hash) {
    if (hash.maglev) {
      return {
        lbPolicy: Cluster_LbPolicy.MAGLEV,
        lbConfig: {
          case: 'maglevLbConfig',
          value: { tableSize: hash.maglev.tableSize ? BigInt(hash.maglev.tableSize) : undefined },
        },
      };
    }
    const min = hash.ringHash?.minimumRingSize ?? hash.minimumRingSize;
    return {
      lbPolicy: Cluster_LbPolicy.RING_HASH,
      lbConfig: { case: 'ringHashLbConfig', value: { minimumRingSize: min ? BigInt(min) : undefined } },
    };
  }
  switch (lb?.simple) {
    case 'LEAST_CONN':
    case 'LEAST_REQUEST':
      return { lbPolicy: Cluster_LbPolicy.LEAST_REQUEST };
    case 'RANDOM':
      return { lbPolicy: Cluster_LbPolicy.RANDOM };
    default:
      return { lbPolicy: Cluster_LbPolicy.ROUND_ROBIN };
  }
}

/** Istio's outlierDetection mapping; minHealthPercent becomes the healthy panic threshold (0 disables panic mode). */
export function outlierFields(policy: TrafficPolicy | undefined): Partial<ClusterInit> {
  const od = policy?.outlierDetection;
  if (!od) return {};
  const c5xx = od.consecutive5xxErrors ?? od.consecutiveErrors;
  const out: Partial<ClusterInit> = {
    outlierDetection: {
      consecutive5xx: c5xx === undefined ? undefined : c5xx,
      enforcingConsecutive5xx: c5xx === 0 ? 0 : 100,
      consecutiveGatewayFailure: od.consecutiveGatewayErrors || undefined,
      enforcingConsecutiveGatewayFailure: od.consecutiveGatewayErrors ? 100 : 0,
      consecutiveLocalOriginFailure: od.consecutiveLocalOriginFailures,
      enforcingConsecutiveLocalOriginFailure: od.splitExternalLocalOriginErrors ? 100 : undefined,
      splitExternalLocalOriginErrors: od.splitExternalLocalOriginErrors ?? false,
      interval: duration(od.interval),
      baseEjectionTime: duration(od.baseEjectionTime),
      maxEjectionPercent: od.maxEjectionPercent,
      enforcingSuccessRate: 0,
      // Older Envoy always let one host be ejected whatever the percentage; newer Envoy needs this flag, and
      // without it a 3-host cluster with the default 10% could never eject a failing host.
      alwaysEjectOneHost: true,
    },
    commonLbConfig: { healthyPanicThreshold: { value: od.minHealthPercent ?? 0 } },
  };
  return out;
}

export function tcpKeepalive(policy: TrafficPolicy | undefined): Partial<ClusterInit> {
  const ka = policy?.connectionPool?.tcp?.tcpKeepalive;
  if (!ka) return {};
  const secs = (t?: string) => (t === undefined ? undefined : Math.round((parseDuration(t) ?? 0) / 1000));
  return {
    upstreamConnectionOptions: {
      tcpKeepalive: {
        keepaliveProbes: ka.probes,
        keepaliveTime: secs(ka.time),
        keepaliveInterval: secs(ka.interval),
      },
    },
  };
}

/** Trellis's retry budget travels as cluster metadata (docs/xds-contract.md §5); an Envoy data plane ignores it.
 *  Only set when the DestinationRule asks; the sidecar applies its default budget otherwise. */
export function retryBudgetMetadataFor(
  policy: TrafficPolicy | undefined,
  annotations?: Record<string, string>,
): JsonObject | undefined {
  if (!policy?.retryBudget && annotations?.[RETRY_BUDGET_ANNOTATION] === undefined) return undefined;
  try {
    return retryBudgetMetadata(resolveRetryBudget({ spec: policy?.retryBudget, annotations }));
  } catch {
    // Validation rejects bad budgets before they reach translation; a stale one falls back to the default.
    return undefined;
  }
}
