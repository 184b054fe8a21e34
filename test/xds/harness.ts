// Test harness: an ADS server on loopback and Trellis xDS clients against it, with event-driven waits.

import {
  AdsServer,
  type AdsServerOptions,
  type ListenOptions,
} from '../../src/controlplane/server/ads-server.js';
import type { XdsEvent } from '../../src/controlplane/server/ads-stream.js';
import { SnapshotCache } from '../../src/controlplane/server/cache.js';
import { MemoryMetrics } from '../../src/controlplane/server/metrics.js';
import { protoDecoders } from '../../src/sidecar/xds-client/proto-decoders.js';
import type {
  ProtoResources,
  ResourceTypes,
  XdsDecoders,
  XdsSnapshot,
} from '../../src/sidecar/xds-client/types.js';
import { XdsClient, type XdsClientOptions } from '../../src/sidecar/xds-client/xds-client.js';

/** Rejects with `what` if `promise` has not settled in time, so a broken protocol fails instead of hanging. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export interface TestServer {
  readonly server: AdsServer;
  readonly cache: SnapshotCache;
  readonly metrics: MemoryMetrics;
  readonly port: number;
  readonly events: XdsEvent[];
  /** Resolves with the first event (already seen or future) matching `match`. */
  event(match: (e: XdsEvent) => boolean, what: string, ms?: number): Promise<XdsEvent>;
  close(): Promise<void>;
}

export async function startServer(
  opts: Partial<AdsServerOptions> & { listen?: ListenOptions } = {},
): Promise<TestServer> {
  const cache = opts.cache ?? new SnapshotCache();
  const metrics = new MemoryMetrics();
  const events: XdsEvent[] = [];
  const waiters = new Set<{ match: (e: XdsEvent) => boolean; resolve: (e: XdsEvent) => void }>();
  const server = new AdsServer({
    ...opts,
    cache,
    metrics,
    onEvent: (e) => {
      events.push(e);
      for (const w of [...waiters])
        if (w.match(e)) {
          waiters.delete(w);
          w.resolve(e);
        }
      opts.onEvent?.(e);
    },
  });
  const { port } = await server.listen({ ...opts.listen });
  return {
    server,
    cache,
    metrics,
    port,
    events,
    event(match, what, ms = 10_000) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return within(new Promise<XdsEvent>((resolve) => waiters.add({ match, resolve })), ms, what);
    },
    close: () => server.close(),
  };
}

export function startClient<T extends ResourceTypes = ProtoResources>(
  port: number,
  opts: Partial<XdsClientOptions<T>> & { protocol: 'delta' | 'sotw' },
): XdsClient<T> {
  const client = new XdsClient<T>({
    server: `127.0.0.1:${port}`,
    node: { id: 'sidecar~127.0.0.1~test-0.default~default.svc.cluster.local', cluster: 'test.default' },
    decoders: protoDecoders as unknown as XdsDecoders<T>,
    backoff: { baseMs: 20, maxMs: 200 },
    ...opts,
  });
  client.start();
  return client;
}

/** Resolves with the first snapshot (current or future) that satisfies `match`. */
export function snapshotWhere<T extends ResourceTypes>(
  client: XdsClient<T>,
  match: (s: XdsSnapshot<T>) => boolean,
  what: string,
  ms = 10_000,
): Promise<XdsSnapshot<T>> {
  const current = client.snapshot;
  if (current && match(current)) return Promise.resolve(current);
  let off: () => void = () => {};
  const found = new Promise<XdsSnapshot<T>>((resolve) => {
    off = client.onSnapshot((s) => {
      if (match(s)) resolve(s);
    });
  });
  return within(found, ms, what).finally(() => off());
}
