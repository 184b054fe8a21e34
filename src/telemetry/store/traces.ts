// The trace store: receives OTLP/Zipkin JSON spans, keeps a bounded set of traces, answers searches.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Clock, systemClock } from '../../shared/clock.js';
import { errorMessage } from '../../shared/errors.js';
import { decodeOtlpJson, decodeZipkinJson } from '../trace/decode.js';
import type { FinishedSpan } from '../trace/span.js';

export interface TraceStoreOptions {
  /** Spans kept across all traces; the oldest traces go first. Default 50 000. */
  maxSpans?: number;
  /** Traces whose newest span is older than this are dropped. Default 1 h. */
  maxAgeMs?: number;
  clock?: Clock;
  /** Largest request body accepted by the handlers. Default 8 MiB. */
  maxBodyBytes?: number;
}

export interface TraceSummary {
  traceId: string;
  /** Root span's service and name (the earliest span when the root was not received). */
  rootService: string;
  rootOperation: string;
  startMs: number;
  durationMs: number;
  spanCount: number;
  errorCount: number;
  services: string[];
}

export interface TraceSearch {
  service?: string;
  operation?: string;
  minDurationMs?: number;
  errorsOnly?: boolean;
  /** Trace start within [startMs, endMs]. */
  startMs?: number;
  endMs?: number;
  /** Every tag must match one span exactly. */
  tags?: Record<string, string>;
  /** Default 20, newest first. */
  limit?: number;
}

export interface RequestHistoryEntry {
  timeMs: number;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  flags: string;
  /** Calling workload, from the caller's client span (or the server span's downstream_cluster / peer). */
  source: string;
  /** The service that answered (`<canonical service>.<namespace>`). */
  destination: string;
  traceId: string;
}

interface StoredTrace {
  traceId: string;
  spans: FinishedSpan[];
  startMs: number;
  endMs: number;
  /** Last time a span arrived (for age-based eviction). */
  touchedMs: number;
}

function pathOf(url: string | undefined): string {
  if (!url) return '';
  const i = url.indexOf('://');
  const slash = url.indexOf('/', i < 0 ? 0 : i + 3);
  return slash < 0 ? '/' : url.slice(slash);
}

export class TraceStore {
  readonly #maxSpans: number;
  readonly #maxAgeMs: number;
  readonly #clock: Clock;
  readonly #maxBody: number;
  /** Insertion-ordered: the first entries are the oldest traces. */
  readonly #traces = new Map<string, StoredTrace>();
  #spanCount = 0;
  /** Spans evicted or rejected since start. */
  evicted = 0;

  constructor(opts: TraceStoreOptions = {}) {
    this.#maxSpans = opts.maxSpans ?? 50_000;
    this.#maxAgeMs = opts.maxAgeMs ?? 3_600_000;
    this.#clock = opts.clock ?? systemClock;
    this.#maxBody = opts.maxBodyBytes ?? 8 * 1024 * 1024;
  }

  get spanCount(): number {
    return this.#spanCount;
  }

  get traceCount(): number {
    return this.#traces.size;
  }

  add(spans: readonly FinishedSpan[]): void {
    const now = this.#clock.now();
    for (const s of spans) {
      let t = this.#traces.get(s.traceId);
      if (!t) {
        t = {
          traceId: s.traceId,
          spans: [],
          startMs: s.startMs,
          endMs: s.startMs + s.durationMs,
          touchedMs: now,
        };
        this.#traces.set(s.traceId, t);
      } else {
        // Move to the back: a trace still receiving spans is not the oldest.
        this.#traces.delete(s.traceId);
        this.#traces.set(s.traceId, t);
      }
      if (t.spans.some((x) => x.spanId === s.spanId && x.kind === s.kind)) continue;
      t.spans.push(s);
      t.startMs = Math.min(t.startMs, s.startMs);
      t.endMs = Math.max(t.endMs, s.startMs + s.durationMs);
      t.touchedMs = now;
      this.#spanCount++;
    }
    this.#evict(now);
  }

  #evict(now: number): void {
    for (const [id, t] of this.#traces) {
      const tooOld = now - t.touchedMs > this.#maxAgeMs;
      if (!tooOld && this.#spanCount <= this.#maxSpans) break;
      this.#traces.delete(id);
      this.#spanCount -= t.spans.length;
      this.evicted += t.spans.length;
    }
  }

  #summary(t: StoredTrace): TraceSummary {
    const ids = new Set(t.spans.map((s) => s.spanId));
    const roots = t.spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
    const root = [...(roots.length ? roots : t.spans)].sort((a, b) => a.startMs - b.startMs)[0]!;
    return {
      traceId: t.traceId,
      rootService: root.serviceName,
      rootOperation: root.name,
      startMs: t.startMs,
      durationMs: t.endMs - t.startMs,
      spanCount: t.spans.length,
      errorCount: t.spans.filter((s) => s.error).length,
      services: [...new Set(t.spans.map((s) => s.serviceName))].sort(),
    };
  }

  search(q: TraceSearch = {}): TraceSummary[] {
    this.#evict(this.#clock.now());
    const out: TraceSummary[] = [];
    for (const t of this.#traces.values()) {
      if (q.startMs !== undefined && t.startMs < q.startMs) continue;
      if (q.endMs !== undefined && t.startMs > q.endMs) continue;
      if (q.minDurationMs !== undefined && t.endMs - t.startMs < q.minDurationMs) continue;
      if (q.errorsOnly && !t.spans.some((s) => s.error)) continue;
      if (q.service && !t.spans.some((s) => s.serviceName === q.service)) continue;
      if (
        q.operation &&
        !t.spans.some((s) => s.name === q.operation && (!q.service || s.serviceName === q.service))
      ) {
        continue;
      }
      if (q.tags) {
        const tags = Object.entries(q.tags);
        if (!t.spans.some((s) => tags.every(([k, v]) => s.tags[k] === v))) continue;
      }
      out.push(this.#summary(t));
    }
    return out.sort((a, b) => b.startMs - a.startMs).slice(0, q.limit ?? 20);
  }

  /** A trace's spans ordered by start time, or undefined. */
  get(traceId: string): { summary: TraceSummary; spans: FinishedSpan[] } | undefined {
    const t = this.#traces.get(traceId.toLowerCase().padStart(32, '0'));
    if (!t) return undefined;
    return { summary: this.#summary(t), spans: [...t.spans].sort((a, b) => a.startMs - b.startMs) };
  }

  services(): string[] {
    const s = new Set<string>();
    for (const t of this.#traces.values()) for (const x of t.spans) s.add(x.serviceName);
    return [...s].sort();
  }

  /**
   * Recent requests as the server sidecars saw them: one entry per SERVER span, newest first. The source is
   * the service of the matching CLIENT span (same span id, Envoy's shared context, or the parent), else the
   * downstream cluster / peer address tags.
   */
  requestHistory(opts: { limit?: number; sinceMs?: number } = {}): RequestHistoryEntry[] {
    const out: RequestHistoryEntry[] = [];
    for (const t of this.#traces.values()) {
      const byId = new Map<string, FinishedSpan>();
      for (const s of t.spans) if (s.kind === 'CLIENT') byId.set(s.spanId, s);
      for (const s of t.spans) {
        if (s.kind !== 'SERVER') continue;
        if (opts.sinceMs !== undefined && s.startMs < opts.sinceMs) continue;
        const caller = byId.get(s.spanId) ?? (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
        const downstream = s.tags.downstream_cluster;
        out.push({
          timeMs: s.startMs,
          method: s.tags['http.method'] ?? '',
          path: pathOf(s.tags['http.url']),
          status: Number(s.tags['http.status_code'] ?? 0),
          durationMs: s.durationMs,
          flags: s.tags.response_flags ?? '-',
          source:
            caller?.serviceName ??
            (downstream && downstream !== '-' ? downstream : (s.tags['peer.address'] ?? 'unknown')),
          destination: s.serviceName,
          traceId: t.traceId,
        });
      }
    }
    return out.sort((a, b) => b.timeMs - a.timeMs).slice(0, opts.limit ?? 100);
  }

  /** `POST /v1/traces` handler (OTLP/HTTP JSON). */
  readonly otlpHandler = (req: IncomingMessage, res: ServerResponse): void => {
    this.#receive(req, res, decodeOtlpJson, 200);
  };

  /** `POST /api/v2/spans` handler (Zipkin v2 JSON). */
  readonly zipkinHandler = (req: IncomingMessage, res: ServerResponse): void => {
    this.#receive(req, res, decodeZipkinJson, 202);
  };

  #receive(
    req: IncomingMessage,
    res: ServerResponse,
    decode: (b: unknown) => FinishedSpan[],
    okStatus: number,
  ): void {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('only POST is accepted\n');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > this.#maxBody) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (tooBig) {
        res
          .writeHead(413, { 'content-type': 'text/plain' })
          .end(`span batch larger than ${this.#maxBody} bytes\n`);
        return;
      }
      try {
        this.add(decode(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      } catch (e) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`${errorMessage(e)}\n`);
        return;
      }
      res.writeHead(okStatus, { 'content-type': 'application/json' }).end('{}');
    });
  }
}
