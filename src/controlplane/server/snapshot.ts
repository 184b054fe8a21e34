// Immutable, versioned resource sets per xDS type: what a group of proxies should hold at one moment.

import { TrellisError } from '../../shared/errors.js';
import { digest, type EncodedResource } from './resource.js';

/** What changed between two versions of one type's resources. */
export interface ResourceDiff {
  /** Added or modified resources. */
  readonly changed: readonly EncodedResource[];
  /** Names present before and absent now. */
  readonly removed: readonly string[];
}

let nextSetId = 1;

/** One type's resources in a snapshot. The version is a hash of the names and resource versions. */
export class ResourceSet {
  /** Unique per object (two sets with equal content have different ids): names shared responses. */
  readonly id = nextSetId++;
  readonly typeUrl: string;
  readonly version: string;
  readonly resources: ReadonlyMap<string, EncodedResource>;
  /** Whole responses that every stream in the same situation receives byte for byte. */
  readonly #shared = new Map<string, Uint8Array>();
  // Computed once per (previous, next) pair and shared by every stream of the group.
  readonly #diffs = new WeakMap<ResourceSet, ResourceDiff>();

  constructor(typeUrl: string, resources: Iterable<EncodedResource>) {
    this.typeUrl = typeUrl;
    const byName = new Map<string, EncodedResource>();
    for (const r of resources) {
      if (r.typeUrl !== typeUrl)
        throw new TrellisError(
          'XDS_SNAPSHOT_TYPE',
          `resource "${r.name}" is a ${r.typeUrl}, not a ${typeUrl}`,
        );
      const dup = byName.get(r.name);
      if (dup && dup.version !== r.version)
        throw new TrellisError(
          'XDS_SNAPSHOT_DUPLICATE',
          `two different ${typeUrl} resources are named "${r.name}"`,
        );
      byName.set(r.name, r);
    }
    const names = [...byName.keys()].sort();
    this.resources = new Map(names.map((n) => [n, byName.get(n)!]));
    this.version = digest(names.map((n) => `${n}\u0000${byName.get(n)!.version}`).join('\u0001'));
  }

  get size(): number {
    return this.resources.size;
  }

  get(name: string): EncodedResource | undefined {
    return this.resources.get(name);
  }

  /**
   * A complete response built once and sent as is to every stream that needs exactly it (a wildcard client
   * getting the full set, or moving from one shared set to the next). Keys name the situation.
   */
  sharedResponse(key: string, build: () => Uint8Array): Uint8Array {
    let bytes = this.#shared.get(key);
    if (!bytes) {
      bytes = build();
      this.#shared.set(key, bytes);
    }
    return bytes;
  }

  /** What a client holding `previous` must learn to hold this set. */
  diffFrom(previous: ResourceSet): ResourceDiff {
    if (previous === this) return EMPTY_DIFF;
    let diff = this.#diffs.get(previous);
    if (diff) return diff;
    const changed: EncodedResource[] = [];
    const removed: string[] = [];
    for (const [name, r] of this.resources) {
      if (previous.resources.get(name)?.version !== r.version) changed.push(r);
    }
    for (const name of previous.resources.keys()) if (!this.resources.has(name)) removed.push(name);
    diff = { changed, removed };
    this.#diffs.set(previous, diff);
    return diff;
  }
}

const EMPTY_DIFF: ResourceDiff = { changed: [], removed: [] };
const emptySets = new Map<string, ResourceSet>();

/** The (shared) empty set of a type: what a snapshot holds for a type it does not mention. */
export function emptyResourceSet(typeUrl: string): ResourceSet {
  let set = emptySets.get(typeUrl);
  if (!set) {
    set = new ResourceSet(typeUrl, []);
    emptySets.set(typeUrl, set);
  }
  return set;
}

/** An immutable set of resources per type. Build with `Snapshot.create`, derive with `withResources`. */
export class Snapshot {
  readonly #types: ReadonlyMap<string, ResourceSet>;

  private constructor(types: ReadonlyMap<string, ResourceSet>) {
    this.#types = types;
  }

  /** Groups resources by type; each type's version is a hash of its content. */
  static create(resources: Iterable<EncodedResource>): Snapshot {
    const byType = new Map<string, EncodedResource[]>();
    for (const r of resources) {
      let list = byType.get(r.typeUrl);
      if (!list) {
        list = [];
        byType.set(r.typeUrl, list);
      }
      list.push(r);
    }
    return new Snapshot(new Map([...byType].map(([t, list]) => [t, new ResourceSet(t, list)])));
  }

  /** A snapshot with one type's resources replaced and every other type shared. */
  withResources(typeUrl: string, resources: Iterable<EncodedResource>): Snapshot {
    const types = new Map(this.#types);
    types.set(typeUrl, new ResourceSet(typeUrl, resources));
    return new Snapshot(types);
  }

  /** The type's resources (empty when the snapshot has none of that type). */
  get(typeUrl: string): ResourceSet {
    return this.#types.get(typeUrl) ?? emptyResourceSet(typeUrl);
  }

  version(typeUrl: string): string {
    return this.get(typeUrl).version;
  }

  typeUrls(): string[] {
    return [...this.#types.keys()];
  }

  /**
   * The same content, sharing `previous`'s ResourceSet objects for types whose version did not change, so
   * that their cached wire bodies and diffs survive a rebuild that changed only other types.
   */
  sharingWith(previous: Snapshot | undefined): Snapshot {
    if (!previous) return this;
    let shared = false;
    const types = new Map<string, ResourceSet>();
    for (const [t, set] of this.#types) {
      const old = previous.#types.get(t);
      if (old && old !== set && old.version === set.version) {
        types.set(t, old);
        shared = true;
      } else {
        types.set(t, set);
      }
    }
    return shared ? new Snapshot(types) : this;
  }
}
