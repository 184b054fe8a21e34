// Access logs (file logger, text or JSON format) and HCM tracing (Zipkin or OpenTelemetry over HTTP).

import type { JsonObject } from '@bufbuild/protobuf';
import { type AccessLog, AccessLogSchema } from '../../../xds/gen/envoy/config/accesslog/v3/accesslog_pb.js';
import { HttpServiceSchema } from '../../../xds/gen/envoy/config/core/v3/http_service_pb.js';
import { HttpUriSchema } from '../../../xds/gen/envoy/config/core/v3/http_uri_pb.js';
import { SubstitutionFormatStringSchema } from '../../../xds/gen/envoy/config/core/v3/substitution_format_string_pb.js';
import { Tracing_HttpSchema } from '../../../xds/gen/envoy/config/trace/v3/http_tracer_pb.js';
import { OpenTelemetryConfigSchema } from '../../../xds/gen/envoy/config/trace/v3/opentelemetry_pb.js';
import {
  ZipkinConfig_CollectorEndpointVersion,
  ZipkinConfigSchema,
} from '../../../xds/gen/envoy/config/trace/v3/zipkin_pb.js';
import {
  type FileAccessLog,
  FileAccessLogSchema,
} from '../../../xds/gen/envoy/extensions/access_loggers/file/v3/file_pb.js';
import {
  type HttpConnectionManager_Tracing,
  HttpConnectionManager_TracingSchema,
} from '../../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { CustomTagSchema } from '../../../xds/gen/envoy/type/tracing/v3/custom_tag_pb.js';
import type { AccessLogConfig, TracingConfig } from '../model.js';
import { jsonKind, nonNegativeMs } from './common.js';
import { fieldPolicy } from './fields.js';
import { at, type DecodeContext } from './problems.js';
import { effectiveTypeUrl, requireTyped, typeUrlOf, unpackTyped } from './typed.js';

const ACCESS_LOG_FIELDS = fieldPolicy(AccessLogSchema, { handled: ['name', 'typed_config'] });
const FILE_LOG_FIELDS = fieldPolicy(FileAccessLogSchema, {
  handled: ['path', 'format', 'json_format', 'log_format'],
});
const FORMAT_FIELDS = fieldPolicy(SubstitutionFormatStringSchema, {
  handled: ['text_format', 'json_format', 'text_format_source'],
  ignored: ['content_type'],
});
const TRACING_FIELDS = fieldPolicy(HttpConnectionManager_TracingSchema, {
  handled: [
    'random_sampling',
    'client_sampling',
    'overall_sampling',
    'custom_tags',
    'provider',
    'spawn_upstream_span',
  ],
  // Span decoration only: more annotations, a shorter http.url tag.
  ignored: ['verbose', 'max_path_tag_length'],
});
const PROVIDER_FIELDS = fieldPolicy(Tracing_HttpSchema, { handled: ['name', 'typed_config'] });
const TAG_FIELDS = fieldPolicy(CustomTagSchema, { handled: ['tag', 'literal'] });
const ZIPKIN_FIELDS = fieldPolicy(ZipkinConfigSchema, {
  handled: [
    'collector_cluster',
    'collector_endpoint',
    'trace_id_128bit',
    'shared_span_context',
    'collector_endpoint_version',
  ],
});
const OTEL_FIELDS = fieldPolicy(OpenTelemetryConfigSchema, { handled: ['http_service', 'service_name'] });
const OTEL_HTTP_FIELDS = fieldPolicy(HttpServiceSchema, { handled: ['http_uri'] });
const URI_FIELDS = fieldPolicy(HttpUriSchema, { handled: ['uri', 'cluster', 'timeout'] });

export function accessLogs(ctx: DecodeContext, list: readonly AccessLog[], path: string): AccessLogConfig[] {
  const out: AccessLogConfig[] = [];
  list.forEach((log, i) => {
    const p = at(path, i);
    ACCESS_LOG_FIELDS.check(ctx, log, p);
    const any = requireTyped(ctx, log.configType, p);
    if (!any) return;
    const type = effectiveTypeUrl(any);
    if (type !== typeUrlOf(FileAccessLogSchema)) {
      ctx.report(
        at(p, 'typed_config'),
        `unsupported access logger ${type} ("${log.name}"); use envoy.access_loggers.file`,
      );
      return;
    }
    const tp = at(p, 'typed_config');
    const file = unpackTyped(ctx, any, FileAccessLogSchema, tp);
    if (!file) return;
    FILE_LOG_FIELDS.check(ctx, file, tp);
    if (!file.path) ctx.report(at(tp, 'path'), 'path is required');
    const format = logFormat(ctx, file.accessLogFormat, tp);
    if (format) out.push({ path: file.path, format });
  });
  return out;
}

function logFormat(
  ctx: DecodeContext,
  f: FileAccessLog['accessLogFormat'],
  path: string,
): AccessLogConfig['format'] | undefined {
  switch (f.case) {
    case undefined:
      // Envoy's default format.
      return { kind: 'text', text: '' };
    case 'format':
      return { kind: 'text', text: f.value };
    case 'jsonFormat':
      return jsonFormat(ctx, f.value, at(path, 'json_format'));
    case 'logFormat': {
      const p = at(path, 'log_format');
      FORMAT_FIELDS.check(ctx, f.value, p);
      const inner = f.value.format;
      if (inner.case === 'textFormat') return { kind: 'text', text: inner.value };
      if (inner.case === 'jsonFormat') return jsonFormat(ctx, inner.value, at(p, 'json_format'));
      if (inner.case === 'textFormatSource') {
        const s = inner.value.specifier;
        if (s.case === 'inlineString') return { kind: 'text', text: s.value };
        if (s.case === 'inlineBytes') return { kind: 'text', text: Buffer.from(s.value).toString('utf8') };
        ctx.report(at(p, 'text_format_source'), 'only inline text formats are supported');
        return undefined;
      }
      return { kind: 'text', text: '' };
    }
    default:
      ctx.report(at(path, 'typed_json_format'), 'typed_json_format is not supported; use json_format');
      return undefined;
  }
}

function jsonFormat(
  ctx: DecodeContext,
  obj: JsonObject,
  path: string,
): AccessLogConfig['format'] | undefined {
  const json: Record<string, string> = {};
  let ok = true;
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'string') json[k] = v;
    else {
      ctx.report(at(path, k), `JSON access log values must be format strings, got ${jsonKind(v)}`);
      ok = false;
    }
  }
  return ok ? { kind: 'json', json } : undefined;
}

/** Sampling in percent; a client/overall sampling below 100% is a policy Trellis does not implement. */
export function tracing(
  ctx: DecodeContext,
  t: HttpConnectionManager_Tracing,
  path: string,
): TracingConfig | undefined {
  TRACING_FIELDS.check(ctx, t, path);
  for (const [field, v] of [
    ['client_sampling', t.clientSampling],
    ['overall_sampling', t.overallSampling],
  ] as const) {
    if (v && v.value < 100) ctx.report(at(path, field), `${field} below 100% is not supported`);
  }
  const sampling = t.randomSampling?.value ?? 100;
  if (sampling < 0 || sampling > 100)
    ctx.report(at(path, 'random_sampling'), `must be 0-100, got ${sampling}`);
  const customTags: { tag: string; literal: string }[] = [];
  t.customTags.forEach((tag, i) => {
    const p = at(at(path, 'custom_tags'), i);
    TAG_FIELDS.check(ctx, tag, p);
    if (tag.type.case === 'literal') customTags.push({ tag: tag.tag, literal: tag.type.value.value });
    else if (tag.type.case === undefined) ctx.report(p, 'a custom tag needs a value');
  });
  if (!t.provider) {
    ctx.report(at(path, 'provider'), 'a tracing provider is required');
    return undefined;
  }
  const provider = tracingProvider(ctx, t.provider, at(path, 'provider'));
  if (!provider) return undefined;
  return {
    randomSamplingPercent: sampling,
    provider,
    customTags,
    spawnUpstreamSpan: t.spawnUpstreamSpan ?? false,
  };
}

function tracingProvider(
  ctx: DecodeContext,
  p: NonNullable<HttpConnectionManager_Tracing['provider']>,
  path: string,
): TracingConfig['provider'] | undefined {
  PROVIDER_FIELDS.check(ctx, p, path);
  const any = requireTyped(ctx, p.configType, path);
  if (!any) return undefined;
  const type = effectiveTypeUrl(any);
  const tp = at(path, 'typed_config');
  if (type === typeUrlOf(ZipkinConfigSchema)) {
    const z = unpackTyped(ctx, any, ZipkinConfigSchema, tp);
    if (!z) return undefined;
    ZIPKIN_FIELDS.check(ctx, z, tp);
    if (z.collectorEndpointVersion !== ZipkinConfig_CollectorEndpointVersion.HTTP_JSON) {
      ctx.report(at(tp, 'collector_endpoint_version'), 'only HTTP_JSON is supported');
    }
    if (!z.collectorCluster) ctx.report(at(tp, 'collector_cluster'), 'collector_cluster is required');
    return {
      kind: 'zipkin',
      collectorCluster: z.collectorCluster,
      endpoint: z.collectorEndpoint,
      traceId128bit: z.traceId128bit,
      sharedSpanContext: z.sharedSpanContext ?? true,
    };
  }
  if (type === typeUrlOf(OpenTelemetryConfigSchema)) {
    const o = unpackTyped(ctx, any, OpenTelemetryConfigSchema, tp);
    if (!o) return undefined;
    OTEL_FIELDS.check(ctx, o, tp);
    const uri = o.httpService?.httpUri;
    if (o.httpService) OTEL_HTTP_FIELDS.check(ctx, o.httpService, at(tp, 'http_service'));
    if (!uri) {
      ctx.report(
        at(tp, 'http_service'),
        'an http_service with http_uri is required (gRPC export is not supported)',
      );
      return undefined;
    }
    const up = at(tp, 'http_service.http_uri');
    URI_FIELDS.check(ctx, uri, up);
    if (uri.httpUpstreamType.case !== 'cluster' || !uri.httpUpstreamType.value) {
      ctx.report(at(up, 'cluster'), 'the collector must be reached through a cluster');
      return undefined;
    }
    return {
      kind: 'opentelemetry',
      collectorCluster: uri.httpUpstreamType.value,
      uri: uri.uri,
      timeoutMs: nonNegativeMs(ctx, uri.timeout, at(up, 'timeout'), 0),
      serviceName: o.serviceName,
    };
  }
  ctx.report(tp, `unsupported tracer ${type} ("${p.name}")`);
  return undefined;
}
