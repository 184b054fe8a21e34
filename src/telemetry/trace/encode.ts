// Span encoders for the two wire formats Istio's providers use: OTLP/HTTP JSON and Zipkin v2 JSON.

import type { FinishedSpan } from './span.js';

export interface SpanEncoder {
  /** Path on the collector (`/v1/traces`, `/api/v2/spans`). */
  readonly path: string;
  readonly contentType: string;
  encode(spans: readonly FinishedSpan[]): string;
}

// Microsecond precision, as Envoy reports; epoch microseconds stay below 2^53, so this is exact without BigInt.
const msToNanos = (ms: number): string => `${Math.round(ms * 1000)}000`;

const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;

/** A JSON string literal; the common case (nothing to escape) skips JSON.stringify. */
function str(v: string): string {
  return NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
}

/** One OTLP JSON span, written as text: building objects for JSON.stringify cost three times as much. */
function otlpSpan(s: FinishedSpan): string {
  let attrs = '';
  for (const k in s.tags) {
    if (attrs) attrs += ',';
    attrs += `{"key":${str(k)},"value":{"stringValue":${str(s.tags[k])}}}`;
  }
  // SPAN_KIND_SERVER = 2, SPAN_KIND_CLIENT = 3; STATUS_CODE_ERROR = 2.
  return (
    `{"traceId":"${s.traceId}","spanId":"${s.spanId}"` +
    (s.parentSpanId ? `,"parentSpanId":"${s.parentSpanId}"` : '') +
    `,"name":${str(s.name)},"kind":${s.kind === 'SERVER' ? 2 : 3}` +
    `,"startTimeUnixNano":"${msToNanos(s.startMs)}","endTimeUnixNano":"${msToNanos(s.startMs + s.durationMs)}"` +
    `,"attributes":[${attrs}],"status":${s.error ? '{"code":2}' : '{}'}}`
  );
}

/** OTLP JSON (opentelemetry-proto `ExportTraceServiceRequest`), one resource per service name. */
export const otlpJsonEncoder: SpanEncoder = {
  path: '/v1/traces',
  contentType: 'application/json',
  encode(spans) {
    const byService = new Map<string, string[]>();
    for (const s of spans) {
      let list = byService.get(s.serviceName);
      if (!list) {
        list = [];
        byService.set(s.serviceName, list);
      }
      list.push(otlpSpan(s));
    }
    const resources: string[] = [];
    for (const [service, list] of byService) {
      resources.push(
        `{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":${str(service)}}}]},` +
          `"scopeSpans":[{"scope":{"name":"trellis"},"spans":[${list.join(',')}]}]}`,
      );
    }
    return `{"resourceSpans":[${resources.join(',')}]}`;
  },
};

/** Zipkin v2 JSON (`POST /api/v2/spans`): microsecond timestamps, string tags. */
export const zipkinJsonEncoder: SpanEncoder = {
  path: '/api/v2/spans',
  contentType: 'application/json',
  encode(spans) {
    return JSON.stringify(
      spans.map((s) => {
        const z: Record<string, unknown> = {
          traceId: s.traceId,
          id: s.spanId,
          name: s.name,
          kind: s.kind,
          timestamp: Math.round(s.startMs * 1000),
          duration: Math.max(1, Math.round(s.durationMs * 1000)),
          localEndpoint: s.localIp
            ? { serviceName: s.serviceName, ipv4: s.localIp }
            : { serviceName: s.serviceName },
          tags: s.tags,
        };
        if (s.parentSpanId) z.parentId = s.parentSpanId;
        return z;
      }),
    );
  },
};
