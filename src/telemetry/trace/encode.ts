// Span encoders for the two wire formats Istio's providers use: OTLP/HTTP JSON and Zipkin v2 JSON.

import type { FinishedSpan } from './span.js';

export interface SpanEncoder {
  /** Path on the collector (`/v1/traces`, `/api/v2/spans`). */
  readonly path: string;
  readonly contentType: string;
  encode(spans: readonly FinishedSpan[]): string;
}

const msToNanos = (ms: number): string => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

/** OTLP JSON (opentelemetry-proto `ExportTraceServiceRequest`), one resource per service name. */
export const otlpJsonEncoder: SpanEncoder = {
  path: '/v1/traces',
  contentType: 'application/json',
  encode(spans) {
    const byService = new Map<string, FinishedSpan[]>();
    for (const s of spans) {
      let list = byService.get(s.serviceName);
      if (!list) {
        list = [];
        byService.set(s.serviceName, list);
      }
      list.push(s);
    }
    const resourceSpans = [...byService].map(([service, list]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [
        {
          scope: { name: 'trellis' },
          spans: list.map((s) => {
            const span: Record<string, unknown> = {
              traceId: s.traceId,
              spanId: s.spanId,
              name: s.name,
              // SPAN_KIND_SERVER = 2, SPAN_KIND_CLIENT = 3
              kind: s.kind === 'SERVER' ? 2 : 3,
              startTimeUnixNano: msToNanos(s.startMs),
              endTimeUnixNano: msToNanos(s.startMs + s.durationMs),
              attributes: Object.entries(s.tags).map(([key, v]) => ({ key, value: { stringValue: v } })),
              // STATUS_CODE_ERROR = 2, STATUS_CODE_UNSET = 0
              status: s.error ? { code: 2 } : {},
            };
            if (s.parentSpanId) span.parentSpanId = s.parentSpanId;
            return span;
          }),
        },
      ],
    }));
    return JSON.stringify({ resourceSpans });
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
