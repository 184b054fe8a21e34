// The sidecar's tracer: sampling decisions, trace continuation, and Istio's span tags from the request record.

import { type Clock, systemClock } from '../../shared/clock.js';
import { type HeaderMap, headerValue, type RequestRecord } from '../record.js';
import { extractContext, injectContext, type PropagationFormat, type SpanContext } from './context.js';
import { type IdGenerator, RandomIdGenerator } from './ids.js';
import type { FinishedSpan, SpanKind } from './span.js';

export interface SpanSink {
  /** Takes a finished span; must not block (exporters queue and drop when full). */
  export(span: FinishedSpan): boolean;
}

export interface TracerOptions {
  /** Istio node id: `sidecar~10.0.0.5~reviews-v2-abc.default~default.svc.cluster.local`. */
  nodeId: string;
  /** Istio canonical service of this workload (`service.istio.io/canonical-name`). */
  canonicalService: string;
  canonicalRevision?: string;
  namespace: string;
  meshId?: string;
  clusterId?: string;
  /** Locality zone (`zone` tag), when known. */
  zone?: string;
  /** Istio's `randomSamplingPercentage` (0–100). Default 1, as Istio's. */
  samplingPercentage?: number;
  /** Formats written on outbound requests. Default W3C and B3 multi. */
  propagation?: readonly PropagationFormat[];
  sink?: SpanSink;
  ids?: IdGenerator;
  /** [0, 1) for sampling; injected in tests. */
  random?: () => number;
  clock?: Clock;
  localIp?: string;
}

/** A span in progress; `context` is what gets propagated to the next hop. */
export interface ActiveSpan {
  readonly context: SpanContext;
  readonly kind: SpanKind;
  readonly name: string;
  readonly startMs: number;
  readonly startMono: number;
}

export class Tracer {
  readonly #opts: TracerOptions;
  readonly #ids: IdGenerator;
  readonly #random: () => number;
  readonly #clock: Clock;
  readonly #serviceName: string;
  readonly #constantTags: Record<string, string>;
  readonly #propagation: readonly PropagationFormat[];
  /** Spans dropped because nothing could take them. */
  dropped = 0;

  constructor(opts: TracerOptions) {
    this.#opts = opts;
    this.#ids = opts.ids ?? new RandomIdGenerator();
    this.#random = opts.random ?? Math.random;
    this.#clock = opts.clock ?? systemClock;
    this.#propagation = opts.propagation ?? ['w3c', 'b3multi'];
    // Istio's service cluster (node.cluster) is `<canonical service>.<namespace>`; OTel exports it as service.name.
    this.#serviceName = `${opts.canonicalService}.${opts.namespace}`;
    this.#constantTags = {
      component: 'proxy',
      node_id: opts.nodeId,
      'istio.canonical_service': opts.canonicalService || 'unknown',
      'istio.canonical_revision': opts.canonicalRevision || 'latest',
      'istio.namespace': opts.namespace || 'default',
      'istio.mesh_id': opts.meshId || 'unknown',
      'istio.cluster_id': opts.clusterId || 'unknown',
    };
    if (opts.zone) this.#constantTags.zone = opts.zone;
  }

  get serviceName(): string {
    return this.#serviceName;
  }

  #sampleNew(): boolean {
    const pct = this.#opts.samplingPercentage ?? 1;
    return pct >= 100 ? true : pct <= 0 ? false : this.#random() * 100 < pct;
  }

  /**
   * Starts the server span for an inbound request. A sampled incoming context is continued (same trace,
   * new span id, parent = caller's span); an explicit unsampled one is honoured; a context without a
   * decision, or no context at all, is sampled by the percentage. Returns the span even when unsampled,
   * so its context still propagates `sampled=0` downstream.
   */
  startServerSpan(opts: { headers: HeaderMap; operation: string }): ActiveSpan {
    const ex = extractContext(opts.headers);
    const parent = ex.context;
    let sampled: boolean;
    if (parent?.debug) sampled = true;
    else if (parent?.sampled !== undefined) sampled = parent.sampled;
    else if (ex.samplingOnly !== undefined) sampled = ex.samplingOnly;
    else sampled = this.#sampleNew();
    const context: SpanContext = {
      traceId: parent?.traceId ?? this.#ids.traceId(),
      spanId: this.#ids.spanId(),
      sampled,
    };
    if (parent) context.parentSpanId = parent.spanId;
    if (parent?.tracestate) context.tracestate = parent.tracestate;
    if (parent?.debug) context.debug = true;
    return this.#start(context, 'SERVER', opts.operation);
  }

  /**
   * Starts the client span for an outbound request. Under a server span (the app forwarded the headers) it
   * is its child; otherwise the outbound request's own headers are read like an inbound request's.
   */
  startClientSpan(opts: { headers: HeaderMap; operation: string; parent?: ActiveSpan }): ActiveSpan {
    if (!opts.parent) {
      const root = this.startServerSpan({ headers: opts.headers, operation: opts.operation });
      return { ...root, kind: 'CLIENT' };
    }
    const p = opts.parent.context;
    const context: SpanContext = {
      traceId: p.traceId,
      spanId: this.#ids.spanId(),
      parentSpanId: p.spanId,
      sampled: p.sampled,
    };
    if (p.tracestate) context.tracestate = p.tracestate;
    if (p.debug) context.debug = true;
    return this.#start(context, 'CLIENT', opts.operation);
  }

  #start(context: SpanContext, kind: SpanKind, name: string): ActiveSpan {
    return { context, kind, name, startMs: this.#clock.now(), startMono: this.#clock.monotonic() };
  }

  /** Writes the span's context into outbound request headers (the configured formats). */
  inject(span: ActiveSpan, headers: Record<string, string | string[] | undefined>): void {
    injectContext(span.context, headers, this.#propagation);
  }

  /**
   * Ends a span with the tags Envoy and Istio put on sidecar spans, taken from the request record.
   * Unsampled spans are not exported. Returns the finished span when exported.
   */
  end(span: ActiveSpan, rec: RequestRecord): FinishedSpan | undefined {
    if (!span.context.sampled) return undefined;
    const c = this.#constantTags;
    const h = rec.requestHeaders;
    const authority = rec.authority ?? headerValue(h, 'host') ?? '';
    // One object literal: V8 gives it a fixed shape. Spreading a template and adding dotted keys one by one
    // measured 12 µs per span (dictionary-mode transitions) against about 0.1 µs for this.
    const tags: Record<string, string> = {
      component: 'proxy',
      node_id: c.node_id!,
      'istio.canonical_service': c['istio.canonical_service']!,
      'istio.canonical_revision': c['istio.canonical_revision']!,
      'istio.namespace': c['istio.namespace']!,
      'istio.mesh_id': c['istio.mesh_id']!,
      'istio.cluster_id': c['istio.cluster_id']!,
      'http.url': `${rec.scheme ?? 'http'}://${authority}${rec.path ?? ''}`,
      'http.method': rec.method ?? '-',
      'http.protocol': rec.protocol ?? '-',
      'http.status_code': String(rec.responseCode),
      response_flags: rec.responseFlags || '-',
      response_size: String(rec.bytesSent),
      request_size: String(rec.bytesReceived),
      downstream_cluster: headerValue(h, 'x-envoy-downstream-service-cluster') ?? '-',
      user_agent: headerValue(h, 'user-agent') ?? '-',
    };
    if (c.zone) tags.zone = c.zone;
    const requestId = headerValue(h, 'x-request-id');
    if (requestId) tags['guid:x-request-id'] = requestId;
    if (rec.upstreamCluster) {
      tags.upstream_cluster = rec.upstreamCluster;
      tags['upstream_cluster.name'] = rec.upstreamCluster;
    }
    if (rec.downstreamRemoteAddress) tags['peer.address'] = rec.downstreamRemoteAddress.replace(/:\d+$/, '');
    if (rec.isGrpc && rec.grpcStatus !== undefined) tags['grpc.status_code'] = String(rec.grpcStatus);
    // Envoy marks a span as an error for 5xx, for no response at all, and for non-OK gRPC status.
    const error =
      rec.responseCode >= 500 ||
      rec.responseCode === 0 ||
      (rec.isGrpc === true && (rec.grpcStatus ?? 0) !== 0);
    if (error) tags.error = 'true';
    const finished: FinishedSpan = {
      traceId: span.context.traceId,
      spanId: span.context.spanId,
      name: span.name,
      kind: span.kind,
      startMs: span.startMs,
      durationMs: this.#clock.monotonic() - span.startMono,
      serviceName: this.#serviceName,
      tags,
      error,
    };
    if (span.context.parentSpanId) finished.parentSpanId = span.context.parentSpanId;
    if (this.#opts.localIp) finished.localIp = this.#opts.localIp;
    if (!this.#opts.sink?.export(finished)) this.dropped++;
    return finished;
  }
}
