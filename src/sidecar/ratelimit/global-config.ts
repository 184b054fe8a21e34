// The global rate limit filter's config (`envoy.filters.http.ratelimit`) as internal types.

import { fromProtoDuration } from '../../shared/duration.js';
import { TrellisError } from '../../shared/errors.js';
import { ApiVersion } from '../../xds/gen/envoy/config/core/v3/config_source_pb.js';
import {
  type RateLimit,
  RateLimit_XRateLimitHeadersRFCVersion,
  RateLimitSchema,
} from '../../xds/gen/envoy/extensions/filters/http/ratelimit/v3/rate_limit_pb.js';
import { type HeaderToAdd, headersFromProto } from './headers.js';
import { decodeTypedConfig } from './typed-config.js';

export interface GlobalRateLimitConfig {
  domain: string;
  stage: number;
  requestType: 'both' | 'internal' | 'external';
  /** The RLS call's deadline (Envoy default 20 ms). */
  timeoutMs: number;
  /** Fail closed: refuse requests when the service errs or times out. Default: fail open. */
  failureModeDeny: boolean;
  rateLimitedAsResourceExhausted: boolean;
  /** `rate_limit_service.grpc_service.envoy_grpc.cluster_name`; without a service every call passes. */
  serviceCluster: string | undefined;
  serviceAuthority: string | undefined;
  xRateLimitHeaders: boolean;
  disableXEnvoyRateLimitedHeader: boolean;
  /** Default 429; below 400 becomes 429. */
  rateLimitedStatus: number;
  responseHeadersToAdd: HeaderToAdd[];
  /** Reply status when failing closed (default 500). */
  statusOnError: number;
  statPrefix: string;
}

export function globalRateLimitFromJson(
  json: unknown,
  where = 'envoy.filters.http.ratelimit',
): GlobalRateLimitConfig {
  return globalRateLimitFromProto(decodeTypedConfig(json, RateLimitSchema, where), where);
}

export function globalRateLimitFromProto(
  msg: RateLimit,
  where = 'envoy.filters.http.ratelimit',
): GlobalRateLimitConfig {
  if (!msg.domain) throw new TrellisError('FILTER_CONFIG', `${where}: domain is required`);
  if (msg.stage > 10)
    throw new TrellisError('FILTER_CONFIG', `${where}: stage must be 0-10, got ${msg.stage}`);
  const requestType = msg.requestType || 'both';
  if (requestType !== 'both' && requestType !== 'internal' && requestType !== 'external') {
    throw new TrellisError(
      'FILTER_CONFIG',
      `${where}: request_type must be internal, external or both, got "${requestType}"`,
    );
  }
  const svc = msg.rateLimitService;
  if (svc && svc.transportApiVersion !== ApiVersion.V3) {
    throw new TrellisError('FILTER_CONFIG', `${where}: rate_limit_service.transport_api_version must be V3`);
  }
  const target = svc?.grpcService?.targetSpecifier;
  if (svc && target?.case !== 'envoyGrpc') {
    throw new TrellisError(
      'FILTER_CONFIG',
      `${where}: rate_limit_service.grpc_service must use envoy_grpc (a cluster), got ${target?.case ?? 'nothing'}`,
    );
  }
  const limited = msg.rateLimitedStatus?.code ?? 429;
  return {
    domain: msg.domain,
    stage: msg.stage,
    requestType,
    timeoutMs: fromProtoDuration(msg.timeout) ?? 20,
    failureModeDeny: msg.failureModeDeny,
    rateLimitedAsResourceExhausted: msg.rateLimitedAsResourceExhausted,
    serviceCluster: target?.case === 'envoyGrpc' ? target.value.clusterName : undefined,
    serviceAuthority: target?.case === 'envoyGrpc' ? target.value.authority || undefined : undefined,
    xRateLimitHeaders: msg.enableXRatelimitHeaders === RateLimit_XRateLimitHeadersRFCVersion.DRAFT_VERSION_03,
    disableXEnvoyRateLimitedHeader: msg.disableXEnvoyRatelimitedHeader,
    rateLimitedStatus: limited < 400 ? 429 : limited,
    responseHeadersToAdd: headersFromProto(msg.responseHeadersToAdd),
    statusOnError: msg.statusOnError?.code ?? 500,
    statPrefix: msg.statPrefix,
  };
}
