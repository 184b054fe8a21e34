// What the client received and what it serves: a parent (cluster, listener) is applied only once what it
// references (endpoints, route config) has arrived, as Envoy warms them; until then its old version serves.

import {
  KINDS,
  type ResourceEntry,
  type ResourceKind,
  type ResourceState,
  type ResourceTypes,
} from './types.js';

type Parent = 'cluster' | 'listener';
type Child = 'endpoint' | 'route';
const CHILD_OF: Readonly<Record<Parent, Child>> = { cluster: 'endpoint', listener: 'route' };
const PARENTS: readonly Parent[] = ['cluster', 'listener'];

type Entries<T extends ResourceTypes> = { [K in ResourceKind]: Map<string, ResourceEntry<T[K]>> };

function emptyEntries<T extends ResourceTypes>(): Entries<T> {
  return { listener: new Map(), route: new Map(), cluster: new Map(), endpoint: new Map() };
}

function sameEntries<V>(a: ReadonlyMap<string, V>, b: ReadonlyMap<string, V>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

export class ResourceStore<T extends ResourceTypes> {
  readonly #received: Entries<T> = emptyEntries<T>();
  #applied: Entries<T> = emptyEntries<T>();
  /** Children the server said do not exist (delta removals): a parent waiting for them need not wait. */
  readonly #absent: Record<Child, Set<string>> = { endpoint: new Set(), route: new Set() };
  /** Parents held back: since when, for which received entry (a newer entry restarts the clock). */
  readonly #blocked = new Map<string, { entry: ResourceEntry<unknown>; since: number }>();
  readonly #warmingTimeoutMs: number;

  constructor(opts: { warmingTimeoutMs: number }) {
    this.#warmingTimeoutMs = opts.warmingTimeoutMs;
  }

  /** SotW listeners and clusters: the response is the complete set. */
  replaceAll<K extends ResourceKind>(kind: K, entries: readonly ResourceEntry<T[K]>[]): void {
    const map = this.#received[kind];
    map.clear();
    for (const e of entries) map.set(e.name, e);
  }

  upsert<K extends ResourceKind>(kind: K, entries: readonly ResourceEntry<T[K]>[]): void {
    for (const e of entries) {
      this.#received[kind].set(e.name, e);
      if (kind === 'endpoint' || kind === 'route') this.#absent[kind as Child].delete(e.name);
    }
  }

  /** Delta removals. For children still wanted, the removal also means "does not exist". */
  remove(kind: ResourceKind, names: readonly string[]): void {
    for (const name of names) {
      this.#received[kind].delete(name);
      if (kind === 'endpoint' || kind === 'route') this.#absent[kind as Child].add(name);
    }
  }

  /** Children referenced by the received or applied parents: what to subscribe to. */
  wanted(child: Child): Set<string> {
    const parent: Parent = child === 'endpoint' ? 'cluster' : 'listener';
    const names = new Set<string>();
    for (const e of this.#received[parent].values()) for (const r of e.references) names.add(r);
    for (const e of this.#applied[parent].values()) for (const r of e.references) names.add(r);
    return names;
  }

  /** Forgets children no longer wanted (SotW cannot delete them; unsubscribing does). */
  retain(child: Child, wanted: ReadonlySet<string>): void {
    for (const name of [...this.#received[child].keys()])
      if (!wanted.has(name)) this.#received[child].delete(name);
    for (const name of [...this.#absent[child]]) if (!wanted.has(name)) this.#absent[child].delete(name);
  }

  received<K extends ResourceKind>(kind: K): ReadonlyMap<string, ResourceEntry<T[K]>> {
    return this.#received[kind];
  }

  applied<K extends ResourceKind>(kind: K): ReadonlyMap<string, ResourceEntry<T[K]>> {
    return this.#applied[kind];
  }

  /** Known: received, or known not to exist. */
  has(child: Child, name: string): boolean {
    return this.#received[child].has(name) || this.#absent[child].has(name);
  }

  /**
   * Recomputes what is served. Returns the kinds whose served set changed (empty when nothing did).
   * `now` is monotonic ms, for the warming timeout.
   */
  apply(now: number): ResourceKind[] {
    const next = emptyEntries<T>();
    next.endpoint = new Map(this.#received.endpoint);
    next.route = new Map(this.#received.route);
    const stillBlocked = new Set<string>();
    for (const parent of PARENTS) {
      const child = CHILD_OF[parent];
      const out = next[parent] as Map<string, ResourceEntry<unknown>>;
      for (const [name, entry] of this.#received[parent] as Map<string, ResourceEntry<unknown>>) {
        if (entry.references.every((r) => this.has(child, r))) {
          out.set(name, entry);
          continue;
        }
        const key = `${parent}\u0000${name}`;
        let blocked = this.#blocked.get(key);
        if (!blocked || blocked.entry !== entry) {
          blocked = { entry, since: now };
          this.#blocked.set(key, blocked);
        }
        stillBlocked.add(key);
        // Envoy's initial_fetch_timeout: after it, the parent serves without what never came.
        if (now - blocked.since >= this.#warmingTimeoutMs) {
          out.set(name, entry);
          continue;
        }
        const previous = this.#applied[parent].get(name) as ResourceEntry<unknown> | undefined;
        if (previous) out.set(name, previous);
      }
    }
    for (const key of [...this.#blocked.keys()]) if (!stillBlocked.has(key)) this.#blocked.delete(key);
    const changed = KINDS.filter((k) => !sameEntries(this.#applied[k], next[k]));
    if (changed.length > 0) this.#applied = next;
    return changed;
  }

  /** Monotonic ms when a held-back parent will be applied anyway; undefined when none waits. */
  nextWarmingDeadline(): number | undefined {
    let min: number | undefined;
    for (const [key, b] of this.#blocked) {
      const [parent, name] = key.split('\u0000') as [Parent, string];
      if (this.#applied[parent].get(name) === b.entry) continue;
      const at = b.since + this.#warmingTimeoutMs;
      if (min === undefined || at < min) min = at;
    }
    return min;
  }

  /** Every received parent serves at its received version. */
  get warm(): boolean {
    for (const parent of PARENTS) {
      for (const [name, e] of this.#received[parent] as Map<string, ResourceEntry<unknown>>) {
        if (this.#applied[parent].get(name) !== e) return false;
      }
    }
    return true;
  }

  /** Received resources of a kind with their state, for the admin config_dump. */
  states<K extends ResourceKind>(kind: K): ResourceState<T[K]>[] {
    const out: ResourceState<T[K]>[] = [];
    for (const [name, e] of this.#received[kind]) {
      out.push({ ...e, state: this.#applied[kind].get(name) === e ? 'active' : 'warming' });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }
}
