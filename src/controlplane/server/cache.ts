// The snapshot cache: one snapshot per group of identical proxies, and the streams watching each group.

import { type Clock, systemClock } from '../../shared/clock.js';
import type { Snapshot } from './snapshot.js';

/** A group's current snapshot and when the change that produced it was first queued. */
export interface CacheEntry {
  readonly group: string;
  readonly snapshot: Snapshot;
  /** Monotonic ms when the change was queued (before debounce): the start of convergence time. */
  readonly queuedAt: number;
}

export type CacheWatcher = (entry: CacheEntry) => void;

export interface SetSnapshotOptions {
  /** Monotonic ms (the cache's clock) when the triggering change was queued; defaults to now. */
  queuedAt?: number;
}

/**
 * Keyed by group (go-control-plane's NodeHash): proxies with the same inputs share one snapshot, so it is
 * computed and encoded once. `setSnapshot` notifies every stream of the group.
 */
export class SnapshotCache {
  readonly #entries = new Map<string, CacheEntry>();
  readonly #watchers = new Map<string, Set<CacheWatcher>>();
  readonly #clock: Clock;

  constructor(opts: { clock?: Clock } = {}) {
    this.#clock = opts.clock ?? systemClock;
  }

  setSnapshot(group: string, snapshot: Snapshot, opts: SetSnapshotOptions = {}): void {
    const previous = this.#entries.get(group);
    const entry: CacheEntry = {
      group,
      snapshot: snapshot.sharingWith(previous?.snapshot),
      queuedAt: opts.queuedAt ?? this.#clock.monotonic(),
    };
    this.#entries.set(group, entry);
    const watchers = this.#watchers.get(group);
    if (watchers) for (const w of [...watchers]) w(entry);
  }

  getSnapshot(group: string): Snapshot | undefined {
    return this.#entries.get(group)?.snapshot;
  }

  entry(group: string): CacheEntry | undefined {
    return this.#entries.get(group);
  }

  /** Forgets a group's snapshot (e.g. once no proxy of the group is connected). Open streams keep theirs. */
  clearSnapshot(group: string): boolean {
    return this.#entries.delete(group);
  }

  groups(): string[] {
    return [...this.#entries.keys()];
  }

  /** Calls `watcher` on every later `setSnapshot` of the group; returns the cancel function. */
  watch(group: string, watcher: CacheWatcher): () => void {
    let set = this.#watchers.get(group);
    if (!set) {
      set = new Set();
      this.#watchers.set(group, set);
    }
    set.add(watcher);
    return () => {
      const s = this.#watchers.get(group);
      if (!s) return;
      s.delete(watcher);
      if (s.size === 0) this.#watchers.delete(group);
    };
  }

  /** Number of watchers over all groups (streams hold one each); for leak checks and debug pages. */
  get watcherCount(): number {
    let n = 0;
    for (const s of this.#watchers.values()) n += s.size;
    return n;
  }
}
