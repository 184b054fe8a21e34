// The sidecar's ADS client: subscribes, validates, ACKs or NACKs, warms, and publishes immutable snapshots;
// reconnects with jittered backoff and keeps serving the last snapshot while the control plane is away.

import { create, type JsonObject } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { Backoff } from '../../shared/backoff.js';
import { type Clock, systemClock, type Timer } from '../../shared/clock.js';
import { errorMessage } from '../../shared/errors.js';
import { type Logger, silentLogger } from '../../shared/log.js';
import { type Node, NodeSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { AggregatedDiscoveryService } from '../../xds/gen/envoy/service/discovery/v3/ads_pb.js';
import type {
  DeltaDiscoveryRequest,
  DeltaDiscoveryResponse,
  DiscoveryRequest,
  DiscoveryResponse,
} from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { grpcServiceDefinition } from '../../xds/grpc.js';
import { decodeResources, type WireResource } from './decode.js';
import { DeltaSession } from './delta-session.js';
import { FrozenMap } from './frozen-map.js';
import { defaultReferences } from './references.js';
import { ResourceStore } from './resource-store.js';
import type { ChildKind, IngestOptions, SessionHost, XdsSession } from './session.js';
import { SotwSession } from './sotw-session.js';
import {
  type ClientNack,
  KIND_SHORT,
  KIND_TYPE_URL,
  KINDS,
  type ResourceKind,
  type ResourceState,
  type ResourceTypes,
  type XdsDecoders,
  type XdsReferences,
  type XdsSnapshot,
} from './types.js';

export interface XdsNodeOptions {
  id: string;
  cluster?: string;
  /** Istio's node metadata keys (docs/xds-contract.md §1). */
  metadata?: JsonObject;
  locality?: { region?: string; zone?: string; subZone?: string };
  userAgentVersion?: string;
}

export interface XdsClientOptions<T extends ResourceTypes> {
  /** `host:port` of the control plane's xDS port. */
  server: string;
  node: XdsNodeOptions;
  decoders: XdsDecoders<T>;
  references?: Partial<XdsReferences>;
  /** Delta is preferred; a server answering UNIMPLEMENTED to delta makes the client fall back to SotW. */
  protocol?: 'delta' | 'sotw';
  /** Plaintext by default. A function is called on every (re)connect, so rotated certificates are used. */
  credentials?: grpc.ChannelCredentials | (() => grpc.ChannelCredentials);
  channelOptions?: grpc.ChannelOptions;
  /** Reconnect backoff (Envoy's defaults: 500 ms base, 30 s max), full jitter. */
  backoff?: { baseMs?: number; maxMs?: number; random?: () => number };
  /** A cluster or listener waiting for what it references is applied anyway after this long. Default 15 s. */
  warmingTimeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface KindStatus {
  readonly typeUrl: string;
  readonly ackedVersion: string;
  readonly updateSuccess: number;
  readonly updateRejected: number;
  readonly lastNack: ClientNack | undefined;
}

export interface XdsClientStatus {
  readonly server: string;
  readonly protocol: 'delta' | 'sotw';
  readonly connected: boolean;
  /** Wall-clock ms of the current connection's first response. */
  readonly connectedSince: number | undefined;
  readonly reconnects: number;
  readonly kinds: Readonly<Record<ResourceKind, KindStatus>>;
}

type Method = grpc.MethodDefinition<unknown, unknown>;

const SERVICE = grpcServiceDefinition(AggregatedDiscoveryService) as Record<string, Method>;

function buildNode(opts: XdsNodeOptions): Node {
  return create(NodeSchema, {
    id: opts.id,
    cluster: opts.cluster ?? '',
    metadata: opts.metadata,
    locality: opts.locality,
    userAgentName: 'trellis',
    userAgentVersionType: { case: 'userAgentVersion', value: opts.userAgentVersion ?? '' },
  });
}

export class XdsClient<T extends ResourceTypes> {
  readonly #opts: XdsClientOptions<T>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #references: XdsReferences;
  readonly #store: ResourceStore<T>;
  readonly #backoff: Backoff;
  readonly #node: Node;
  #protocol: 'delta' | 'sotw';
  #channel: grpc.Client | undefined;
  #session: XdsSession | undefined;
  #reconnectTimer: Timer | undefined;
  #warmingTimer: Timer | undefined;
  #started = false;
  #closed = false;
  #connectedSince: number | undefined;
  #reconnects = 0;
  readonly #acked: Record<ResourceKind, string> = { listener: '', route: '', cluster: '', endpoint: '' };
  readonly #nacks: Partial<Record<ResourceKind, ClientNack>> = {};
  #lastNack: ClientNack | undefined;
  readonly #counts: Record<ResourceKind, { success: number; rejected: number }> = {
    listener: { success: 0, rejected: 0 },
    route: { success: 0, rejected: 0 },
    cluster: { success: 0, rejected: 0 },
    endpoint: { success: 0, rejected: 0 },
  };
  readonly #receivedOnce = new Set<ResourceKind>();
  #snapshot: XdsSnapshot<T> | undefined;
  readonly #listeners = new Set<(snapshot: XdsSnapshot<T>) => void>();
  #syncedWaiters: ((snapshot: XdsSnapshot<T>) => void)[] = [];
  #synced = false;

  constructor(opts: XdsClientOptions<T>) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#logger = opts.logger ?? silentLogger;
    this.#references = { ...defaultReferences, ...opts.references };
    this.#store = new ResourceStore<T>({ warmingTimeoutMs: opts.warmingTimeoutMs ?? 15_000 });
    this.#backoff = new Backoff({
      baseMs: opts.backoff?.baseMs ?? 500,
      maxMs: opts.backoff?.maxMs ?? 30_000,
      random: opts.backoff?.random,
    });
    this.#node = buildNode(opts.node);
    this.#protocol = opts.protocol ?? 'delta';
  }

  /** Connects; reconnects on its own until close(). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#connect();
  }

  /** Stops for good. The last snapshot stays readable. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#reconnectTimer) this.#clock.clearTimeout(this.#reconnectTimer);
    if (this.#warmingTimer) this.#clock.clearTimeout(this.#warmingTimer);
    this.#disconnect();
  }

  /** The snapshot being served (undefined until the first consistent config). */
  get snapshot(): XdsSnapshot<T> | undefined {
    return this.#snapshot;
  }

  /** Called with every new snapshot; returns the function that unsubscribes. */
  onSnapshot(listener: (snapshot: XdsSnapshot<T>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves once listeners and clusters arrived and nothing received is still warming (readiness). */
  synced(): Promise<XdsSnapshot<T>> {
    if (this.#synced && this.#snapshot) return Promise.resolve(this.#snapshot);
    return new Promise((resolve) => this.#syncedWaiters.push(resolve));
  }

  get connected(): boolean {
    return this.#connectedSince !== undefined;
  }

  get protocol(): 'delta' | 'sotw' {
    return this.#protocol;
  }

  ackedVersions(): Readonly<Record<ResourceKind, string>> {
    return { ...this.#acked };
  }

  lastNack(): ClientNack | undefined {
    return this.#lastNack;
  }

  /** Received resources of a kind, active or warming, as received (for /config_dump). */
  resources<K extends ResourceKind>(kind: K): ResourceState<T[K]>[] {
    return this.#store.states(kind);
  }

  status(): XdsClientStatus {
    const kinds = {} as Record<ResourceKind, KindStatus>;
    for (const k of KINDS) {
      kinds[k] = {
        typeUrl: KIND_TYPE_URL[k],
        ackedVersion: this.#acked[k],
        updateSuccess: this.#counts[k].success,
        updateRejected: this.#counts[k].rejected,
        lastNack: this.#nacks[k],
      };
    }
    return {
      server: this.#opts.server,
      protocol: this.#protocol,
      connected: this.connected,
      connectedSince: this.#connectedSince,
      reconnects: this.#reconnects,
      kinds,
    };
  }

  #connect(): void {
    if (this.#closed) return;
    const credentials =
      typeof this.#opts.credentials === 'function'
        ? this.#opts.credentials()
        : (this.#opts.credentials ?? grpc.credentials.createInsecure());
    // A fresh channel per attempt: our backoff governs reconnects, not the channel's own.
    const channel = new grpc.Client(this.#opts.server, credentials, {
      'grpc.max_receive_message_length': -1,
      // A large HTTP/2 window (Envoy's default is 256 MiB) so a big push is not paced by WINDOW_UPDATEs.
      'grpc-node.flow_control_window': 64 * 1024 * 1024,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      ...this.#opts.channelOptions,
    });
    this.#channel = channel;
    const method =
      this.#protocol === 'delta' ? SERVICE.deltaAggregatedResources! : SERVICE.streamAggregatedResources!;
    const call = channel.makeBidiStreamRequest(
      method.path,
      method.requestSerialize as (v: unknown) => Buffer,
      method.responseDeserialize as (b: Buffer) => unknown,
    );
    // The session is only "current" until the client moves on (its late events are then ignored).
    let session: XdsSession | undefined;
    const host = this.#host(() => session !== undefined && session === this.#session);
    session =
      this.#protocol === 'delta'
        ? new DeltaSession({
            call: call as grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>,
            host,
            logger: this.#logger,
          })
        : new SotwSession({
            call: call as grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>,
            host,
            logger: this.#logger,
          });
    this.#session = session;
    call.on('error', () => {
      // Reported through 'status'.
    });
    call.on('status', (status: grpc.StatusObject) => this.#onStreamEnd(session, status));
    session.open();
  }

  #onStreamEnd(session: XdsSession, status: grpc.StatusObject): void {
    if (session !== this.#session) return;
    const wasConnected = this.connected;
    this.#disconnect();
    if (this.#closed) return;
    if (this.#protocol === 'delta' && status.code === grpc.status.UNIMPLEMENTED && !wasConnected) {
      this.#logger.warn('control plane does not implement delta xDS; falling back to state of the world', {
        server: this.#opts.server,
      });
      this.#protocol = 'sotw';
    }
    const delay = this.#backoff.next();
    this.#logger.info('xDS stream ended; the last config keeps serving', {
      server: this.#opts.server,
      code: status.code,
      details: status.details,
      retryInMs: delay,
    });
    this.#reconnects++;
    this.#reconnectTimer = this.#clock.setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#connect();
    }, delay);
  }

  #disconnect(): void {
    const session = this.#session;
    const channel = this.#channel;
    this.#session = undefined;
    this.#channel = undefined;
    this.#connectedSince = undefined;
    try {
      session?.cancel();
    } catch {
      // Already ended.
    }
    channel?.close();
  }

  #host(current: () => boolean): SessionHost {
    return {
      node: this.#node,
      current,
      ackedVersion: (kind) => this.#acked[kind],
      heldVersions: (kind, only) => {
        const out: Record<string, string> = {};
        for (const [name, e] of this.#store.received(kind))
          if (!only || only.has(name)) out[name] = e.version;
        return out;
      },
      wanted: (kind) => this.#store.wanted(kind),
      ingest: (kind, resources, opts) => this.#ingest(kind, resources, opts),
      received: () => {
        if (this.#connectedSince === undefined) {
          this.#connectedSince = this.#clock.now();
          this.#backoff.reset();
        }
      },
      syncSubscriptions: () => this.#syncSubscriptions(),
    };
  }

  #ingest(kind: ResourceKind, resources: readonly WireResource[], opts: IngestOptions): string | undefined {
    let message: string | undefined;
    try {
      const { entries, errors } = decodeResources<T, typeof kind>({
        kind,
        resources,
        decoders: this.#opts.decoders,
        references: this.#references,
        now: this.#clock.now(),
      });
      if (errors.length > 0) {
        message = `${KIND_SHORT[kind]} update rejected (version ${opts.version || '(none)'}): ${errors.join('; ')}`;
      } else {
        const kept = opts.only ? entries.filter((e) => opts.only!.has(e.name)) : entries;
        if (opts.complete) this.#store.replaceAll(kind, kept);
        else this.#store.upsert(kind, kept);
        if (opts.removed.length > 0) this.#store.remove(kind, opts.removed);
      }
    } catch (e) {
      message = `${KIND_SHORT[kind]} update rejected (version ${opts.version || '(none)'}): ${errorMessage(e)}`;
    }
    if (message !== undefined) {
      const nack: ClientNack = {
        kind,
        typeUrl: KIND_TYPE_URL[kind],
        version: opts.version,
        nonce: opts.nonce,
        message,
        at: this.#clock.now(),
      };
      this.#nacks[kind] = nack;
      this.#lastNack = nack;
      this.#counts[kind].rejected++;
      this.#logger.warn('rejected xDS update; the previous config keeps serving', { error: message });
      return message;
    }
    this.#acked[kind] = opts.version;
    this.#counts[kind].success++;
    this.#receivedOnce.add(kind);
    this.#publish();
    return undefined;
  }

  /** Tells the session which routes and endpoints the config now needs (after the ACK, as Envoy does). */
  #syncSubscriptions(): void {
    const session = this.#session;
    if (!session) return;
    for (const kind of ['endpoint', 'route'] as ChildKind[])
      session.updateSubscription(kind, this.#store.wanted(kind));
  }

  /** Applies what is consistent and hands out a new immutable snapshot if anything served changed. */
  #publish(): void {
    const now = this.#clock.monotonic();
    const changed = new Set(this.#store.apply(now));
    // Routes and endpoints that no parent needs any more are forgotten in the same snapshot.
    for (const kind of ['endpoint', 'route'] as ChildKind[])
      this.#store.retain(kind, this.#store.wanted(kind));
    for (const k of this.#store.apply(now)) changed.add(k);
    if (changed.size > 0 || !this.#snapshot) {
      const previous = this.#snapshot;
      const mapOf = <K extends ResourceKind>(kind: K, old: ReadonlyMap<string, T[K]> | undefined) =>
        old && !changed.has(kind)
          ? old
          : new FrozenMap<string, T[K]>(
              [...this.#store.applied(kind)].map(([n, e]) => [n, e.value] as const),
            );
      const snapshot: XdsSnapshot<T> = Object.freeze({
        listeners: mapOf('listener', previous?.listeners),
        routes: mapOf('route', previous?.routes),
        clusters: mapOf('cluster', previous?.clusters),
        endpoints: mapOf('endpoint', previous?.endpoints),
        versions: Object.freeze({ ...this.#acked }),
        sequence: (previous?.sequence ?? 0) + 1,
      });
      this.#snapshot = snapshot;
      for (const listener of [...this.#listeners]) {
        try {
          listener(snapshot);
        } catch (e) {
          this.#logger.error('snapshot listener threw', { error: errorMessage(e) });
        }
      }
    }
    this.#checkSynced();
    this.#armWarmingTimer();
  }

  #checkSynced(): void {
    if (this.#synced || !this.#snapshot) return;
    if (!this.#receivedOnce.has('cluster') || !this.#receivedOnce.has('listener') || !this.#store.warm)
      return;
    this.#synced = true;
    const waiters = this.#syncedWaiters;
    this.#syncedWaiters = [];
    for (const w of waiters) w(this.#snapshot);
  }

  #armWarmingTimer(): void {
    if (this.#warmingTimer) this.#clock.clearTimeout(this.#warmingTimer);
    this.#warmingTimer = undefined;
    const deadline = this.#store.nextWarmingDeadline();
    if (deadline === undefined || this.#closed) return;
    this.#warmingTimer = this.#clock.setTimeout(
      () => {
        this.#warmingTimer = undefined;
        this.#publish();
      },
      Math.max(0, deadline - this.#clock.monotonic()),
    );
    this.#warmingTimer.unref?.();
  }
}
