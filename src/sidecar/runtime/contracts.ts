// The seams inside the sidecar process: what the HTTP pipeline (sidecar/http/pipeline) needs from the core
// (listeners, clusters, identity, telemetry sinks) and what it offers back. Types only.

import type { Socket } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import type { IstioMetrics } from '../../telemetry/metrics/istio.js';
import type { WorkloadFacts } from '../../telemetry/metrics/istio-labels.js';
import type { RequestRecord } from '../../telemetry/record.js';
import type { StatsStore } from '../../telemetry/stats/store.js';
import type { Tracer } from '../../telemetry/trace/tracer.js';
import type {
  AccessLogConfig,
  ClusterConfig,
  HcmConfig,
  RouteTable,
  TracingConfig,
} from '../config/model.js';
import type { CancelSignal } from '../http/cancel.js';
import type { ProxyRequest, ProxyResponse } from '../http/message.js';
import type { Host } from '../upstream/lb/host.js';
import type { UpstreamOutcome } from '../upstream/outlier/index.js';

/** Everything known about a downstream connection once the listener handed it to a filter chain. */
export interface DownstreamConnection {
  readonly socket: Socket;
  readonly direction: 'inbound' | 'outbound' | 'gateway';
  readonly listenerName: string;
  readonly filterChainName: string;
  /** The address the client connected to before capture (SO_ORIGINAL_DST), or the local address. */
  readonly destination: { address: string; port: number };
  readonly source: { address: string; port: number };
  /** The TLS session the sidecar terminated, if any. */
  readonly tls?: {
    /** Verified peer SPIFFE URI (mesh mTLS), or undefined for one-way TLS. */
    readonly peerIdentity?: string;
    readonly peerCertificate?: PeerCertificate;
    readonly localIdentity?: string;
    readonly sni?: string;
    readonly alpn?: string;
  };
  /** Wall-clock ms when the connection was accepted. */
  readonly acceptedAt: number;
}

/** An error the core raises when it cannot produce a response, with its Envoy flag (UH, UO, UF, NC, ...). */
export interface UpstreamFailure extends Error {
  readonly flag: string;
  /** A short reason naming the cluster and why; becomes `x-trellis-reason`. */
  readonly reason: string;
  /** True when the request may be retried (nothing was sent or the upstream reset before responding). */
  readonly retriable: boolean;
  /** The host that failed, when one was picked. */
  readonly host?: Host;
}

export interface UpstreamRequestOptions {
  /** Aborts the upstream attempt (downstream gone, per-try or route timeout). */
  signal: CancelSignal;
  /** RING_HASH/MAGLEV hash computed from the route's hash policies. */
  hash?: bigint;
  /** Hosts already tried by this request (previous_hosts retry predicate). */
  previousHosts?: ReadonlySet<Host>;
  hostSelectionRetryMaxAttempts?: number;
  /** ORIGINAL_DST / passthrough clusters: where the connection was going. */
  originalDestination?: { address: string; port: number };
  /** Tells the cluster this attempt is a retry (counts against max_retries and the retry budget). */
  retry?: boolean;
}

export interface UpstreamAttempt {
  readonly response: ProxyResponse;
  readonly host: Host;
  /** The upstream peer's verified SPIFFE URI when the hop was mesh mTLS. */
  readonly upstreamPeerIdentity?: string;
  /** Local address:port of the upstream connection (for access logs). */
  readonly upstreamLocalAddress?: string;
  /** The caller reports how the attempt ended once the response is classified (outlier detection, stats). */
  done(outcome: UpstreamOutcome): void;
}

/** One cluster as the router uses it; the core keeps it current as CDS/EDS change. */
export interface UpstreamCluster {
  readonly name: string;
  readonly config: ClusterConfig;
  /**
   * Picks a host (load balancer, health, previous hosts), applies circuit breakers (503 UO on overflow),
   * and sends the request through the host's pool with the cluster's transport (mesh mTLS with secure naming,
   * TLS origination, or plaintext). Rejects with an UpstreamFailure.
   */
  request(req: ProxyRequest, opts: UpstreamRequestOptions): Promise<UpstreamAttempt>;
  /** May this request be retried now? Checks max_retries and the retry budget; false = URX/overflow. */
  tryStartRetry(): boolean;
  retryFinished(): void;
}

export interface ClusterManager {
  get(name: string): UpstreamCluster | undefined;
}

/** Route configurations by RDS name, always the latest applied snapshot. */
export interface RouteProvider {
  get(name: string): RouteTable | undefined;
}

/** Where the pipeline reports what happened; the core owns the registries and exporters. */
export interface SidecarTelemetry {
  readonly istio: IstioMetrics;
  readonly stats: StatsStore;
  /** This proxy's own workload, for metric labels and metadata exchange. */
  readonly local: WorkloadFacts & { principal?: string; nodeId: string; meshId: string };
  accessLoggers(configs: readonly AccessLogConfig[]): { log(record: RequestRecord): void }[];
  /** A tracer exporting to the configured collector cluster; undefined when tracing is off. */
  tracer(config: TracingConfig | undefined): Tracer | undefined;
}

export interface PipelineDeps {
  clusters: ClusterManager;
  routes: RouteProvider;
  telemetry: SidecarTelemetry;
  /** Whether the proxy is draining: responses then carry `connection: close` / GOAWAY. */
  draining(): boolean;
}

/** What the core calls: one per HCM (filter chain), rebuilt when the listener's config changes. */
export interface HttpConnectionManager {
  /** Takes over a downstream connection (TLS already terminated); serves HTTP/1.1, h2 or h2c on it. */
  serve(conn: DownstreamConnection): void;
  /** Stops taking new requests, lets in-flight ones finish (drain), then resolves. */
  drain(deadlineMs: number): Promise<void>;
}

export type HttpConnectionManagerFactory = (config: HcmConfig, deps: PipelineDeps) => HttpConnectionManager;
