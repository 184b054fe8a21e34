// A cluster's upstream HTTP settings (envoy.extensions.upstreams.http.v3.HttpProtocolOptions): codec, idle, limits.

import type { Any } from '@bufbuild/protobuf/wkt';
import type { Http2ProtocolOptions } from '../../../xds/gen/envoy/config/core/v3/protocol_pb.js';
import {
  HttpProtocolOptionsSchema as CommonHttpProtocolOptionsSchema,
  Http1ProtocolOptionsSchema,
  Http2ProtocolOptionsSchema,
} from '../../../xds/gen/envoy/config/core/v3/protocol_pb.js';
import {
  HttpProtocolOptions_ExplicitHttpConfigSchema,
  HttpProtocolOptions_UseDownstreamHttpConfigSchema,
  HttpProtocolOptionsSchema,
} from '../../../xds/gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import type { ClusterConfig } from '../model.js';
import { nonNegativeMs } from './common.js';
import { fieldPolicy } from './fields.js';
import { at, type DecodeContext } from './problems.js';
import { unpackTyped } from './typed.js';

export const HTTP_PROTOCOL_OPTIONS_KEY = HttpProtocolOptionsSchema.typeName;

const OPTIONS_FIELDS = fieldPolicy(HttpProtocolOptionsSchema, {
  handled: ['common_http_protocol_options', 'explicit_http_config', 'use_downstream_protocol_config'],
});
const COMMON_FIELDS = fieldPolicy(CommonHttpProtocolOptionsSchema, {
  handled: ['idle_timeout', 'max_requests_per_connection', 'max_connection_duration'],
});
const EXPLICIT_FIELDS = fieldPolicy(HttpProtocolOptions_ExplicitHttpConfigSchema, {
  handled: ['http_protocol_options', 'http2_protocol_options'],
});
const DOWNSTREAM_FIELDS = fieldPolicy(HttpProtocolOptions_UseDownstreamHttpConfigSchema, {
  handled: ['http_protocol_options', 'http2_protocol_options'],
});
const H1_FIELDS = fieldPolicy(Http1ProtocolOptionsSchema, { handled: [] });
const H2_FIELDS = fieldPolicy(Http2ProtocolOptionsSchema, {
  handled: ['max_concurrent_streams'],
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

/** Envoy's upstream defaults: HTTP/1.1, 1 h idle timeout, no request cap, 2^31-1 HTTP/2 streams. */
export const DEFAULT_UPSTREAM_HTTP: ClusterConfig['http'] = Object.freeze({
  protocol: 'http1',
  idleTimeoutMs: 3_600_000,
  maxRequestsPerConnection: 0,
  maxConcurrentStreams: 2147483647,
});

export function httpProtocolOptions(
  ctx: DecodeContext,
  map: { [key: string]: Any },
  path: string,
): ClusterConfig['http'] {
  let out: ClusterConfig['http'] = { ...DEFAULT_UPSTREAM_HTTP };
  for (const key of Object.keys(map)) {
    const p = `${path}["${key}"]`;
    if (key !== HTTP_PROTOCOL_OPTIONS_KEY) {
      ctx.report(p, `unsupported protocol options ${key}`);
      continue;
    }
    const m = unpackTyped(ctx, map[key]!, HttpProtocolOptionsSchema, p);
    if (!m) continue;
    OPTIONS_FIELDS.check(ctx, m, p);
    out = { ...DEFAULT_UPSTREAM_HTTP };
    const common = m.commonHttpProtocolOptions;
    if (common) {
      const cp = at(p, 'common_http_protocol_options');
      COMMON_FIELDS.check(ctx, common, cp);
      out.idleTimeoutMs = nonNegativeMs(
        ctx,
        common.idleTimeout,
        at(cp, 'idle_timeout'),
        DEFAULT_UPSTREAM_HTTP.idleTimeoutMs,
      );
      out.maxRequestsPerConnection = common.maxRequestsPerConnection ?? 0;
      if (common.maxConnectionDuration) {
        const d = nonNegativeMs(ctx, common.maxConnectionDuration, at(cp, 'max_connection_duration'), 0);
        if (d > 0) out.maxConnectionDurationMs = d;
      }
    }
    const h2 = (o: Http2ProtocolOptions | undefined, op: string) => {
      if (!o) return;
      H2_FIELDS.check(ctx, o, op);
      out.maxConcurrentStreams = o.maxConcurrentStreams ?? DEFAULT_UPSTREAM_HTTP.maxConcurrentStreams;
    };
    const proto = m.upstreamProtocolOptions;
    if (proto.case === 'explicitHttpConfig') {
      const ep = at(p, 'explicit_http_config');
      EXPLICIT_FIELDS.check(ctx, proto.value, ep);
      const pc = proto.value.protocolConfig;
      if (pc.case === 'httpProtocolOptions') {
        H1_FIELDS.check(ctx, pc.value, at(ep, 'http_protocol_options'));
        out.protocol = 'http1';
      } else if (pc.case === 'http2ProtocolOptions') {
        h2(pc.value, at(ep, 'http2_protocol_options'));
        out.protocol = 'http2';
      } else {
        ctx.report(ep, 'explicit_http_config needs http_protocol_options or http2_protocol_options');
      }
    } else if (proto.case === 'useDownstreamProtocolConfig') {
      const dp = at(p, 'use_downstream_protocol_config');
      DOWNSTREAM_FIELDS.check(ctx, proto.value, dp);
      if (proto.value.httpProtocolOptions)
        H1_FIELDS.check(ctx, proto.value.httpProtocolOptions, at(dp, 'http_protocol_options'));
      h2(proto.value.http2ProtocolOptions, at(dp, 'http2_protocol_options'));
      out.protocol = 'auto';
    } else if (proto.case === undefined) {
      ctx.report(
        p,
        'upstream_protocol_options is required (explicit_http_config or use_downstream_protocol_config)',
      );
    }
  }
  return out;
}
