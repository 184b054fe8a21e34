// All derived indexes for one push, built once from the inputs and shared by every proxy's translation.

import { buildConfigIndex, type ConfigIndex } from './config-index.js';
import { buildDestinationRuleIndex, type DestinationRuleIndex } from './destination-rule-index.js';
import { buildGatewayIndex, type GatewayIndex } from './gateway-index.js';
import type { MeshInputs, ResolvedMeshConfig } from './inputs.js';
import { buildServiceIndex, type ServiceIndex } from './service-index.js';
import { buildVirtualServiceIndex, type VirtualServiceIndex } from './virtual-service-index.js';

export interface MeshIndex {
  readonly mesh: ResolvedMeshConfig;
  readonly config: ConfigIndex;
  readonly services: ServiceIndex;
  readonly virtualServices: VirtualServiceIndex;
  readonly destinationRules: DestinationRuleIndex;
  readonly gateways: GatewayIndex;
  /** JWKS documents fetched for jwksUri (by the control plane's cache); undefined when never fetched. */
  jwks(uri: string): string | undefined;
}

export function buildMeshIndex(inputs: MeshInputs): MeshIndex {
  const config = buildConfigIndex(inputs.resources);
  const mesh = inputs.mesh;
  return {
    mesh,
    config,
    services: buildServiceIndex(inputs.registry),
    virtualServices: buildVirtualServiceIndex(config.virtualServices, mesh.domainSuffix),
    destinationRules: buildDestinationRuleIndex(config.destinationRules, {
      rootNamespace: mesh.rootNamespace,
      domainSuffix: mesh.domainSuffix,
    }),
    gateways: buildGatewayIndex(config.gateways),
    jwks: (uri) => inputs.jwks?.get(uri),
  };
}
