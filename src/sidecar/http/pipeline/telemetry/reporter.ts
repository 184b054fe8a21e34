// Once per request, after the exchange completes: the record, Istio metrics, Envoy stats, access logs, the span.

import type { Clock } from '../../../../shared/clock.js';
import type { RequestRecord } from '../../../../telemetry/record.js';
import type { HttpConnManagerStats } from '../../../../telemetry/stats/store.js';
import type { Tracer } from '../../../../telemetry/trace/tracer.js';
import type { PipelineDeps } from '../../../runtime/contracts.js';
import type { ExchangeOutcome } from '../../message.js';
import { FLAG, flagsString } from '../flags.js';
import type { PipelineStream } from '../stream.js';
import { PeerRecorders, type RecorderKey } from './peer-recorders.js';

const NO_SERVICE = Object.freeze({});

function protocolOf(version: string): string {
  return version === '2' ? 'HTTP/2' : version === '1.0' ? 'HTTP/1.0' : 'HTTP/1.1';
}

export interface ReporterOptions {
  deps: PipelineDeps;
  stats: HttpConnManagerStats;
  loggers: readonly { log(record: RequestRecord): void }[];
  tracer: Tracer | undefined;
  clock: Clock;
}

/**
 * Builds one RequestRecord per request and feeds every sink from it. Series handles are cached per
 * service, peer and principal (PeerRecorders); header maps are only built when a log or a sampled span
 * will read them.
 */
export class HcmReporter {
  readonly #o: ReporterOptions;
  readonly #source: PeerRecorders;
  readonly #destination: PeerRecorders;

  constructor(opts: ReporterOptions) {
    this.#o = opts;
    const t = opts.deps.telemetry;
    this.#source = new PeerRecorders(t.istio, t.local);
    this.#destination = new PeerRecorders(t.istio, t.local);
  }

  complete(s: PipelineStream, outcome: ExchangeOutcome): void {
    if (s.completed) return;
    s.completed = true;
    const o = this.#o;
    if (s.routeTimer !== undefined) {
      o.clock.clearTimeout(s.routeTimer);
      s.routeTimer = undefined;
    }
    const stats = o.stats;
    stats.downstream_rq_active.dec();
    let flags = s.flags;
    const status = outcome.status ?? 0;
    if (outcome.status === undefined) {
      stats.downstream_rq_rx_reset.inc();
      if (s.signal.aborted) flags |= FLAG.DC;
    } else {
      stats.responseCode(status);
    }
    const needHeaders = o.loggers.length > 0 || s.span?.context.sampled === true;
    const req = s.request;
    const conn = s.conn;
    const rec: RequestRecord = {
      startTime: s.startTime,
      durationMs: outcome.completedAt - outcome.receivedAt,
      protocol: protocolOf(req.version),
      method: req.method,
      path: s.originalPath,
      authority: s.originalAuthority,
      scheme: req.scheme,
      requestHeaders: needHeaders ? req.headers.toRecord() : undefined,
      responseHeaders: needHeaders ? s.responseHeaders?.toRecord() : undefined,
      responseCode: status,
      responseFlags: flagsString(flags),
      responseCodeDetails: s.details,
      grpcStatus: s.grpcStatus,
      isGrpc: s.grpc,
      bytesReceived: outcome.requestBytes,
      bytesSent: outcome.responseBytes,
      upstreamHost: s.upstreamHost,
      upstreamCluster: s.clusterName,
      upstreamLocalAddress: s.upstreamLocalAddress,
      downstreamLocalAddress: conn.localAddressAndPort,
      downstreamRemoteAddress: conn.remoteAddressAndPort,
      requestedServerName: conn.downstream.tls?.sni,
      routeName: s.route?.name,
      downstreamPeerUriSan: conn.peerPrincipal,
      downstreamLocalUriSan: conn.localPrincipal,
      upstreamPeerUriSan: s.upstreamPeerIdentity,
      traceId: s.span?.context.traceId,
      upstreamRequestAttemptCount: s.attempts,
    };
    this.#istio(s, rec);
    for (const l of o.loggers) l.log(rec);
    if (s.span !== undefined) o.tracer?.end(s.span, rec);
  }

  /** Filled per request and read synchronously by PeerRecorders: no key object per request. */
  readonly #key: RecorderKey = {
    reporter: 'source',
    serviceKey: '',
    service: {},
    peerKey: '',
    peer: undefined,
    peerPrincipal: undefined,
    localPrincipal: undefined,
  };

  #istio(s: PipelineStream, rec: RequestRecord): void {
    const t = this.#o.deps.telemetry;
    const clusterName = s.clusterName;
    const service =
      clusterName === undefined
        ? undefined
        : this.#o.deps.clusters.get(clusterName)?.config.istio.services[0];
    const inbound = s.conn.direction === 'inbound';
    const recorders = inbound ? this.#destination : this.#source;
    const key = this.#key;
    key.serviceKey = clusterName ?? '';
    key.service = service ?? NO_SERVICE;
    if (inbound) {
      key.reporter = 'destination';
      key.peerKey = s.downstreamPeerKey;
      key.peer = s.downstreamPeer;
      key.peerPrincipal = s.conn.peerPrincipal;
      key.localPrincipal = s.conn.localPrincipal;
    } else {
      key.reporter = 'source';
      key.peerKey = s.upstreamPeerKey;
      key.peer = s.upstreamPeer;
      key.peerPrincipal = s.upstreamPeerIdentity;
      key.localPrincipal = t.local.principal;
    }
    recorders.recorder(key).record(rec);
  }
}
