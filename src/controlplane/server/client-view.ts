// What one stream's client holds of one type, and what it must be sent to hold a new resource set.

import type { EncodedResource } from './resource.js';
import type { ResourceSet } from './snapshot.js';

/** The resources a stream subscribes to for one type. */
export interface Scope {
  /** All resources of the type (plus any explicit names). */
  readonly wildcard: boolean;
  readonly names: ReadonlySet<string>;
}

export interface Changes {
  readonly changed: EncodedResource[];
  /** Names the client holds (or asked for) that the set does not have. */
  readonly removed: string[];
}

/**
 * The client's holdings as a shared base set plus per-name exceptions. After a push the client holds exactly
 * `base` within its scope, so a stream costs one pointer until a name is (un)subscribed or reported by
 * `initial_resource_versions`; the base-to-new diff is computed once per group (ResourceSet.diffFrom).
 */
export class ClientView {
  #base: ResourceSet | undefined;
  /** name -> the version the client holds, or null for "holds nothing". Overrides the base. */
  readonly #overrides = new Map<string, string | null>();

  get base(): ResourceSet | undefined {
    return this.#base;
  }

  /** The version the client holds of an in-scope name, or undefined. */
  versionOf(name: string): string | undefined {
    const o = this.#overrides.get(name);
    if (o !== undefined) return o ?? undefined;
    return this.#base?.get(name)?.version;
  }

  /** True when the client holds exactly the base (no per-name exceptions): its next diff is the group's. */
  get plain(): boolean {
    return this.#overrides.size === 0;
  }

  /** A name entered the scope: the client holds `version` of it (delta initial versions) or nothing. */
  enter(name: string, version: string | null = null): void {
    this.#overrides.set(name, version);
  }

  /** A name left the scope (unsubscribed): whatever the client held of it no longer matters. */
  leave(name: string): void {
    // Keep an explicit "holds nothing" so the base is not consulted should the name come back.
    this.#overrides.set(name, null);
  }

  /**
   * The scope became a wildcard: names of the base that were outside the old scope are not held by the client
   * even though the base has them.
   */
  widenToWildcard(previous: Scope): void {
    if (previous.wildcard || !this.#base) return;
    for (const name of this.#base.resources.keys()) {
      if (!previous.names.has(name) && !this.#overrides.has(name)) this.#overrides.set(name, null);
    }
  }

  /** Forget everything (a new stream: the client's holdings are unknown, hence nothing). */
  reset(): void {
    this.#base = undefined;
    this.#overrides.clear();
  }

  /** What to send so the client holds `target` within `scope`. */
  changesTo(target: ResourceSet, scope: Scope): Changes {
    const changed: EncodedResource[] = [];
    const removed: string[] = [];
    const base = this.#base;
    const overridden = this.#overrides;
    const inScope = (name: string) => scope.wildcard || scope.names.has(name);

    if (base) {
      const diff = target.diffFrom(base);
      for (const r of diff.changed) if (!overridden.has(r.name) && inScope(r.name)) changed.push(r);
      for (const name of diff.removed) if (!overridden.has(name) && inScope(name)) removed.push(name);
    } else {
      // Unknown holdings: every in-scope resource the client does not already hold at the same version.
      const candidates = scope.wildcard ? target.resources.keys() : scope.names.values();
      for (const name of candidates) {
        if (overridden.has(name)) continue;
        const r = target.get(name);
        if (r) changed.push(r);
      }
    }
    for (const [name, held] of overridden) {
      if (!inScope(name)) continue;
      const r = target.get(name);
      if (r && r.version !== held) changed.push(r);
      else if (!r && held !== null) removed.push(name);
    }
    return { changed, removed };
  }

  /** The client now holds `target` within its scope (sent, or nothing needed to be sent). */
  settle(target: ResourceSet): void {
    this.#base = target;
    this.#overrides.clear();
  }
}
