// Pushes: turns a changed mesh into new snapshots for every group of connected proxies, debounced; endpoint-only
// changes recompute just EDS.

import type { Clock } from '../shared/clock.js';
import { systemClock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import { type Logger, silentLogger } from '../shared/log.js';
import { ClusterSchema } from '../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../xds/gen/envoy/config/route/v3/route_pb.js';
import { ENDPOINT_TYPE } from '../xds/type-urls.js';
import type { MeshIndex } from './index/mesh-index.js';
import {
  type DebounceBatch,
  Debouncer,
  encodeResource,
  type ProxyInfo,
  Snapshot,
  type SnapshotCache,
} from './server/index.js';
import { generateEndpoints, generateForProxy, type ProxyResources } from './translate/generate.js';
import { type MeshProxy, proxyFromNode, proxyGroupKey } from './translate/proxy.js';

/** What changed: `full` recomputes every type; `endpoints` only EDS (Istio's incremental push). */
export type ChangeKind = 'full' | 'endpoints';

export interface PushEvent {
  kind: ChangeKind;
  reason: string;
}

export interface PushControllerOptions {
  cache: SnapshotCache;
  /** The current indexes (rebuilt by the caller when its inputs change). */
  index: () => MeshIndex;
  /** The groups that still have connected proxies. */
  groupsInUse: () => Set<string>;
  /** The config store revision the current index reflects (recorded per group: "applied to N proxies"). */
  revision?: () => number;
  debounceMs?: number;
  maxDebounceMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Called after each push with how long translation took, for metrics. */
  onPush?: (info: { kind: ChangeKind; groups: number; ms: number; reasons: string[] }) => void;
}

export function snapshotOf(res: ProxyResources): Snapshot {
  return Snapshot.create([
    ...res.clusters.map((c) => encodeResource(ClusterSchema, c)),
    ...res.endpoints.map((e) => encodeResource(ClusterLoadAssignmentSchema, e)),
    ...res.listeners.map((l) => encodeResource(ListenerSchema, l)),
    ...res.routes.map((r) => encodeResource(RouteConfigurationSchema, r)),
  ]);
}

export class PushController {
  readonly #opts: PushControllerOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  /** One representative proxy per group: every member gets the same config by construction of the key. */
  readonly #groups = new Map<string, MeshProxy>();
  readonly #debouncer: Debouncer<PushEvent>;
  readonly #revisions = new Map<string, number>();
  #pushes = 0;

  constructor(opts: PushControllerOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#logger = opts.logger ?? silentLogger;
    this.#debouncer = new Debouncer<PushEvent>({
      delayMs: opts.debounceMs ?? 100,
      maxDelayMs: opts.maxDebounceMs ?? 1000,
      flush: (batch) => this.#push(batch),
      clock: this.#clock,
      logger: this.#logger,
    });
  }

  get pushes(): number {
    return this.#pushes;
  }

  /** The ADS server's resolveGroup hook. */
  resolveGroup = (info: ProxyInfo): string => {
    const proxy = proxyFromNode(info.node);
    const group = proxyGroupKey(proxy);
    if (!this.#groups.has(group)) this.#groups.set(group, proxy);
    return group;
  };

  /** The ADS server's ensureSnapshot hook: computes a new group's snapshot on its first connect. */
  ensureSnapshot = async (info: ProxyInfo, group: string): Promise<void> => {
    const proxy = this.#groups.get(group) ?? proxyFromNode(info.node);
    this.#groups.set(group, proxy);
    const revision = this.#opts.revision?.() ?? 0;
    this.#opts.cache.setSnapshot(group, snapshotOf(generateForProxy(this.#opts.index(), proxy)));
    this.#revisions.set(group, revision);
  };

  /** The config revision a group's current snapshot was computed from. */
  revisionOf(group: string): number | undefined {
    return this.#revisions.get(group);
  }

  /** The proxy a group stands for (for debug pages and config_dump). */
  proxyOf(group: string): MeshProxy | undefined {
    return this.#groups.get(group);
  }

  /** Something changed; a push follows after the debounce. */
  changed(event: PushEvent): void {
    this.#debouncer.push(event);
  }

  /** Pushes pending changes now (tests, shutdown). */
  flush(): Promise<void> {
    return this.#debouncer.flushNow();
  }

  close(): void {
    this.#debouncer.close();
  }

  #push(batch: DebounceBatch<PushEvent>): void {
    const started = this.#clock.monotonic();
    const kind: ChangeKind = batch.events.some((e) => e.kind === 'full') ? 'full' : 'endpoints';
    const revision = this.#opts.revision?.() ?? 0;
    const index = this.#opts.index();
    const inUse = this.#opts.groupsInUse();
    let groups = 0;
    for (const [group, proxy] of this.#groups) {
      if (!inUse.has(group)) {
        // Nobody of this group is connected: drop it; a reconnect recomputes it from scratch.
        this.#groups.delete(group);
        this.#revisions.delete(group);
        this.#opts.cache.clearSnapshot(group);
        continue;
      }
      try {
        const previous = this.#opts.cache.getSnapshot(group);
        const snapshot =
          kind === 'endpoints' && previous
            ? previous.withResources(
                ENDPOINT_TYPE,
                generateEndpoints(index, proxy).map((e) => encodeResource(ClusterLoadAssignmentSchema, e)),
              )
            : snapshotOf(generateForProxy(index, proxy));
        this.#opts.cache.setSnapshot(group, snapshot, { queuedAt: batch.firstAt });
        this.#revisions.set(group, revision);
        groups++;
      } catch (e) {
        // One proxy's translation failing must not stop the others; it keeps its last snapshot.
        this.#logger.error('translation failed; the group keeps its previous config', {
          proxy: proxy.id,
          error: errorMessage(e),
        });
      }
    }
    this.#pushes++;
    const ms = this.#clock.monotonic() - started;
    const reasons = [...new Set(batch.events.map((e) => e.reason))];
    this.#logger.debug('push', { kind, groups, ms: Math.round(ms), reasons });
    this.#opts.onPush?.({ kind, groups, ms, reasons });
  }
}
