// envoy.filters.network.http_connection_manager → HcmConfig, with Envoy's defaults for what is unset.

import { ConfigSourceSchema } from '../../../xds/gen/envoy/config/core/v3/config_source_pb.js';
import {
  Http1ProtocolOptionsSchema,
  Http2ProtocolOptionsSchema,
  HttpProtocolOptions_HeadersWithUnderscoresAction,
  HttpProtocolOptionsSchema,
} from '../../../xds/gen/envoy/config/core/v3/protocol_pb.js';
import {
  type HttpConnectionManager,
  HttpConnectionManager_CodecType,
  HttpConnectionManager_ForwardClientCertDetails,
  HttpConnectionManager_PathWithEscapedSlashesAction,
  HttpConnectionManager_ServerHeaderTransformation,
  HttpConnectionManager_SetCurrentClientCertDetailsSchema,
  HttpConnectionManager_UpgradeConfigSchema,
  HttpConnectionManagerSchema,
  RdsSchema,
} from '../../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { ForwardClientCert, HcmConfig } from '../model.js';
import { nonNegativeMs } from './common.js';
import { fieldPolicy } from './fields.js';
import { httpFilters } from './http-filters.js';
import { at, type DecodeContext } from './problems.js';
import { routeTable } from './route-config.js';
import { accessLogs, tracing } from './telemetry.js';

const HCM_FIELDS = fieldPolicy(HttpConnectionManagerSchema, {
  handled: [
    'codec_type',
    'stat_prefix',
    'rds',
    'route_config',
    'http_filters',
    'tracing',
    'common_http_protocol_options',
    'http_protocol_options',
    'http2_protocol_options',
    'server_name',
    'server_header_transformation',
    'max_request_headers_kb',
    'stream_idle_timeout',
    'request_timeout',
    'access_log',
    'use_remote_address',
    'xff_num_trusted_hops',
    'generate_request_id',
    'preserve_external_request_id',
    'forward_client_cert_details',
    'set_current_client_cert_details',
    'upgrade_configs',
    'normalize_path',
    'merge_slashes',
    'path_with_escaped_slashes_action',
    'strip_matching_host_port',
    'strip_any_host_port',
  ],
  // Connection shutdown pacing; HTTP/1 error-reply style.
  ignored: ['drain_timeout', 'delayed_close_timeout', 'stream_error_on_invalid_http_message'],
});
const RDS_FIELDS = fieldPolicy(RdsSchema, { handled: ['config_source', 'route_config_name'] });
const SOURCE_FIELDS = fieldPolicy(ConfigSourceSchema, {
  handled: ['ads'],
  ignored: ['resource_api_version', 'initial_fetch_timeout'],
});
const COMMON_FIELDS = fieldPolicy(HttpProtocolOptionsSchema, {
  handled: ['idle_timeout', 'max_headers_count', 'headers_with_underscores_action'],
});
const H1_FIELDS = fieldPolicy(Http1ProtocolOptionsSchema, { handled: [] });
const H2_FIELDS = fieldPolicy(Http2ProtocolOptionsSchema, {
  handled: ['max_concurrent_streams'],
  // Flow-control windows and frame-flood limits tune HTTP/2, they do not change what is forwarded.
  ignored: [
    'hpack_table_size',
    'initial_stream_window_size',
    'initial_connection_window_size',
    'max_outbound_frames',
    'max_outbound_control_frames',
    'max_consecutive_inbound_frames_with_empty_payload',
    'max_inbound_priority_frames_per_stream',
    'max_inbound_window_update_frames_per_data_frame_sent',
  ],
});
const CERT_DETAILS_FIELDS = fieldPolicy(HttpConnectionManager_SetCurrentClientCertDetailsSchema, {
  handled: ['subject', 'dns', 'uri'],
});
const UPGRADE_FIELDS = fieldPolicy(HttpConnectionManager_UpgradeConfigSchema, {
  handled: ['upgrade_type', 'enabled'],
});

/** Envoy's HCM defaults. */
const DEFAULTS = {
  streamIdleTimeoutMs: 300_000,
  idleTimeoutMs: 3_600_000,
  maxRequestHeadersKb: 60,
  maxHeadersCount: 100,
  maxConcurrentStreams: 2147483647,
  serverName: 'envoy',
};

const FCC: Record<number, ForwardClientCert> = {
  [HttpConnectionManager_ForwardClientCertDetails.SANITIZE]: 'SANITIZE',
  [HttpConnectionManager_ForwardClientCertDetails.FORWARD_ONLY]: 'FORWARD_ONLY',
  [HttpConnectionManager_ForwardClientCertDetails.APPEND_FORWARD]: 'APPEND_FORWARD',
  [HttpConnectionManager_ForwardClientCertDetails.SANITIZE_SET]: 'SANITIZE_SET',
  [HttpConnectionManager_ForwardClientCertDetails.ALWAYS_FORWARD_ONLY]: 'ALWAYS_FORWARD_ONLY',
};

const ESCAPED: Record<number, HcmConfig['escapedSlashes']> = {
  [HttpConnectionManager_PathWithEscapedSlashesAction.IMPLEMENTATION_SPECIFIC_DEFAULT]: 'keep',
  [HttpConnectionManager_PathWithEscapedSlashesAction.KEEP_UNCHANGED]: 'keep',
  [HttpConnectionManager_PathWithEscapedSlashesAction.REJECT_REQUEST]: 'reject',
  [HttpConnectionManager_PathWithEscapedSlashesAction.UNESCAPE_AND_REDIRECT]: 'unescape_and_redirect',
  [HttpConnectionManager_PathWithEscapedSlashesAction.UNESCAPE_AND_FORWARD]: 'unescape_and_forward',
};

const UNDERSCORES: Record<number, HcmConfig['headersWithUnderscores']> = {
  [HttpProtocolOptions_HeadersWithUnderscoresAction.ALLOW]: 'allow',
  [HttpProtocolOptions_HeadersWithUnderscoresAction.REJECT_REQUEST]: 'reject',
  [HttpProtocolOptions_HeadersWithUnderscoresAction.DROP_HEADER]: 'drop',
};

export function hcmConfig(ctx: DecodeContext, h: HttpConnectionManager, path: string): HcmConfig {
  HCM_FIELDS.check(ctx, h, path);
  if (!h.statPrefix) ctx.report(at(path, 'stat_prefix'), 'stat_prefix is required');
  const out: HcmConfig = {
    statPrefix: h.statPrefix,
    codec: codec(ctx, h.codecType, at(path, 'codec_type')),
    httpFilters: httpFilters(ctx, h.httpFilters, at(path, 'http_filters')),
    useRemoteAddress: h.useRemoteAddress ?? false,
    xffNumTrustedHops: h.xffNumTrustedHops,
    forwardClientCert: FCC[h.forwardClientCertDetails] ?? 'SANITIZE',
    setCurrentClientCert: { subject: false, uri: false, dns: false },
    generateRequestId: h.generateRequestId ?? true,
    preserveExternalRequestId: h.preserveExternalRequestId,
    normalizePath: h.normalizePath ?? false,
    mergeSlashes: h.mergeSlashes,
    escapedSlashes: ESCAPED[h.pathWithEscapedSlashesAction] ?? 'keep',
    stripPort:
      h.stripPortMode.case === 'stripAnyHostPort' && h.stripPortMode.value
        ? 'any'
        : h.stripMatchingHostPort
          ? 'matching'
          : 'none',
    headersWithUnderscores: 'allow',
    streamIdleTimeoutMs: nonNegativeMs(
      ctx,
      h.streamIdleTimeout,
      at(path, 'stream_idle_timeout'),
      DEFAULTS.streamIdleTimeoutMs,
    ),
    requestTimeoutMs: nonNegativeMs(ctx, h.requestTimeout, at(path, 'request_timeout'), 0),
    idleTimeoutMs: DEFAULTS.idleTimeoutMs,
    maxRequestHeadersKb: h.maxRequestHeadersKb ?? DEFAULTS.maxRequestHeadersKb,
    maxHeadersCount: DEFAULTS.maxHeadersCount,
    maxConcurrentStreams: DEFAULTS.maxConcurrentStreams,
    serverName: h.serverName || DEFAULTS.serverName,
    websocket: false,
    accessLog: accessLogs(ctx, h.accessLog, at(path, 'access_log')),
  };
  const route = h.routeSpecifier;
  if (route.case === 'rds') {
    const p = at(path, 'rds');
    RDS_FIELDS.check(ctx, route.value, p);
    const src = route.value.configSource;
    if (src?.configSourceSpecifier.case !== 'ads') {
      ctx.report(at(p, 'config_source'), 'route configurations must come over ADS (config_source.ads)');
    } else SOURCE_FIELDS.check(ctx, src, at(p, 'config_source'));
    if (!route.value.routeConfigName) ctx.report(at(p, 'route_config_name'), 'route_config_name is required');
    out.rds = route.value.routeConfigName;
  } else if (route.case === 'routeConfig') {
    out.routeConfig = routeTable(ctx, route.value, at(path, 'route_config'));
  } else {
    ctx.report(
      path,
      route.case
        ? `${route.case} is not supported; use rds or route_config`
        : 'rds or route_config is required',
    );
  }
  if (h.serverHeaderTransformation !== HttpConnectionManager_ServerHeaderTransformation.OVERWRITE) {
    ctx.report(at(path, 'server_header_transformation'), 'only OVERWRITE is supported');
  }
  if (h.setCurrentClientCertDetails) {
    const d = h.setCurrentClientCertDetails;
    CERT_DETAILS_FIELDS.check(ctx, d, at(path, 'set_current_client_cert_details'));
    out.setCurrentClientCert = { subject: d.subject ?? false, uri: d.uri, dns: d.dns };
  }
  const common = h.commonHttpProtocolOptions;
  if (common) {
    const p = at(path, 'common_http_protocol_options');
    COMMON_FIELDS.check(ctx, common, p);
    out.idleTimeoutMs = nonNegativeMs(ctx, common.idleTimeout, at(p, 'idle_timeout'), DEFAULTS.idleTimeoutMs);
    out.maxHeadersCount = common.maxHeadersCount ?? DEFAULTS.maxHeadersCount;
    out.headersWithUnderscores = UNDERSCORES[common.headersWithUnderscoresAction] ?? 'allow';
  }
  if (h.httpProtocolOptions) H1_FIELDS.check(ctx, h.httpProtocolOptions, at(path, 'http_protocol_options'));
  if (h.http2ProtocolOptions) {
    H2_FIELDS.check(ctx, h.http2ProtocolOptions, at(path, 'http2_protocol_options'));
    out.maxConcurrentStreams = h.http2ProtocolOptions.maxConcurrentStreams ?? DEFAULTS.maxConcurrentStreams;
  }
  h.upgradeConfigs.forEach((u, i) => {
    const p = at(at(path, 'upgrade_configs'), i);
    UPGRADE_FIELDS.check(ctx, u, p);
    if (u.upgradeType.toLowerCase() !== 'websocket') {
      ctx.report(at(p, 'upgrade_type'), `upgrade type "${u.upgradeType}" is not supported (only websocket)`);
    } else out.websocket = u.enabled ?? true;
  });
  if (h.tracing) {
    const t = tracing(ctx, h.tracing, at(path, 'tracing'));
    if (t) out.tracing = t;
  }
  return out;
}

function codec(ctx: DecodeContext, c: HttpConnectionManager_CodecType, path: string): HcmConfig['codec'] {
  switch (c) {
    case HttpConnectionManager_CodecType.AUTO:
      return 'auto';
    case HttpConnectionManager_CodecType.HTTP1:
      return 'http1';
    case HttpConnectionManager_CodecType.HTTP2:
      return 'http2';
    default:
      ctx.report(path, `codec ${HttpConnectionManager_CodecType[c] ?? c} is not supported`);
      return 'auto';
  }
}
