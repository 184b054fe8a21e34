// One request's state as it crosses the connection manager, the filters and the router; also its ExchangeContext.

import type { Timer } from '../../../shared/clock.js';
import type { WorkloadFacts } from '../../../telemetry/metrics/istio-labels.js';
import type { ActiveSpan } from '../../../telemetry/trace/tracer.js';
import type { RouteEntry, RouteTable, VirtualHostConfig, WeightedClusterChoice } from '../../config/model.js';
import type { CancelSignal } from '../cancel.js';
import type { HeaderList } from '../headers.js';
import type { ConnectionInfo, ExchangeContext, ProxyRequest } from '../message.js';
import type { ConnectionState } from './connection-state.js';
import { flagBit } from './flags.js';

/**
 * Created by the connection manager for each request and handed to the filters as their `ctx`, so a filter
 * written against the transport's `Handler` type still works, and pipeline filters reach the shared state
 * through `streamOf(ctx)`. One object per request; everything else hangs off it.
 */
export class PipelineStream implements ExchangeContext {
  readonly signal: CancelSignal & { toAbortSignal(): AbortSignal };
  readonly connection: ConnectionInfo;
  readonly receivedAt: number;
  readonly conn: ConnectionState;
  /** The request as the transport delivered it (filters may hand on modified copies). */
  readonly request: ProxyRequest;
  /** Epoch ms when the request reached the pipeline. */
  readonly startTime: number;
  /** `:path` and `:authority` as received, for logs and replies. */
  readonly originalPath: string;
  readonly originalAuthority: string;
  /** Envoy response flags as bits (flags.ts). */
  flags = 0;
  /** The request is gRPC (content-type application/grpc...). */
  grpc = false;
  /** Envoy's internal-origin judgement (from XFF). */
  internal = false;
  /** The caller may steer the router with x-envoy-* headers (sanitize.ts). */
  trusted = false;
  /** Trusted and some x-envoy-* header arrived: the router must look for its control headers. */
  envoyControl = false;
  /** Envoy's trusted client address. */
  clientAddress = '';
  requestId: string | undefined = undefined;
  table: RouteTable | undefined = undefined;
  vhost: VirtualHostConfig | undefined = undefined;
  route: RouteEntry | undefined = undefined;
  /** The cluster the route picked (weighted clusters are chosen with the route, as in Envoy). */
  clusterChoice: WeightedClusterChoice | undefined = undefined;
  clusterName: string | undefined = undefined;
  upstreamHost: string | undefined = undefined;
  upstreamLocalAddress: string | undefined = undefined;
  upstreamPeerIdentity: string | undefined = undefined;
  /** Peer workloads learnt by metadata exchange (or endpoint metadata) and the key they are cached by. */
  upstreamPeer: WorkloadFacts | undefined = undefined;
  upstreamPeerKey = '';
  downstreamPeer: WorkloadFacts | undefined = undefined;
  downstreamPeerKey = '';
  /** The request carried peer-metadata headers: answer with ours (istio/proxy's downstream propagation). */
  peerHeadersReceived = false;
  /** Upstream attempts made (x-envoy-attempt-count, %UPSTREAM_REQUEST_ATTEMPT_COUNT%). */
  attempts = 0;
  span: ActiveSpan | undefined = undefined;
  /** The caller sent trace context headers (the injected ones must replace them). */
  traceHeadersReceived = false;
  /** Envoy's response code details, for access logs. */
  details: string | undefined = undefined;
  /** The response head sent downstream, once known. */
  responseHeaders: HeaderList | undefined = undefined;
  grpcStatus: number | undefined = undefined;
  /** Timers to clear when the exchange completes (route timeout across a streamed body). */
  routeTimer: Timer | undefined = undefined;
  completed = false;

  constructor(conn: ConnectionState, req: ProxyRequest, exchange: ExchangeContext, startTime: number) {
    this.signal = exchange.signal;
    this.connection = exchange.connection;
    this.receivedAt = exchange.receivedAt;
    this.conn = conn;
    this.request = req;
    this.startTime = startTime;
    this.originalPath = req.path;
    this.originalAuthority = req.authority;
  }

  setFlag(flag: string): void {
    this.flags |= flagBit(flag);
  }
}

/** The pipeline's state for a request, when `ctx` came from a Trellis connection manager. */
export function streamOf(ctx: ExchangeContext): PipelineStream | undefined {
  return ctx instanceof PipelineStream ? ctx : undefined;
}
