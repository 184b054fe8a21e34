// envoy.filters.http.ext_authz (ExtAuthz) → ExtAuthzConfig: an HTTP or gRPC check service reached through a cluster.

import { ApiVersion } from '../../../xds/gen/envoy/config/core/v3/config_source_pb.js';
import {
  GrpcService_EnvoyGrpcSchema,
  GrpcServiceSchema,
} from '../../../xds/gen/envoy/config/core/v3/grpc_service_pb.js';
import { HttpUriSchema } from '../../../xds/gen/envoy/config/core/v3/http_uri_pb.js';
import {
  AuthorizationRequestSchema,
  AuthorizationResponseSchema,
  type ExtAuthz,
  ExtAuthzSchema,
  HttpServiceSchema,
} from '../../../xds/gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import type { ListStringMatcher } from '../../../xds/gen/envoy/type/matcher/v3/string_pb.js';
import type { ExtAuthzConfig, MetadataMatcher, StringMatch } from '../model.js';
import { fraction, nonNegativeMs } from './common.js';
import { fieldPolicy } from './fields.js';
import { metadataMatcher, stringMatcher } from './matchers.js';
import { at, type DecodeContext } from './problems.js';

const FIELDS = fieldPolicy(ExtAuthzSchema, {
  handled: [
    'grpc_service',
    'http_service',
    'transport_api_version',
    'failure_mode_allow',
    'status_on_error',
    'filter_enabled',
    'filter_enabled_metadata',
  ],
  ignored: ['stat_prefix', 'charge_cluster_response_stats'],
});
const HTTP_SERVICE_FIELDS = fieldPolicy(HttpServiceSchema, {
  handled: ['server_uri', 'path_prefix', 'authorization_request', 'authorization_response'],
});
const URI_FIELDS = fieldPolicy(HttpUriSchema, { handled: ['uri', 'cluster', 'timeout'] });
const REQUEST_FIELDS = fieldPolicy(AuthorizationRequestSchema, { handled: ['allowed_headers'] });
const RESPONSE_FIELDS = fieldPolicy(AuthorizationResponseSchema, {
  handled: ['allowed_upstream_headers', 'allowed_client_headers'],
});
const GRPC_FIELDS = fieldPolicy(GrpcServiceSchema, { handled: ['envoy_grpc', 'timeout'] });
const ENVOY_GRPC_FIELDS = fieldPolicy(GrpcService_EnvoyGrpcSchema, {
  handled: ['cluster_name', 'authority'],
});

/** Envoy's ext_authz default deadline for the check call. */
const DEFAULT_GRPC_TIMEOUT_MS = 200;

export function extAuthzConfig(ctx: DecodeContext, f: ExtAuthz, path: string): ExtAuthzConfig | undefined {
  FIELDS.check(ctx, f, path);
  if (f.transportApiVersion === ApiVersion.V2) {
    ctx.report(at(path, 'transport_api_version'), 'the v2 ext_authz protocol is not supported; use V3');
  }
  if (
    f.filterEnabled &&
    fraction(ctx, f.filterEnabled.defaultValue, at(path, 'filter_enabled.default_value'), 1) < 1
  ) {
    ctx.report(at(path, 'filter_enabled'), 'ext_authz enabled for a fraction of requests is not supported');
  }
  let enabledMetadata: MetadataMatcher | undefined;
  if (f.filterEnabledMetadata) {
    enabledMetadata = metadataMatcher(ctx, f.filterEnabledMetadata, at(path, 'filter_enabled_metadata'));
  }
  const service = serviceOf(ctx, f, path);
  if (!service) return undefined;
  const out: ExtAuthzConfig = {
    service,
    failureModeAllow: f.failureModeAllow,
    statusOnError: f.statusOnError?.code || 403,
  };
  if (enabledMetadata) out.enabledMetadata = enabledMetadata;
  return out;
}

function serviceOf(ctx: DecodeContext, f: ExtAuthz, path: string): ExtAuthzConfig['service'] | undefined {
  const s = f.services;
  if (s.case === 'httpService') {
    const p = at(path, 'http_service');
    HTTP_SERVICE_FIELDS.check(ctx, s.value, p);
    const uri = s.value.serverUri;
    if (!uri) {
      ctx.report(at(p, 'server_uri'), 'server_uri is required');
      return undefined;
    }
    URI_FIELDS.check(ctx, uri, at(p, 'server_uri'));
    if (uri.httpUpstreamType.case !== 'cluster' || !uri.httpUpstreamType.value) {
      ctx.report(at(p, 'server_uri.cluster'), 'the authorization service must be reached through a cluster');
      return undefined;
    }
    if (!uri.timeout) ctx.report(at(p, 'server_uri.timeout'), 'timeout is required');
    const req = s.value.authorizationRequest;
    if (req) REQUEST_FIELDS.check(ctx, req, at(p, 'authorization_request'));
    const res = s.value.authorizationResponse;
    if (res) RESPONSE_FIELDS.check(ctx, res, at(p, 'authorization_response'));
    return {
      kind: 'http',
      cluster: uri.httpUpstreamType.value,
      uri: uri.uri,
      pathPrefix: s.value.pathPrefix,
      timeoutMs: nonNegativeMs(ctx, uri.timeout, at(p, 'server_uri.timeout'), 0),
      allowedHeaders: patterns(ctx, req?.allowedHeaders, at(p, 'authorization_request.allowed_headers')),
      allowedUpstreamHeaders: patterns(
        ctx,
        res?.allowedUpstreamHeaders,
        at(p, 'authorization_response.allowed_upstream_headers'),
      ),
      allowedClientHeaders: patterns(
        ctx,
        res?.allowedClientHeaders,
        at(p, 'authorization_response.allowed_client_headers'),
      ),
    };
  }
  if (s.case === 'grpcService') {
    const p = at(path, 'grpc_service');
    GRPC_FIELDS.check(ctx, s.value, p);
    const target = s.value.targetSpecifier;
    if (target.case !== 'envoyGrpc') {
      ctx.report(p, `only envoy_grpc (a cluster) is supported, got ${target.case ?? 'nothing'}`);
      return undefined;
    }
    ENVOY_GRPC_FIELDS.check(ctx, target.value, at(p, 'envoy_grpc'));
    if (!target.value.clusterName) ctx.report(at(p, 'envoy_grpc.cluster_name'), 'cluster_name is required');
    return {
      kind: 'grpc',
      cluster: target.value.clusterName,
      authority: target.value.authority,
      timeoutMs: nonNegativeMs(ctx, s.value.timeout, at(p, 'timeout'), DEFAULT_GRPC_TIMEOUT_MS),
    };
  }
  ctx.report(path, 'http_service or grpc_service is required');
  return undefined;
}

function patterns(ctx: DecodeContext, list: ListStringMatcher | undefined, path: string): StringMatch[] {
  const out: StringMatch[] = [];
  list?.patterns.forEach((m, i) => {
    const s = stringMatcher(ctx, m, at(at(path, 'patterns'), i));
    if (s) out.push(s);
  });
  return out;
}
