// What translation reads: validated Istio config, the mesh config and the registry, frozen for one push.

import type { MeshConfig, Resource } from '../../api/types/index.js';
import { DEFAULT_MESH_CONFIG } from '../../api/types/index.js';
import type { RegistrySnapshot } from '../../registry/model.js';

export interface MeshInputs {
  /** Every Istio config resource (validated), any kind; Kubernetes kinds are ignored here. */
  readonly resources: readonly Resource[];
  readonly mesh: ResolvedMeshConfig;
  readonly registry: RegistrySnapshot;
  /** JWKS documents by jwksUri, fetched and refreshed by the control plane (translation itself does no I/O). */
  readonly jwks?: ReadonlyMap<string, string>;
}

/** MeshConfig with Istio's defaults applied to the fields translation depends on. */
export interface ResolvedMeshConfig extends MeshConfig {
  trustDomain: string;
  rootNamespace: string;
  enableAutoMtls: boolean;
  connectTimeout: string;
  protocolDetectionTimeout: string;
  /** The DNS suffix of Kubernetes services (`svc.<domain>`). */
  domainSuffix: string;
}

export function resolveMeshConfig(mesh: MeshConfig = {}): ResolvedMeshConfig {
  return {
    ...mesh,
    trustDomain: mesh.trustDomain ?? DEFAULT_MESH_CONFIG.trustDomain,
    rootNamespace: mesh.rootNamespace ?? DEFAULT_MESH_CONFIG.rootNamespace,
    enableAutoMtls: mesh.enableAutoMtls ?? DEFAULT_MESH_CONFIG.enableAutoMtls,
    connectTimeout: mesh.connectTimeout ?? DEFAULT_MESH_CONFIG.connectTimeout,
    protocolDetectionTimeout: mesh.protocolDetectionTimeout ?? DEFAULT_MESH_CONFIG.protocolDetectionTimeout,
    domainSuffix: 'cluster.local',
  };
}
