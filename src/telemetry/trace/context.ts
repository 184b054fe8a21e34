// Trace context on the wire: W3C traceparent/tracestate, B3 multi-header and B3 single header.

import type { HeaderMap } from '../record.js';

export interface SpanContext {
  /** 32 hex characters (64-bit B3 ids are left-padded with zeros). */
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  /** undefined when the caller made no sampling decision (B3 without x-b3-sampled). */
  sampled: boolean | undefined;
  /** B3 debug flag (`x-b3-flags: 1` or `b3: ...-d`): always sample. */
  debug?: boolean;
  /** W3C tracestate, passed through unchanged. */
  tracestate?: string;
}

export type PropagationFormat = 'w3c' | 'b3multi' | 'b3single';

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const ZERO32 = '0'.repeat(32);
const ZERO16 = '0'.repeat(16);

function first(headers: HeaderMap, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v[0];
}

/** `00-<trace>-<span>-<flags>`; rejects version ff, all-zero ids and malformed fields (W3C §3.2). */
export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  if (!value) return undefined;
  const parts = value.trim().toLowerCase().split('-');
  if (parts.length < 4) return undefined;
  const [version, traceId, spanId, flags] = parts as [string, string, string, string];
  if (!/^[0-9a-f]{2}$/.test(version) || version === 'ff') return undefined;
  if (version === '00' && parts.length !== 4) return undefined;
  if (!HEX32.test(traceId) || traceId === ZERO32) return undefined;
  if (!HEX16.test(spanId) || spanId === ZERO16) return undefined;
  if (!/^[0-9a-f]{2}$/.test(flags)) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

export function formatTraceparent(ctx: SpanContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? '01' : '00'}`;
}

function normalizeB3TraceId(id: string | undefined): string | undefined {
  if (!id) return undefined;
  const t = id.trim().toLowerCase();
  if (/^[0-9a-f]{16}$/.test(t)) return t === ZERO16 ? undefined : `${ZERO16}${t}`;
  return HEX32.test(t) && t !== ZERO32 ? t : undefined;
}

function parseB3Sampled(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  switch (v.trim().toLowerCase()) {
    case '1':
    case 'true':
    case 'd':
      return true;
    case '0':
    case 'false':
      return false;
  }
  return undefined;
}

export interface B3Result {
  context?: SpanContext;
  /** A sampling decision without ids (`x-b3-sampled: 0` alone, or `b3: 0`). */
  samplingOnly?: boolean;
}

/** x-b3-traceid / x-b3-spanid / x-b3-parentspanid / x-b3-sampled / x-b3-flags. */
export function parseB3Multi(headers: HeaderMap): B3Result {
  const debug = first(headers, 'x-b3-flags')?.trim() === '1';
  const sampledHeader = parseB3Sampled(first(headers, 'x-b3-sampled'));
  const sampled = debug ? true : sampledHeader;
  const traceId = normalizeB3TraceId(first(headers, 'x-b3-traceid'));
  const spanId = first(headers, 'x-b3-spanid')?.trim().toLowerCase();
  if (!traceId || !spanId || !HEX16.test(spanId) || spanId === ZERO16) {
    return sampled === undefined ? {} : { samplingOnly: sampled };
  }
  const ctx: SpanContext = { traceId, spanId, sampled };
  const parent = first(headers, 'x-b3-parentspanid')?.trim().toLowerCase();
  if (parent && HEX16.test(parent)) ctx.parentSpanId = parent;
  if (debug) ctx.debug = true;
  return { context: ctx };
}

/** `b3: {traceid}-{spanid}[-{sampling}[-{parentspanid}]]`, or a bare sampling state `0`/`1`/`d`. */
export function parseB3Single(value: string | undefined): B3Result {
  if (!value) return {};
  const parts = value.trim().toLowerCase().split('-');
  if (parts.length === 1) {
    const s = parseB3Sampled(parts[0]);
    return s === undefined ? {} : { samplingOnly: s };
  }
  const traceId = normalizeB3TraceId(parts[0]);
  const spanId = parts[1];
  if (!traceId || !spanId || !HEX16.test(spanId) || spanId === ZERO16 || parts.length > 4) return {};
  const ctx: SpanContext = { traceId, spanId, sampled: parseB3Sampled(parts[2]) };
  if (parts[2] === 'd') ctx.debug = true;
  if (parts[3] && HEX16.test(parts[3])) ctx.parentSpanId = parts[3];
  return { context: ctx };
}

export interface Extracted {
  context?: SpanContext;
  /** A bare sampling decision carried without a usable context. */
  samplingOnly?: boolean;
  /** Which header the context came from. */
  format?: PropagationFormat;
}

/**
 * Reads the incoming context. Precedence: a valid W3C `traceparent` (with its `tracestate`), then the B3
 * single `b3` header, then the B3 multi headers — the order OpenTelemetry's W3C-first composite uses and
 * Envoy's Zipkin tracer applies between `b3` and `x-b3-*`. A malformed header is ignored, not fatal.
 */
export function extractContext(headers: HeaderMap): Extracted {
  const w3c = parseTraceparent(first(headers, 'traceparent'));
  if (w3c) {
    const ts = first(headers, 'tracestate');
    if (ts) w3c.tracestate = ts;
    return { context: w3c, format: 'w3c' };
  }
  const single = parseB3Single(first(headers, 'b3'));
  if (single.context) return { context: single.context, format: 'b3single' };
  const multi = parseB3Multi(headers);
  if (multi.context) return { context: multi.context, format: 'b3multi' };
  const samplingOnly = single.samplingOnly ?? multi.samplingOnly;
  return samplingOnly === undefined ? {} : { samplingOnly };
}

/** Writes `ctx` into `headers` in each format; stale headers of those formats are replaced. */
export function injectContext(
  ctx: SpanContext,
  headers: Record<string, string | string[] | undefined>,
  formats: readonly PropagationFormat[] = ['w3c', 'b3multi'],
): void {
  for (const f of formats) {
    if (f === 'w3c') {
      headers.traceparent = formatTraceparent(ctx);
      if (ctx.tracestate) headers.tracestate = ctx.tracestate;
    } else if (f === 'b3multi') {
      headers['x-b3-traceid'] = ctx.traceId;
      headers['x-b3-spanid'] = ctx.spanId;
      if (ctx.parentSpanId) headers['x-b3-parentspanid'] = ctx.parentSpanId;
      else delete headers['x-b3-parentspanid'];
      headers['x-b3-sampled'] = ctx.sampled ? '1' : '0';
      if (ctx.debug) headers['x-b3-flags'] = '1';
    } else {
      const sampling = ctx.debug ? 'd' : ctx.sampled ? '1' : '0';
      headers.b3 = `${ctx.traceId}-${ctx.spanId}-${sampling}${ctx.parentSpanId ? `-${ctx.parentSpanId}` : ''}`;
    }
  }
}
