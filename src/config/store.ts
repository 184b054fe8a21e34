// The config store: one interface for every backend (memory, folder of YAML, Kubernetes later).

import type { ConfigMessage } from '../api/messages.js';
import type { Resource, ResourceRef } from '../api/types/meta.js';

export type StoreEventType = 'added' | 'modified' | 'deleted';

export interface StoreEvent {
  type: StoreEventType;
  /** The resource after the change (for `deleted`, as it was). Frozen. */
  resource: Resource;
  /** The store revision the change belongs to; one batch is one revision. */
  revision: number;
}

export interface ListFilter {
  kind?: string;
  namespace?: string;
}

/** An immutable view of the store at one revision: what the control plane translates from. */
export interface ConfigSnapshot {
  readonly revision: number;
  get(ref: ResourceRef): Resource | undefined;
  /** Sorted by kind, namespace and name. */
  list(filter?: ListFilter): readonly Resource[];
}

export interface ChangeResult {
  /** False when the batch was refused; then nothing changed. */
  ok: boolean;
  /** The store revision after the batch. */
  revision: number;
  /** Why the batch was refused (errors), or warnings about an accepted batch. */
  messages: ConfigMessage[];
  /** What changed; empty when the batch was refused or changed nothing. */
  events: StoreEvent[];
}

export interface ConfigStore {
  get(ref: ResourceRef): Resource | undefined;
  list(filter?: ListFilter): readonly Resource[];
  /**
   * Creates or replaces resources atomically: every resource is validated first; if any is invalid nothing
   * changes. Sets metadata.resourceVersion (the revision), generation (bumped when the spec changes) and
   * creationTimestamp. Applying a resource unchanged is a no-op.
   */
  apply(resources: readonly Resource[]): Promise<ChangeResult>;
  /** Deletes resources atomically: if any does not exist, nothing is deleted. */
  delete(refs: readonly ResourceRef[]): Promise<ChangeResult>;
  /** Calls `listener` for every change after this call; returns the function that stops it. */
  watch(listener: (event: StoreEvent) => void): () => void;
  snapshot(): ConfigSnapshot;
  readonly revision: number;
  close(): Promise<void>;
}
