// Default dependency extraction: the EDS names clusters need and the RDS names listeners need.

import { fromBinary } from '@bufbuild/protobuf';
import { type Cluster, Cluster_DiscoveryType } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { FilterChain } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import type { Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { HttpConnectionManagerSchema } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { HCM_TYPE } from '../../xds/type-urls.js';
import type { XdsReferences } from './types.js';

export function clusterEndpointNames(cluster: Cluster): string[] {
  const type = cluster.clusterDiscoveryType;
  if (type.case !== 'type' || type.value !== Cluster_DiscoveryType.EDS) return [];
  return [cluster.edsClusterConfig?.serviceName || cluster.name];
}

function rdsNameOf(any: { typeUrl: string; value: Uint8Array } | undefined): string | undefined {
  if (!any || any.typeUrl !== HCM_TYPE) return undefined;
  const hcm = fromBinary(HttpConnectionManagerSchema, any.value);
  return hcm.routeSpecifier.case === 'rds' ? hcm.routeSpecifier.value.routeConfigName : undefined;
}

export function listenerRouteNames(listener: Listener): string[] {
  const names = new Set<string>();
  const api = rdsNameOf(listener.apiListener?.apiListener);
  if (api) names.add(api);
  const chains: FilterChain[] = [...listener.filterChains];
  if (listener.defaultFilterChain) chains.push(listener.defaultFilterChain);
  for (const chain of chains) {
    for (const filter of chain.filters) {
      if (filter.configType.case !== 'typedConfig') continue;
      const name = rdsNameOf(filter.configType.value);
      if (name) names.add(name);
    }
  }
  return [...names];
}

export const defaultReferences: XdsReferences = {
  cluster: clusterEndpointNames,
  listener: listenerRouteNames,
};
