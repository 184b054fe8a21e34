// The state every store shares: resources by key, the revision, versions, validation of batches and watchers.

import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { dropNullFields } from '../api/load/nulls.js';
import { type ConfigMessage, hasErrors, ValidationCode } from '../api/messages.js';
import { kindInfo } from '../api/types/index.js';
import { DEFAULT_NAMESPACE, type Resource, type ResourceRef, refKey } from '../api/types/meta.js';
import { validateResource } from '../api/validate/validate.js';
import { type Clock, systemClock } from '../shared/clock.js';
import { type Logger, silentLogger } from '../shared/log.js';
import type { ChangeResult, ConfigSnapshot, ListFilter, StoreEvent } from './store.js';

export interface TableOptions {
  clock?: Clock;
  logger?: Logger;
  /** Makes uids predictable in tests. */
  newUid?: () => string;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as Record<string, unknown>)) deepFreeze(x);
  }
  return v;
}

const SERVER_FIELDS = ['resourceVersion', 'generation', 'creationTimestamp', 'uid'] as const;

/** The resource as a user wrote it: without the fields the store sets. */
export function withoutServerFields(r: Resource): Resource {
  const metadata = { ...r.metadata };
  for (const f of SERVER_FIELDS) delete metadata[f];
  return { ...r, metadata };
}

/**
 * A resource as the store keeps it: fields without a value dropped, a missing spec empty, and the namespace
 * of namespaced kinds defaulted to `default`, as kubectl does.
 */
export function normalizeNamespace(given: Resource): Resource {
  const r = dropNullFields(given);
  const withSpec = r.spec === undefined || r.spec === null ? { ...r, spec: {} } : r;
  if (kindInfo(r.kind)?.namespaced && !withSpec.metadata?.namespace) {
    return { ...withSpec, metadata: { ...withSpec.metadata, namespace: DEFAULT_NAMESPACE } };
  }
  return withSpec;
}

/** A reference as the store keys it: namespaced kinds default to `default`, cluster-scoped ones have none. */
export function normalizeRef(ref: ResourceRef): ResourceRef {
  const namespaced = kindInfo(ref.kind)?.namespaced ?? true;
  return { ...ref, namespace: namespaced ? ref.namespace || DEFAULT_NAMESPACE : '' };
}

/** The store's reference to a resource (see normalizeRef). */
export function storeRef(r: Resource): ResourceRef {
  return normalizeRef({ kind: r.kind, namespace: r.metadata?.namespace ?? '', name: r.metadata?.name });
}

function compareRefs(a: Resource, b: Resource): number {
  const ka = `${a.kind}\0${a.metadata.namespace ?? ''}\0${a.metadata.name}`;
  const kb = `${b.kind}\0${b.metadata.namespace ?? ''}\0${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

class Snapshot implements ConfigSnapshot {
  readonly revision: number;
  readonly #state: ReadonlyMap<string, Resource>;
  #sorted: readonly Resource[] | undefined;

  constructor(revision: number, state: ReadonlyMap<string, Resource>) {
    this.revision = revision;
    this.#state = state;
  }

  get(ref: ResourceRef): Resource | undefined {
    return this.#state.get(refKey(normalizeRef(ref)));
  }

  list(filter: ListFilter = {}): readonly Resource[] {
    this.#sorted ??= Object.freeze([...this.#state.values()].sort(compareRefs));
    if (!filter.kind && !filter.namespace) return this.#sorted;
    return this.#sorted.filter(
      (r) =>
        (!filter.kind || r.kind === filter.kind) &&
        (!filter.namespace || r.metadata.namespace === filter.namespace),
    );
  }
}

export interface PlannedChange {
  key: string;
  /** undefined: delete. */
  next: Resource | undefined;
}

/**
 * The in-memory heart of a store. Every commit publishes a new map (the old one is never mutated), so a
 * snapshot is just the map and revision of the moment.
 */
export class ResourceTable {
  #state: ReadonlyMap<string, Resource> = new Map();
  #revision = 0;
  #snapshot: Snapshot = new Snapshot(0, this.#state);
  readonly #listeners = new Set<(e: StoreEvent) => void>();
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #newUid: () => string;

  constructor(opts: TableOptions = {}) {
    this.#clock = opts.clock ?? systemClock;
    this.#logger = opts.logger ?? silentLogger;
    this.#newUid = opts.newUid ?? randomUUID;
  }

  get revision(): number {
    return this.#revision;
  }

  get(ref: ResourceRef): Resource | undefined {
    return this.#state.get(refKey(normalizeRef(ref)));
  }

  list(filter?: ListFilter): readonly Resource[] {
    return this.#snapshot.list(filter);
  }

  snapshot(): ConfigSnapshot {
    return this.#snapshot;
  }

  watch(listener: (e: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Validates a batch to apply; returns the messages (errors mean: refuse the batch). */
  validateApply(resources: readonly Resource[]): ConfigMessage[] {
    const messages: ConfigMessage[] = [];
    const seen = new Set<string>();
    for (const raw of resources) {
      const r = normalizeNamespace(raw);
      messages.push(...validateResource(r));
      if (typeof r.metadata?.name !== 'string') continue;
      const key = refKey(storeRef(r));
      if (seen.has(key)) {
        messages.push({
          severity: 'error',
          code: ValidationCode.DuplicateResource,
          message: 'appears more than once in the batch',
          resource: storeRef(r),
        });
      }
      seen.add(key);
    }
    return messages;
  }

  /** Refuses deletions of resources that do not exist. */
  validateDelete(refs: readonly ResourceRef[]): ConfigMessage[] {
    return refs
      .map(normalizeRef)
      .filter((ref) => !this.#state.has(refKey(ref)))
      .map((ref) => ({ severity: 'error' as const, code: 'NotFound', message: 'not found', resource: ref }));
  }

  planApply(resources: readonly Resource[]): PlannedChange[] {
    return resources.map((raw) => {
      const r = normalizeNamespace(raw);
      return { key: refKey(storeRef(r)), next: r };
    });
  }

  /** Applies planned changes as one revision; unchanged resources are skipped. Returns the events. */
  commit(changes: readonly PlannedChange[]): StoreEvent[] {
    const next = new Map(this.#state);
    const revision = this.#revision + 1;
    const events: StoreEvent[] = [];
    for (const c of changes) {
      const prev = next.get(c.key);
      if (!c.next) {
        if (!prev) continue;
        next.delete(c.key);
        events.push({ type: 'deleted', resource: prev, revision });
        continue;
      }
      const incoming = withoutServerFields(structuredClone(c.next));
      if (prev && isDeepStrictEqual(withoutServerFields(prev), incoming)) continue;
      const specChanged = !prev || !isDeepStrictEqual(prev.spec, incoming.spec);
      const stored = deepFreeze({
        ...incoming,
        metadata: {
          ...incoming.metadata,
          resourceVersion: String(revision),
          generation: prev ? (prev.metadata.generation ?? 1) + (specChanged ? 1 : 0) : 1,
          creationTimestamp: prev?.metadata.creationTimestamp ?? new Date(this.#clock.now()).toISOString(),
          uid: prev?.metadata.uid ?? this.#newUid(),
        },
      });
      next.set(c.key, stored);
      events.push({ type: prev ? 'modified' : 'added', resource: stored, revision });
    }
    if (events.length === 0) return events;
    this.#state = next;
    this.#revision = revision;
    this.#snapshot = new Snapshot(revision, next);
    for (const e of events) {
      for (const l of [...this.#listeners]) {
        try {
          l(e);
        } catch (err) {
          this.#logger.error('config watcher threw', { error: (err as Error).message });
        }
      }
    }
    return events;
  }

  result(messages: ConfigMessage[], events: StoreEvent[]): ChangeResult {
    return { ok: !hasErrors(messages), revision: this.#revision, messages, events };
  }
}
