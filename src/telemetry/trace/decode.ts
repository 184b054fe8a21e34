// Decoders for spans arriving over OTLP/HTTP JSON or Zipkin v2 JSON, into the format-neutral FinishedSpan.

import { TrellisError } from '../../shared/errors.js';
import type { FinishedSpan } from './span.js';

type Json = Record<string, unknown>;

function attrValue(v: unknown): string {
  if (!v || typeof v !== 'object') return '';
  const o = v as Json;
  if ('stringValue' in o) return String(o.stringValue);
  if ('intValue' in o) return String(o.intValue);
  if ('doubleValue' in o) return String(o.doubleValue);
  if ('boolValue' in o) return String(o.boolValue);
  if ('arrayValue' in o) {
    const values = ((o.arrayValue as Json)?.values as unknown[]) ?? [];
    return values.map(attrValue).join(',');
  }
  return '';
}

/** OTLP ids may be hex (the JSON mapping) or base64 (some SDKs); normalise to lower-case hex. */
function otlpId(v: unknown, bytes: number): string {
  const s = typeof v === 'string' ? v : '';
  if (new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(s)) return s.toLowerCase();
  const b = Buffer.from(s, 'base64');
  return b.length === bytes ? b.toString('hex') : s.toLowerCase();
}

const nanosToMs = (v: unknown): number => Number(BigInt(String(v ?? 0)) / 1000n) / 1000;

export function decodeOtlpJson(body: unknown): FinishedSpan[] {
  if (!body || typeof body !== 'object' || !Array.isArray((body as Json).resourceSpans)) {
    throw new TrellisError('TRACE_DECODE', 'OTLP JSON body has no resourceSpans array');
  }
  const out: FinishedSpan[] = [];
  for (const rs of (body as Json).resourceSpans as Json[]) {
    const resAttrs = (((rs.resource as Json | undefined)?.attributes as Json[]) ?? []) as Json[];
    const service = attrValue(resAttrs.find((a) => a.key === 'service.name')?.value) || 'unknown';
    for (const ss of ((rs.scopeSpans ?? rs.instrumentationLibrarySpans) as Json[]) ?? []) {
      for (const s of (ss.spans as Json[]) ?? []) {
        const tags: Record<string, string> = {};
        for (const a of (s.attributes as Json[]) ?? []) tags[String(a.key)] = attrValue(a.value);
        const start = nanosToMs(s.startTimeUnixNano);
        const end = nanosToMs(s.endTimeUnixNano);
        const kind = s.kind === 3 || s.kind === 'SPAN_KIND_CLIENT' ? 'CLIENT' : 'SERVER';
        const status = (s.status as Json | undefined)?.code;
        const span: FinishedSpan = {
          traceId: otlpId(s.traceId, 16),
          spanId: otlpId(s.spanId, 8),
          name: String(s.name ?? ''),
          kind,
          startMs: start,
          durationMs: Math.max(0, end - start),
          serviceName: service,
          tags,
          error: status === 2 || status === 'STATUS_CODE_ERROR' || tags.error === 'true',
        };
        if (s.parentSpanId) span.parentSpanId = otlpId(s.parentSpanId, 8);
        out.push(span);
      }
    }
  }
  return out;
}

export function decodeZipkinJson(body: unknown): FinishedSpan[] {
  if (!Array.isArray(body))
    throw new TrellisError('TRACE_DECODE', 'Zipkin v2 body must be a JSON array of spans');
  return body.map((z: Json, i) => {
    if (typeof z.traceId !== 'string' || typeof z.id !== 'string') {
      throw new TrellisError('TRACE_DECODE', `Zipkin span #${i} lacks traceId or id`);
    }
    const tags = Object.fromEntries(Object.entries((z.tags as Json) ?? {}).map(([k, v]) => [k, String(v)]));
    const local = (z.localEndpoint as Json | undefined) ?? {};
    const span: FinishedSpan = {
      traceId: z.traceId.toLowerCase().padStart(32, '0'),
      spanId: z.id.toLowerCase(),
      name: String(z.name ?? ''),
      kind: z.kind === 'CLIENT' ? 'CLIENT' : 'SERVER',
      startMs: Number(z.timestamp ?? 0) / 1000,
      durationMs: Number(z.duration ?? 0) / 1000,
      serviceName: String(local.serviceName ?? 'unknown'),
      tags,
      error: 'error' in tags,
    };
    if (typeof z.parentId === 'string') span.parentSpanId = z.parentId.toLowerCase();
    if (typeof local.ipv4 === 'string') span.localIp = local.ipv4;
    return span;
  });
}
