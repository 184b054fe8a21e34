// Istio's ten standard metrics, and per-peer recorders that update them with no per-request allocation.

import type { RequestRecord } from '../record.js';
import { ENVOY_DEFAULT_BUCKETS } from './buckets.js';
import type { CounterFamily, CounterSeries, HistogramFamily, HistogramSeries } from './family.js';
import {
  connectionSecurityPolicy,
  ISTIO_GRPC_MESSAGE_LABELS,
  ISTIO_HTTP_LABELS,
  ISTIO_TCP_LABELS,
  type IstioPeerFacts,
  istioPeerLabelValues,
} from './istio-labels.js';
import type { MetricsRegistry } from './registry.js';

export interface IstioMetricsOptions {
  registry: MetricsRegistry;
  /** Bounds for the three distributions (see istioHistogramBuckets for the pod annotation). */
  buckets?: readonly number[];
  /** Series cap per family (cardinality budget). Default 10 000. */
  maxSeriesPerMetric?: number;
}

/** One request's HTTP series: the counter plus the three distributions, resolved together. */
interface HttpSeriesSet {
  requests: CounterSeries;
  duration: HistogramSeries;
  requestBytes: HistogramSeries;
  responseBytes: HistogramSeries;
}

export class IstioMetrics {
  readonly requestsTotal: CounterFamily;
  readonly requestDuration: HistogramFamily;
  readonly requestBytes: HistogramFamily;
  readonly responseBytes: HistogramFamily;
  readonly requestMessages: CounterFamily;
  readonly responseMessages: CounterFamily;
  readonly tcpSentBytes: CounterFamily;
  readonly tcpReceivedBytes: CounterFamily;
  readonly tcpOpened: CounterFamily;
  readonly tcpClosed: CounterFamily;

  constructor(opts: IstioMetricsOptions) {
    const r = opts.registry;
    const buckets = opts.buckets ?? ENVOY_DEFAULT_BUCKETS;
    const maxSeries = opts.maxSeriesPerMetric;
    const http = { labelNames: ISTIO_HTTP_LABELS, maxSeries };
    const tcp = { labelNames: ISTIO_TCP_LABELS, maxSeries };
    const msg = { labelNames: ISTIO_GRPC_MESSAGE_LABELS, maxSeries };
    this.requestsTotal = r.counter({ name: 'istio_requests_total', help: 'Total requests.', ...http });
    this.requestDuration = r.histogram({
      name: 'istio_request_duration_milliseconds',
      help: 'Request duration in milliseconds.',
      buckets,
      ...http,
    });
    this.requestBytes = r.histogram({
      name: 'istio_request_bytes',
      help: 'Request body sizes.',
      buckets,
      ...http,
    });
    this.responseBytes = r.histogram({
      name: 'istio_response_bytes',
      help: 'Response body sizes.',
      buckets,
      ...http,
    });
    this.requestMessages = r.counter({
      name: 'istio_request_messages_total',
      help: 'gRPC messages sent by the client.',
      ...msg,
    });
    this.responseMessages = r.counter({
      name: 'istio_response_messages_total',
      help: 'gRPC messages sent by the server.',
      ...msg,
    });
    this.tcpSentBytes = r.counter({
      name: 'istio_tcp_sent_bytes_total',
      help: 'Bytes sent in TCP connections.',
      ...tcp,
    });
    this.tcpReceivedBytes = r.counter({
      name: 'istio_tcp_received_bytes_total',
      help: 'Bytes received in TCP connections.',
      ...tcp,
    });
    this.tcpOpened = r.counter({
      name: 'istio_tcp_connections_opened_total',
      help: 'TCP connections opened.',
      ...tcp,
    });
    this.tcpClosed = r.counter({
      name: 'istio_tcp_connections_closed_total',
      help: 'TCP connections closed.',
      ...tcp,
    });
  }

  /** A recorder for HTTP/gRPC requests between one pair of peers; resolve it per connection or per peer. */
  http(facts: IstioPeerFacts): IstioHttpRecorder {
    return new IstioHttpRecorder(this, istioPeerLabelValues(facts), connectionSecurityPolicy(facts));
  }

  /** A recorder for one TCP connection's peers. */
  tcp(facts: IstioPeerFacts): IstioTcpRecorder {
    return new IstioTcpRecorder(this, istioPeerLabelValues(facts), connectionSecurityPolicy(facts));
  }

  /** gRPC message counters for one pair of peers. */
  grpcMessages(facts: IstioPeerFacts): { request: CounterSeries; response: CounterSeries } {
    const peer = istioPeerLabelValues(facts);
    return { request: this.requestMessages.series(peer), response: this.responseMessages.series(peer) };
  }
}

/**
 * Records finished requests for one peer pair. The series for a (code, flags, grpc status) combination is
 * resolved the first time it is seen; after that a request costs a Map lookup by number and four updates.
 */
export class IstioHttpRecorder {
  readonly #metrics: IstioMetrics;
  readonly #peer: readonly string[];
  readonly #security: string;
  /** Plain HTTP, no flags: keyed by response code. */
  readonly #byCode = new Map<number, HttpSeriesSet>();
  readonly #other = new Map<string, HttpSeriesSet>();

  constructor(metrics: IstioMetrics, peerValues: readonly string[], security: string) {
    this.#metrics = metrics;
    this.#peer = peerValues;
    this.#security = security;
  }

  record(rec: RequestRecord): void {
    const flags = rec.responseFlags || '-';
    let set: HttpSeriesSet | undefined;
    if (!rec.isGrpc && flags === '-') {
      set = this.#byCode.get(rec.responseCode);
      if (set === undefined) {
        set = this.#resolve('http', rec.responseCode, '', '-');
        this.#byCode.set(rec.responseCode, set);
      }
    } else {
      const grpc = rec.isGrpc && rec.grpcStatus !== undefined ? String(rec.grpcStatus) : '';
      const protocol = rec.isGrpc ? 'grpc' : 'http';
      const key = `${protocol} ${rec.responseCode} ${grpc} ${flags}`;
      set = this.#other.get(key);
      if (set === undefined) {
        set = this.#resolve(protocol, rec.responseCode, grpc, flags);
        this.#other.set(key, set);
      }
    }
    set.requests.inc();
    set.duration.observe(rec.durationMs);
    set.requestBytes.observe(rec.bytesReceived);
    set.responseBytes.observe(rec.bytesSent);
  }

  #resolve(protocol: string, code: number, grpc: string, flags: string): HttpSeriesSet {
    const labels = [...this.#peer, protocol, String(code), grpc, flags, this.#security];
    const m = this.#metrics;
    return {
      requests: m.requestsTotal.series(labels),
      duration: m.requestDuration.series(labels),
      requestBytes: m.requestBytes.series(labels),
      responseBytes: m.responseBytes.series(labels),
    };
  }
}

interface TcpSeriesSet {
  sent: CounterSeries;
  received: CounterSeries;
  opened: CounterSeries;
  closed: CounterSeries;
}

/** TCP connection metrics for one peer pair; `flags` is the Envoy response flag string at report time. */
export class IstioTcpRecorder {
  readonly #metrics: IstioMetrics;
  readonly #peer: readonly string[];
  readonly #security: string;
  readonly #byFlags = new Map<string, TcpSeriesSet>();

  constructor(metrics: IstioMetrics, peerValues: readonly string[], security: string) {
    this.#metrics = metrics;
    this.#peer = peerValues;
    this.#security = security;
  }

  #set(flags: string): TcpSeriesSet {
    let s = this.#byFlags.get(flags);
    if (s === undefined) {
      const labels = [...this.#peer, 'tcp', flags, this.#security];
      const m = this.#metrics;
      s = {
        sent: m.tcpSentBytes.series(labels),
        received: m.tcpReceivedBytes.series(labels),
        opened: m.tcpOpened.series(labels),
        closed: m.tcpClosed.series(labels),
      };
      this.#byFlags.set(flags, s);
    }
    return s;
  }

  opened(flags = '-'): void {
    this.#set(flags || '-').opened.inc();
  }

  /** Adds bytes since the last report (Istio reports deltas periodically and at close). */
  bytes(sent: number, received: number, flags = '-'): void {
    const s = this.#set(flags || '-');
    if (sent) s.sent.inc(sent);
    if (received) s.received.inc(received);
  }

  closed(flags = '-'): void {
    this.#set(flags || '-').closed.inc();
  }
}
