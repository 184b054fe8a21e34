// The control plane's view of the mesh: config store + Kubernetes-style registry + ServiceEntries + JWKS, turned
// into indexes for translation, with each change classified (full push or endpoints only).

import type { Resource, ServiceEntry, WorkloadEntry } from '../api/types/index.js';
import { meshConfigFrom } from '../config/mesh-config.js';
import type { ConfigStore, StoreEvent } from '../config/store.js';
import type { KubeRegistry } from '../registry/kube-registry.js';
import type { RegistryChange, RegistrySnapshot } from '../registry/model.js';
import { mergeSnapshots, serviceEntrySnapshot } from '../registry/serviceentry-registry.js';
import { type Logger, silentLogger } from '../shared/log.js';
import { type MeshInputs, type ResolvedMeshConfig, resolveMeshConfig } from './index/inputs.js';
import { buildMeshIndex, type MeshIndex } from './index/mesh-index.js';
import type { PushEvent } from './push.js';

/** Kinds that only the runtime reads; they never change translation by themselves. */
const RUNTIME_KINDS = new Set(['Deployment', 'Namespace', 'ServiceAccount', 'Service']);

export interface MeshStateOptions {
  config: ConfigStore;
  registry: KubeRegistry;
  /** JWKS documents by URI (the control plane's fetcher fills this). */
  jwks?: () => ReadonlyMap<string, string>;
  logger?: Logger;
}

/** Service accounts per service host: secure naming in clusters depends on them, so a change there is "full". */
function accountsByHost(reg: RegistrySnapshot): Map<string, string> {
  const out = new Map<string, string>();
  for (const [host, eps] of reg.endpoints) {
    out.set(host, [...new Set(eps.map((e) => `${e.namespace}/${e.serviceAccount ?? ''}`))].sort().join(','));
  }
  return out;
}

function sameMap(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

export class MeshState {
  readonly #opts: MeshStateOptions;
  readonly #logger: Logger;
  #index: MeshIndex | undefined;
  #accounts = new Map<string, string>();
  readonly #listeners = new Set<(e: PushEvent) => void>();
  readonly #unsubscribe: (() => void)[] = [];

  constructor(opts: MeshStateOptions) {
    this.#opts = opts;
    this.#logger = opts.logger ?? silentLogger;
    this.#unsubscribe.push(opts.config.watch((e) => this.#onConfig(e)));
    this.#unsubscribe.push(opts.registry.onChange((c) => this.#onRegistry(c)));
  }

  /** The indexes for the current inputs (built lazily, once per change). */
  index(): MeshIndex {
    if (!this.#index) {
      const inputs = this.inputs();
      this.#index = buildMeshIndex(inputs);
      this.#accounts = accountsByHost(inputs.registry);
    }
    return this.#index;
  }

  meshConfig(): ResolvedMeshConfig {
    return resolveMeshConfig(meshConfigFrom(this.#opts.config).meshConfig);
  }

  inputs(): MeshInputs {
    const snapshot = this.#opts.config.snapshot();
    const all = snapshot.list();
    const kube = this.#opts.registry.snapshot();
    const se = serviceEntrySnapshot({
      serviceEntries: all.filter((r): r is ServiceEntry => r.kind === 'ServiceEntry'),
      workloadEntries: all.filter((r): r is WorkloadEntry => r.kind === 'WorkloadEntry'),
      workloads: kube.workloads,
    });
    return {
      resources: all.filter((r: Resource) => !RUNTIME_KINDS.has(r.kind) && r.kind !== 'ConfigMap'),
      mesh: this.meshConfig(),
      registry: mergeSnapshots([kube, se], kube.workloads),
      jwks: this.#opts.jwks?.(),
    };
  }

  onChange(listener: (e: PushEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** JWKS documents changed (fetched or refreshed). */
  jwksChanged(): void {
    this.#emit({ kind: 'full', reason: 'jwks' });
  }

  close(): void {
    for (const u of this.#unsubscribe) u();
  }

  #onConfig(e: StoreEvent): void {
    if (RUNTIME_KINDS.has(e.resource.kind)) return;
    this.#emit({
      kind: 'full',
      reason: `${e.resource.kind} ${e.resource.metadata.namespace ?? ''}/${e.resource.metadata.name} ${e.type}`,
    });
  }

  #onRegistry(c: RegistryChange): void {
    if (c.services) {
      this.#emit({ kind: 'full', reason: 'services' });
      return;
    }
    const before = this.#accounts;
    this.#index = undefined;
    const after = accountsByHost(this.inputs().registry);
    this.#emit({ kind: sameMap(before, after) ? 'endpoints' : 'full', reason: 'endpoints' });
  }

  #emit(e: PushEvent): void {
    this.#index = undefined;
    this.#logger.debug('mesh changed', { kind: e.kind, reason: e.reason });
    for (const l of this.#listeners) l(e);
  }
}
