// A ConfigStore held in memory: for tests, the local runtime, and as the state behind other stores.

import type { Resource, ResourceRef } from '../api/types/meta.js';
import { refKey } from '../api/types/meta.js';
import { normalizeRef, ResourceTable, type TableOptions } from './resource-table.js';
import type { ChangeResult, ConfigSnapshot, ConfigStore, ListFilter, StoreEvent } from './store.js';

export class MemoryConfigStore implements ConfigStore {
  readonly #table: ResourceTable;

  constructor(opts: TableOptions = {}) {
    this.#table = new ResourceTable(opts);
  }

  get revision(): number {
    return this.#table.revision;
  }

  get(ref: ResourceRef): Resource | undefined {
    return this.#table.get(ref);
  }

  list(filter?: ListFilter): readonly Resource[] {
    return this.#table.list(filter);
  }

  async apply(resources: readonly Resource[]): Promise<ChangeResult> {
    const messages = this.#table.validateApply(resources);
    if (messages.some((m) => m.severity === 'error')) return this.#table.result(messages, []);
    return this.#table.result(messages, this.#table.commit(this.#table.planApply(resources)));
  }

  async delete(refs: readonly ResourceRef[]): Promise<ChangeResult> {
    const messages = this.#table.validateDelete(refs);
    if (messages.length) return this.#table.result(messages, []);
    return this.#table.result(
      [],
      this.#table.commit(refs.map((ref) => ({ key: refKey(normalizeRef(ref)), next: undefined }))),
    );
  }

  watch(listener: (event: StoreEvent) => void): () => void {
    return this.#table.watch(listener);
  }

  snapshot(): ConfigSnapshot {
    return this.#table.snapshot();
  }

  async close(): Promise<void> {}
}
