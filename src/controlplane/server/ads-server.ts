// The ADS gRPC service (SotW and delta) over the snapshot cache: mountable on any grpc-js server, TLS or not.

import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { type Clock, systemClock } from '../../shared/clock.js';
import { TrellisError } from '../../shared/errors.js';
import { type Logger, silentLogger } from '../../shared/log.js';
import { AggregatedDiscoveryService } from '../../xds/gen/envoy/service/discovery/v3/ads_pb.js';
import { grpcServiceDefinition } from '../../xds/grpc.js';
import type { AdsStream, ServerHooks, StreamContext, StreamTransport, XdsEvent } from './ads-stream.js';
import type { SnapshotCache } from './cache.js';
import { DeltaStream } from './delta-stream.js';
import { type MetricsSink, noopMetrics, XDS_METRICS } from './metrics.js';
import type { ProxyInfo } from './proxy-info.js';
import { PushQueue } from './push-queue.js';
import { SotwStream } from './sotw-stream.js';
import type { ProxySyncStatus } from './sync-status.js';

export interface AdsServerOptions {
  cache: SnapshotCache;
  /** The snapshot group of a proxy (go-control-plane's NodeHash). Default: the node id. */
  resolveGroup?: (proxy: ProxyInfo) => string;
  /** Computes a group's snapshot on first connect when the cache has none; deduplicated per group. */
  ensureSnapshot?: (proxy: ProxyInfo, group: string) => Promise<void>;
  /** Throws to refuse a proxy; the stream ends with PERMISSION_DENIED and the error's message. */
  authorize?: (proxy: ProxyInfo) => void | Promise<void>;
  /** Connect, ACK, NACK and disconnect events (tests, benchmarks, dashboards). */
  onEvent?: (event: XdsEvent) => void;
  metrics?: MetricsSink;
  clock?: Clock;
  logger?: Logger;
  /** Streams writing at once (Istio's PILOT_PUSH_THROTTLE is 100). */
  maxConcurrentPushes?: number;
  /** A stream must send its first request (with the node) within this time. Default 30 s. */
  firstRequestTimeoutMs?: number;
  /** A write not flushed to the connection by then releases its push slot. Default 30 s. */
  sendTimeoutMs?: number;
  /** Which ADS variants to serve; a client calling another gets UNIMPLEMENTED. Default both. */
  protocols?: readonly ('sotw' | 'delta')[];
}

export interface ListenOptions {
  /** Loopback by default. */
  host?: string;
  port?: number;
  /** Plaintext by default; pass `grpc.ServerCredentials.createSsl(...)` for the mTLS port. */
  credentials?: grpc.ServerCredentials;
  /** HTTP/2 PING interval on idle connections; a client that does not answer is dropped. Default 30 s. */
  keepaliveTimeMs?: number;
  /** How long a PING may go unanswered. Default 10 s. */
  keepaliveTimeoutMs?: number;
  /** A connection without any stream for this long is closed. Default 5 min. */
  maxConnectionIdleMs?: number;
  /** Connections are recycled (GOAWAY) after this long, so proxies rebalance across replicas. Default 30 min. */
  maxConnectionAgeMs?: number;
}

/** grpc-js channel options for the keepalive and lifetime settings above (also usable with `addTo`). */
export function adsServerChannelOptions(opts: ListenOptions = {}): grpc.ServerOptions {
  return {
    'grpc.keepalive_time_ms': opts.keepaliveTimeMs ?? 30_000,
    'grpc.keepalive_timeout_ms': opts.keepaliveTimeoutMs ?? 10_000,
    'grpc.max_connection_idle_ms': opts.maxConnectionIdleMs ?? 300_000,
    'grpc.max_connection_age_ms': opts.maxConnectionAgeMs ?? 1_800_000,
    'grpc.max_connection_age_grace_ms': 60_000,
    // Delta reconnects carry every known resource version; allow large requests.
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
  };
}

/** The ADS service definition; responses are pre-serialized bytes, so the serializer is the identity. */
function adsServiceDefinition(): grpc.ServiceDefinition {
  const def = grpcServiceDefinition(AggregatedDiscoveryService) as Record<
    string,
    grpc.MethodDefinition<unknown, unknown>
  >;
  const out: Record<string, grpc.MethodDefinition<unknown, Buffer>> = {};
  for (const [name, method] of Object.entries(def)) {
    out[name] = { ...method, responseSerialize: (b: Buffer) => b } as grpc.MethodDefinition<unknown, Buffer>;
  }
  return out as grpc.ServiceDefinition;
}

export interface AdsServerStats {
  /** Open streams (with or without a known node). */
  streams: number;
  /** Streams waiting for a push slot or writing. */
  queued: number;
  /** Groups whose snapshot is being computed for a first connect. */
  ensuring: number;
  /** Cache watchers held by streams. */
  watchers: number;
}

export class AdsServer {
  readonly #cache: SnapshotCache;
  readonly #ctx: StreamContext;
  readonly #streams = new Map<string, AdsStream>();
  readonly #ensuring = new Map<string, Promise<void>>();
  readonly #queue: PushQueue;
  readonly #metrics: MetricsSink;
  readonly #logger: Logger;
  readonly #instance = randomBytes(3).toString('hex');
  readonly #protocols: readonly ('sotw' | 'delta')[];
  #nextStream = 0;
  #grpcServer: grpc.Server | undefined;

  constructor(opts: AdsServerOptions) {
    this.#cache = opts.cache;
    this.#metrics = opts.metrics ?? noopMetrics;
    this.#logger = opts.logger ?? silentLogger;
    this.#queue = new PushQueue({ concurrency: opts.maxConcurrentPushes ?? 100 });
    this.#protocols = opts.protocols ?? ['sotw', 'delta'];
    const hooks: ServerHooks = {
      resolveGroup: opts.resolveGroup ?? ((proxy) => proxy.node.id),
      ensureSnapshot: opts.ensureSnapshot,
      authorize: opts.authorize,
    };
    const onEvent = opts.onEvent;
    this.#ctx = {
      cache: this.#cache,
      hooks,
      queue: this.#queue,
      metrics: this.#metrics,
      clock: opts.clock ?? systemClock,
      logger: this.#logger,
      firstRequestTimeoutMs: opts.firstRequestTimeoutMs ?? 30_000,
      sendTimeoutMs: opts.sendTimeoutMs ?? 30_000,
      ensureGroup: (proxy, group) => this.#ensureGroup(proxy, group),
      onEvent: (event) => {
        if (event.kind === 'connect' || event.kind === 'disconnect') this.#recordConnected();
        if (onEvent) {
          try {
            onEvent(event);
          } catch (e) {
            this.#logger.error('xDS event hook threw', { error: String(e) });
          }
        }
      },
      onClose: (stream) => {
        this.#streams.delete(stream.id);
      },
    };
  }

  /** Adds the ADS service to a grpc-js server the caller owns (e.g. the mTLS port that also serves the CA). */
  addTo(server: grpc.Server): void {
    const def = adsServiceDefinition() as Record<string, grpc.MethodDefinition<unknown, Buffer>>;
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const [method, protocol] of [
      ['streamAggregatedResources', 'sotw'],
      ['deltaAggregatedResources', 'delta'],
    ] as const) {
      if (this.#protocols.includes(protocol))
        handlers[method] = (call: grpc.ServerDuplexStream<unknown, Buffer>) => this.#accept(call, protocol);
      else delete def[method];
    }
    server.addService(def, handlers);
  }

  /** Starts a grpc-js server of its own; resolves with the bound port. */
  async listen(opts: ListenOptions = {}): Promise<{ port: number }> {
    if (this.#grpcServer)
      throw new TrellisError('XDS_SERVER_LISTENING', 'the ADS server is already listening');
    const server = new grpc.Server(adsServerChannelOptions(opts));
    this.addTo(server);
    const host = opts.host ?? '127.0.0.1';
    const address = `${host.includes(':') ? `[${host}]` : host}:${opts.port ?? 0}`;
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(address, opts.credentials ?? grpc.ServerCredentials.createInsecure(), (err, p) =>
        err
          ? reject(new TrellisError('XDS_LISTEN', `cannot listen for xDS on ${address}: ${err.message}`))
          : resolve(p),
      );
    });
    this.#grpcServer = server;
    this.#logger.info('xDS server listening', { address: `${host}:${port}` });
    return { port };
  }

  /** Ends every stream (clients reconnect elsewhere), then stops the server it started, if any. */
  async close(opts: { graceMs?: number } = {}): Promise<void> {
    for (const stream of [...this.#streams.values()])
      stream.close({ code: grpc.status.UNAVAILABLE, details: 'xDS server shutting down' });
    const server = this.#grpcServer;
    this.#grpcServer = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, opts.graceMs ?? 1000);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Sync status of every connected proxy (streams whose node is known). */
  proxyStatus(): ProxySyncStatus[] {
    const out: ProxySyncStatus[] = [];
    for (const s of this.#streams.values()) if (s.proxy && !s.closed) out.push(s.status());
    return out.sort((a, b) => a.proxyId.localeCompare(b.proxyId) || a.streamId.localeCompare(b.streamId));
  }

  /** Number of proxies connected (Istio's `pilot_xds`). */
  get connectedProxies(): number {
    let n = 0;
    for (const s of this.#streams.values()) if (s.group !== undefined && !s.closed) n++;
    return n;
  }

  /** Groups that have at least one connected proxy: the caller may drop the others' snapshots. */
  groupsInUse(): Set<string> {
    const groups = new Set<string>();
    for (const s of this.#streams.values()) if (s.group !== undefined) groups.add(s.group);
    return groups;
  }

  stats(): AdsServerStats {
    return {
      streams: this.#streams.size,
      queued: this.#queue.size,
      ensuring: this.#ensuring.size,
      watchers: this.#cache.watcherCount,
    };
  }

  /** Resolves once no stream is waiting to push or writing (for tests and benchmarks). */
  pushesIdle(): Promise<void> {
    return this.#queue.idle();
  }

  /** Attaches a stream over any transport (the gRPC path uses it; tests use in-memory transports). */
  openStream(protocol: 'sotw' | 'delta', transport: StreamTransport): AdsStream {
    const id = `${this.#instance}-${(this.#nextStream++).toString(36)}`;
    const opts = { id, transport, ctx: this.#ctx };
    const stream = protocol === 'sotw' ? new SotwStream(opts) : new DeltaStream(opts);
    this.#streams.set(id, stream);
    return stream;
  }

  #accept(call: grpc.ServerDuplexStream<unknown, Buffer>, protocol: 'sotw' | 'delta'): void {
    const auth = call.getAuthContext();
    let ended = false;
    const transport: StreamTransport = {
      peer: {
        address: call.getPeer(),
        transportSecurity: auth?.transportSecurityType,
        certificate: auth?.sslPeerCertificate,
      },
      write: (bytes, done) => {
        if (call.cancelled || call.destroyed || call.writableEnded) return;
        const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        call.write(buf, () => done());
      },
      end: (status) => {
        if (ended || call.cancelled || call.destroyed) return;
        ended = true;
        if (status) call.emit('error', Object.assign(new Error(status.details), status));
        else call.end();
      },
    };
    const stream = this.openStream(protocol, transport);
    call.on('data', (request: unknown) => stream.receive(request));
    // The client half-closed, cancelled or the connection died: forget the stream.
    call.on('end', () => stream.close());
    call.on('cancelled', () => stream.close());
    call.on('close', () => stream.close());
    call.on('error', () => stream.close());
  }

  #ensureGroup(proxy: ProxyInfo, group: string): Promise<void> {
    const ensure = this.#ctx.hooks.ensureSnapshot;
    if (!ensure) return Promise.resolve();
    let running = this.#ensuring.get(group);
    if (!running) {
      running = ensure(proxy, group).finally(() => this.#ensuring.delete(group));
      this.#ensuring.set(group, running);
    }
    return running;
  }

  #recordConnected(): void {
    this.#metrics.set(XDS_METRICS.connected, this.connectedProxies);
  }
}
