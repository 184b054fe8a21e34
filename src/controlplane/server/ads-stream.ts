// The protocol state machine shared by SotW and delta ADS streams: identity, group, pushes, ACK/NACK, status.

import { isMessage } from '@bufbuild/protobuf';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Clock, Timer } from '../../shared/clock.js';
import { errorMessage, isTrellisError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { Cluster_DiscoveryType, ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Node } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, PUSH_ORDER } from '../../xds/type-urls.js';
import type { CacheEntry, SnapshotCache } from './cache.js';
import { type MetricsSink, metricType, XDS_METRICS } from './metrics.js';
import { nodeInfo, type PeerInfo, type ProxyInfo } from './proxy-info.js';
import type { Pushable, PushQueue } from './push-queue.js';
import type { EncodedResource } from './resource.js';
import type { ResourceSet } from './snapshot.js';
import { type ProxySyncStatus, typeSyncStatus } from './sync-status.js';
import { TypeState } from './type-state.js';

/** The gRPC side of a stream, reduced to what the state machine needs (in-memory in unit tests). */
export interface StreamTransport {
  readonly peer: PeerInfo;
  /** Writes one serialized response; `done` runs once it left for the connection. */
  write(bytes: Uint8Array, done: () => void): void;
  /** Ends the stream from the server side, with a status when it is an error. */
  end(status?: { code: GrpcStatus; details: string }): void;
}

export type XdsEvent =
  | { kind: 'connect'; proxyId: string; streamId: string; group: string }
  | {
      kind: 'ack';
      proxyId: string;
      streamId: string;
      group: string;
      typeUrl: string;
      version: string;
      at: number;
    }
  | {
      kind: 'nack';
      proxyId: string;
      streamId: string;
      group: string;
      typeUrl: string;
      version: string;
      message: string;
      at: number;
    }
  | { kind: 'disconnect'; proxyId: string; streamId: string; group: string | undefined };

/** The hooks through which the control plane decides who a proxy is and what it gets. */
export interface ServerHooks {
  /** Which snapshot group the proxy belongs to (default: its node id). */
  resolveGroup(proxy: ProxyInfo): string;
  /** Makes sure the group has a snapshot (computed lazily on first connect); calls are deduplicated per group. */
  ensureSnapshot?(proxy: ProxyInfo, group: string): Promise<void>;
  /** Throws to refuse the proxy (e.g. its certificate's identity does not match its node metadata). */
  authorize?(proxy: ProxyInfo): void | Promise<void>;
}

export interface StreamContext {
  readonly cache: SnapshotCache;
  readonly hooks: ServerHooks;
  readonly queue: PushQueue;
  readonly metrics: MetricsSink;
  readonly clock: Clock;
  readonly logger: Logger;
  /** A stream that has not sent its first request (with a node) by then is closed. */
  readonly firstRequestTimeoutMs: number;
  /** A write not handed to the connection by then stops holding a push slot. */
  readonly sendTimeoutMs: number;
  readonly ensureGroup: (proxy: ProxyInfo, group: string) => Promise<void>;
  readonly onEvent: (event: XdsEvent) => void;
  readonly onClose: (stream: AdsStream) => void;
}

const MAX_OUTSTANDING_NONCES = 16;

export interface Response {
  readonly bytes: Uint8Array;
  readonly nonce: string;
  /** Resources sent because they changed (or are new to the client). */
  readonly changed: readonly EncodedResource[];
}

export abstract class AdsStream implements Pushable {
  readonly id: string;
  readonly connectedAt: number;
  abstract readonly protocol: 'sotw' | 'delta';
  protected readonly ctx: StreamContext;
  readonly #transport: StreamTransport;
  readonly #types = new Map<string, TypeState>();
  #proxy: ProxyInfo | undefined;
  #group: string | undefined;
  /** Requests that arrived while the proxy was being authorized and its group resolved. */
  #pending: unknown[] | undefined;
  #entry: CacheEntry | undefined;
  #lastFlushed: CacheEntry | undefined;
  #unwatch: (() => void) | undefined;
  #firstRequestTimer: Timer | undefined;
  #closed = false;
  #nonceCounter = 0;
  /** Envoy (and any client not known otherwise) needs endpoints resent to finish warming an updated cluster. */
  #resendsEndpoints = true;
  readonly #writeWaiters = new Set<() => void>();
  /** An unconverged push: when its change was queued and which types still await an ACK. */
  #converging: { queuedAt: number; types: Set<string> } | undefined;

  constructor(opts: { id: string; transport: StreamTransport; ctx: StreamContext }) {
    this.id = opts.id;
    this.ctx = opts.ctx;
    this.#transport = opts.transport;
    this.connectedAt = this.ctx.clock.now();
    this.#firstRequestTimer = this.ctx.clock.setTimeout(() => {
      this.close({
        code: GrpcStatus.DEADLINE_EXCEEDED,
        details: `no DiscoveryRequest with a node within ${this.ctx.firstRequestTimeoutMs} ms of opening the stream`,
      });
    }, this.ctx.firstRequestTimeoutMs);
    this.#firstRequestTimer.unref?.();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get proxy(): ProxyInfo | undefined {
    return this.#proxy;
  }

  get group(): string | undefined {
    return this.#group;
  }

  /** Entry point for every request; requests are handled in order. */
  receive(request: unknown): void {
    if (this.#closed) return;
    if (this.#pending) {
      this.#pending.push(request);
      return;
    }
    if (!this.#proxy) {
      const node = this.nodeOf(request);
      if (!node) {
        this.close({
          code: GrpcStatus.INVALID_ARGUMENT,
          details: 'the first request on an ADS stream must carry the node (envoy.config.core.v3.Node)',
        });
        return;
      }
      this.#pending = [request];
      void this.#start(node);
      return;
    }
    this.#handle(request);
  }

  /** Closes from the server side (or after the client went away); idempotent. */
  close(status?: { code: GrpcStatus; details: string }): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#firstRequestTimer) this.ctx.clock.clearTimeout(this.#firstRequestTimer);
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.ctx.queue.remove(this);
    for (const resolve of [...this.#writeWaiters]) resolve();
    this.#writeWaiters.clear();
    this.#pending = undefined;
    if (status) this.ctx.logger.info('closing xDS stream', { stream: this.id, ...status });
    try {
      this.#transport.end(status);
    } catch {
      // The transport may already be gone; nothing left to tell it.
    }
    this.ctx.onClose(this);
    if (this.#proxy)
      this.ctx.onEvent({
        kind: 'disconnect',
        proxyId: this.#proxy.node.id,
        streamId: this.id,
        group: this.#group,
      });
  }

  status(): ProxySyncStatus {
    const snapshot = this.#entry?.snapshot;
    return {
      proxyId: this.#proxy?.node.id ?? '',
      streamId: this.id,
      protocol: this.protocol,
      group: this.#group,
      cluster: this.#proxy?.node.cluster ?? '',
      metadata: this.#proxy?.node.metadata ?? {},
      peerAddress: this.#transport.peer.address,
      connectedAt: this.connectedAt,
      types: this.#orderedTypes().map((ts) => typeSyncStatus(ts, snapshot?.version(ts.typeUrl))),
    };
  }

  /** Writes what the client is owed, in warming order (CDS, EDS, LDS, RDS). Called by the push queue. */
  async flush(): Promise<void> {
    const entry = this.#entry;
    if (this.#closed || !entry) return;
    const isPush = this.#lastFlushed !== undefined && this.#lastFlushed !== entry;
    this.#lastFlushed = entry;
    const writes: Promise<void>[] = [];
    for (const ts of this.#orderedTypes()) {
      if (!ts.subscribed || this.#closed) continue;
      const target = entry.snapshot.get(ts.typeUrl);
      const started = this.ctx.clock.monotonic();
      const built = this.respond(ts, target, () => `${this.id}.${(++this.#nonceCounter).toString(36)}`);
      ts.mustRespond = false;
      ts.newlyRequested.clear();
      ts.view.settle(target);
      if (!built) {
        // Nothing this client lacks: it holds `target` already, so a synced type stays synced at the new version.
        if (ts.synced && ts.sent && ts.acked) {
          ts.sent = { ...ts.sent, version: target.version };
          ts.acked = { ...ts.acked, version: target.version };
        }
        continue;
      }
      const nonce = built.nonce;
      ts.sent = { version: target.version, nonce, at: this.ctx.clock.now() };
      ts.outstanding.delete(nonce);
      ts.outstanding.set(nonce, target.version);
      if (ts.outstanding.size > MAX_OUTSTANDING_NONCES)
        ts.outstanding.delete(ts.outstanding.keys().next().value as string);
      if (isPush) {
        this.#converging ??= { queuedAt: entry.queuedAt, types: new Set() };
        this.#converging.queuedAt = Math.min(this.#converging.queuedAt, entry.queuedAt);
        this.#converging.types.add(ts.typeUrl);
      }
      if (ts.typeUrl === CLUSTER_TYPE && this.#resendsEndpoints) this.#resendEndpointsOf(built.changed);
      writes.push(this.#write(ts.typeUrl, built.bytes, started));
    }
    await Promise.all(writes);
  }

  /**
   * Builds the response for one type, or undefined when the client needs nothing. `streamNonce` makes a
   * nonce unique to this stream; a response shared byte for byte by many streams carries its own nonce,
   * unique per content (a nonce only has to tell this stream's responses apart).
   */
  protected abstract respond(
    ts: TypeState,
    target: ResourceSet,
    streamNonce: () => string,
  ): Response | undefined;

  /** The node carried by a request, if any. */
  protected abstract nodeOf(request: unknown): Node | undefined;

  /** Protocol-specific handling of a request once the proxy is known. */
  protected abstract handleRequest(request: unknown): void;

  protected typeState(typeUrl: string): TypeState {
    let ts = this.#types.get(typeUrl);
    if (!ts) {
      ts = new TypeState(typeUrl);
      this.#types.set(typeUrl, ts);
    }
    return ts;
  }

  protected existingTypeState(typeUrl: string): TypeState | undefined {
    return this.#types.get(typeUrl);
  }

  /** Asks the push queue for a flush (responses are throttled together with pushes). */
  protected schedule(): void {
    if (!this.#closed && this.#entry) this.ctx.queue.enqueue(this);
  }

  protected recordAck(ts: TypeState, nonce: string, version: string): void {
    const at = this.ctx.clock.now();
    ts.acked = { version, nonce, at };
    this.#settleConvergence(ts, nonce);
    const proxy = this.#proxy!;
    this.ctx.onEvent({
      kind: 'ack',
      proxyId: proxy.node.id,
      streamId: this.id,
      group: this.#group!,
      typeUrl: ts.typeUrl,
      version,
      at,
    });
  }

  protected recordNack(ts: TypeState, nonce: string, version: string, message: string): void {
    const at = this.ctx.clock.now();
    ts.nack = { version, nonce, message, at };
    this.#settleConvergence(ts, nonce);
    this.ctx.metrics.add(XDS_METRICS.rejects, 1, { type: metricType(ts.typeUrl) });
    const proxy = this.#proxy!;
    this.ctx.logger.warn('proxy rejected config', {
      proxy: proxy.node.id,
      type: metricType(ts.typeUrl),
      version,
      error: message,
    });
    this.ctx.onEvent({
      kind: 'nack',
      proxyId: proxy.node.id,
      streamId: this.id,
      group: this.#group!,
      typeUrl: ts.typeUrl,
      version,
      message,
      at,
    });
  }

  protected recordExpiredNonce(typeUrl: string): void {
    this.ctx.metrics.add(XDS_METRICS.expiredNonce, 1, { type: metricType(typeUrl) });
  }

  async #start(node: Node): Promise<void> {
    const proxy: ProxyInfo = { node: nodeInfo(node), peer: this.#transport.peer };
    this.#proxy = proxy;
    // The Trellis sidecar and gRPC's xDS client apply an updated cluster with the endpoints they hold.
    const agent = proxy.node.userAgentName;
    this.#resendsEndpoints = agent !== 'trellis' && !agent.startsWith('gRPC');
    if (this.#firstRequestTimer) this.ctx.clock.clearTimeout(this.#firstRequestTimer);
    this.#firstRequestTimer = undefined;
    let group: string;
    try {
      await this.ctx.hooks.authorize?.(proxy);
    } catch (e) {
      this.close({
        code: GrpcStatus.PERMISSION_DENIED,
        details: `proxy "${node.id}" refused: ${errorMessage(e)}`,
      });
      return;
    }
    try {
      group = this.ctx.hooks.resolveGroup(proxy);
      if (!this.#closed && !this.ctx.cache.getSnapshot(group)) await this.ctx.ensureGroup(proxy, group);
    } catch (e) {
      const code = isTrellisError(e) ? GrpcStatus.FAILED_PRECONDITION : GrpcStatus.UNAVAILABLE;
      this.close({ code, details: `no configuration for proxy "${node.id}": ${errorMessage(e)}` });
      return;
    }
    if (this.#closed) return;
    this.#group = group;
    this.#unwatch = this.ctx.cache.watch(group, (entry) => {
      this.#entry = entry;
      this.schedule();
    });
    this.#entry = this.ctx.cache.entry(group);
    this.ctx.onEvent({ kind: 'connect', proxyId: node.id, streamId: this.id, group });
    const pending = this.#pending ?? [];
    this.#pending = undefined;
    for (const request of pending) {
      if (this.#closed) return;
      this.#handle(request);
    }
  }

  #handle(request: unknown): void {
    try {
      this.handleRequest(request);
    } catch (e) {
      this.close({ code: GrpcStatus.INVALID_ARGUMENT, details: errorMessage(e) });
    }
  }

  #orderedTypes(): TypeState[] {
    const ordered: TypeState[] = [];
    for (const t of PUSH_ORDER) {
      const ts = this.#types.get(t);
      if (ts) ordered.push(ts);
    }
    for (const [t, ts] of this.#types) if (!(PUSH_ORDER as readonly string[]).includes(t)) ordered.push(ts);
    return ordered;
  }

  /**
   * Envoy finishes warming an updated cluster only when it receives a ClusterLoadAssignment for it, even an
   * unchanged one: so every cluster sent in this push gets its endpoints sent again right after (Envoy only).
   */
  #resendEndpointsOf(clusters: readonly EncodedResource[]): void {
    const eds = this.#types.get(ENDPOINT_TYPE);
    if (!eds?.subscribed || clusters.length === 0) return;
    for (const c of clusters) {
      const name = edsServiceName(c);
      if (name !== undefined && (eds.wildcard || eds.names.has(name))) eds.view.enter(name, null);
    }
  }

  #settleConvergence(ts: TypeState, nonce: string): void {
    // Older nonces are resolved too: a delta client ACKs each response.
    for (const n of [...ts.outstanding.keys()]) {
      ts.outstanding.delete(n);
      if (n === nonce) break;
    }
    const c = this.#converging;
    if (!c || nonce !== ts.sent?.nonce || !c.types.delete(ts.typeUrl)) return;
    if (c.types.size === 0) {
      this.#converging = undefined;
      this.ctx.metrics.observe(XDS_METRICS.convergence, (this.ctx.clock.monotonic() - c.queuedAt) / 1000);
    }
  }

  #write(typeUrl: string, bytes: Uint8Array, started: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: Timer | undefined;
      const finish = (written: boolean) => {
        if (!this.#writeWaiters.delete(waiter)) return;
        if (timer) this.ctx.clock.clearTimeout(timer);
        if (written) {
          const type = metricType(typeUrl);
          this.ctx.metrics.add(XDS_METRICS.pushes, 1, { type });
          this.ctx.metrics.observe(XDS_METRICS.pushTime, (this.ctx.clock.monotonic() - started) / 1000, {
            type,
          });
          this.ctx.metrics.observe(XDS_METRICS.configSize, bytes.byteLength, { type });
        }
        resolve();
      };
      const waiter = () => finish(false);
      this.#writeWaiters.add(waiter);
      timer = this.ctx.clock.setTimeout(() => {
        this.ctx.metrics.add(XDS_METRICS.writeTimeouts, 1);
        finish(false);
      }, this.ctx.sendTimeoutMs);
      timer.unref?.();
      try {
        this.#transport.write(bytes, () => finish(true));
      } catch (e) {
        finish(false);
        this.close({ code: GrpcStatus.INTERNAL, details: `write failed: ${errorMessage(e)}` });
      }
    });
  }
}

const edsNames = new WeakMap<EncodedResource, string | null>();

/** The EDS name a cluster subscribes to: eds_cluster_config.service_name, or the cluster name. */
function edsServiceName(resource: EncodedResource): string | undefined {
  let name = edsNames.get(resource);
  if (name === undefined) {
    name = null;
    if (isMessage(resource.message, ClusterSchema)) {
      const cluster = resource.message;
      const type = cluster.clusterDiscoveryType;
      if (type.case === 'type' && type.value === Cluster_DiscoveryType.EDS)
        name = cluster.edsClusterConfig?.serviceName || cluster.name;
    }
    edsNames.set(resource, name);
  }
  return name ?? undefined;
}
