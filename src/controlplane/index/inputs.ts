// What translation reads: validated Istio config, the mesh config and the registry, frozen for one push.

import type { MeshConfig, Resource } from '../../api/types/index.js';
import {
  type ResolvedMeshConfig as BaseResolvedMeshConfig,
  withMeshDefaults,
} from '../../config/mesh-config.js';
import type { RegistrySnapshot } from '../../registry/model.js';

export interface MeshInputs {
  /** Every Istio config resource (validated), any kind; Kubernetes kinds are ignored here. */
  readonly resources: readonly Resource[];
  readonly mesh: ResolvedMeshConfig;
  readonly registry: RegistrySnapshot;
  /** JWKS documents by jwksUri, fetched and refreshed by the control plane (translation itself does no I/O). */
  readonly jwks?: ReadonlyMap<string, string>;
}

/** MeshConfig with Istio's defaults applied (src/config/mesh-config.ts), plus the cluster DNS domain. */
export type ResolvedMeshConfig = BaseResolvedMeshConfig & {
  /** The DNS suffix of Kubernetes services (`svc.<domain>`). */
  domainSuffix: string;
};

export function resolveMeshConfig(mesh: MeshConfig = {}): ResolvedMeshConfig {
  return { ...withMeshDefaults(mesh), domainSuffix: 'cluster.local' };
}
