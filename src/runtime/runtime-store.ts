// The Kubernetes resources the runtime acts on (Deployments, Services, ...), persisted in the mesh's state folder.

import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { type Resource, type ResourceRef, refKey, refOf } from '../api/types/meta.js';
import { readJson, writeFileAtomic } from './state-dir.js';

export interface StoredResource {
  resource: Resource;
  /** Folder that relative `workingDir`s resolve against. */
  baseDir: string;
}

export interface RuntimeStoreChange {
  action: 'created' | 'configured' | 'unchanged' | 'deleted';
  ref: ResourceRef;
}

/** Namespace is cluster-scoped: its ref carries an empty namespace. */
export function runtimeRef(r: Resource): ResourceRef {
  return r.kind === 'Namespace' ? { kind: r.kind, namespace: '', name: r.metadata.name } : refOf(r);
}

export class RuntimeStore {
  readonly #file: string;
  readonly #items = new Map<string, StoredResource>();
  #revision = 0;

  constructor(file: string) {
    this.#file = file;
    const saved = readJson<{ revision: number; items: StoredResource[] }>(file);
    if (saved) {
      this.#revision = saved.revision;
      for (const item of saved.items) this.#items.set(refKey(runtimeRef(item.resource)), item);
    }
  }

  list(filter: { kind?: string; namespace?: string } = {}): StoredResource[] {
    return [...this.#items.values()]
      .filter(
        (i) =>
          (!filter.kind || i.resource.kind === filter.kind) &&
          (!filter.namespace || (i.resource.metadata.namespace ?? 'default') === filter.namespace),
      )
      .sort((a, b) => (refKey(runtimeRef(a.resource)) < refKey(runtimeRef(b.resource)) ? -1 : 1));
  }

  get(ref: ResourceRef): StoredResource | undefined {
    return this.#items.get(refKey(ref));
  }

  has(ref: ResourceRef): boolean {
    return this.#items.has(refKey(ref));
  }

  /** Stores the batch (already validated) and saves it; unchanged resources keep their version. */
  apply(batch: readonly StoredResource[]): RuntimeStoreChange[] {
    const changes: RuntimeStoreChange[] = [];
    this.#revision++;
    for (const item of batch) {
      const ref = runtimeRef(item.resource);
      const key = refKey(ref);
      const old = this.#items.get(key);
      const r = structuredClone(item.resource);
      if (r.kind !== 'Namespace') r.metadata.namespace = r.metadata.namespace ?? 'default';
      if (old && isDeepStrictEqual(stripMeta(old.resource), stripMeta(r)) && old.baseDir === item.baseDir) {
        changes.push({ action: 'unchanged', ref });
        continue;
      }
      const specChanged = !old || !isDeepStrictEqual(old.resource.spec, r.spec);
      r.metadata.uid = old?.resource.metadata.uid ?? randomUUID();
      r.metadata.creationTimestamp = old?.resource.metadata.creationTimestamp ?? new Date().toISOString();
      r.metadata.generation = (old?.resource.metadata.generation ?? 0) + (specChanged ? 1 : 0);
      r.metadata.resourceVersion = String(this.#revision);
      this.#items.set(key, { resource: r, baseDir: item.baseDir });
      changes.push({ action: old ? 'configured' : 'created', ref });
    }
    this.#save();
    return changes;
  }

  delete(refs: readonly ResourceRef[]): RuntimeStoreChange[] {
    const changes: RuntimeStoreChange[] = [];
    for (const ref of refs) {
      if (this.#items.delete(refKey(ref))) changes.push({ action: 'deleted', ref });
    }
    this.#revision++;
    this.#save();
    return changes;
  }

  #save(): void {
    writeFileAtomic(
      this.#file,
      `${JSON.stringify({ revision: this.#revision, items: [...this.#items.values()] }, null, 1)}\n`,
    );
  }
}

function stripMeta(r: Resource): unknown {
  const { resourceVersion: _v, generation: _g, creationTimestamp: _c, uid: _u, ...meta } = r.metadata;
  return { ...r, metadata: meta };
}
