// From xDS to the sidecar's config: the sidecar-config decoders as xDS-client decoders, and snapshot → SidecarConfig.

import { TrellisError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import {
  type DecodeOptions,
  decodeCluster,
  decodeClusterLoadAssignment,
  decodeListener,
  decodeRouteConfiguration,
} from '../config/decode/index.js';
import {
  type ClusterConfig,
  type EndpointSet,
  type ListenerConfig,
  NO_HEADER_OPS,
  type RouteTable,
  type SidecarConfig,
} from '../config/model.js';
import { buildSidecarConfig, missingResources } from '../config/snapshot.js';
import type { XdsDecoders, XdsSnapshot } from '../xds-client/types.js';

/** The config room's types, as the xDS client's consumer types. */
export interface SidecarResourceTypes {
  listener: ListenerConfig;
  route: RouteTable;
  cluster: ClusterConfig;
  endpoint: EndpointSet;
}

/** Each resource is validated into the model; a ConfigRejection becomes the NACK's error_detail. */
export function sidecarDecoders(opts?: DecodeOptions): XdsDecoders<SidecarResourceTypes> {
  return {
    listener: (m) => decodeListener(m, opts),
    route: (m) => decodeRouteConfiguration(m, opts),
    cluster: (m) => decodeCluster(m, opts),
    endpoint: (m) => decodeClusterLoadAssignment(m, opts),
  };
}

function emptyRoutes(name: string): RouteTable {
  return {
    name,
    virtualHosts: [],
    requestHeaders: NO_HEADER_OPS,
    responseHeaders: NO_HEADER_OPS,
    findVirtualHost: () => undefined,
  };
}

function emptyEndpoints(name: string): EndpointSet {
  return { clusterName: name, hosts: [], overprovisioningFactor: 140, weightedPriorityHealth: false };
}

/**
 * The snapshot as the data plane serves it. The xDS client only publishes consistent snapshots, except
 * after its warming timeout, when Envoy too goes on with what it has: a route config that never came
 * answers every request with NR, a ClusterLoadAssignment that never came means no endpoints (UH).
 * Throws XDS_INCONSISTENT only for what cannot be served at all (two listeners on one address).
 */
export function configFromSnapshot(
  snapshot: XdsSnapshot<SidecarResourceTypes>,
  logger?: Logger,
): SidecarConfig {
  const input = {
    versions: {
      listeners: snapshot.versions.listener,
      routes: snapshot.versions.route,
      clusters: snapshot.versions.cluster,
      endpoints: snapshot.versions.endpoint,
    },
    listeners: snapshot.listeners,
    routes: snapshot.routes,
    clusters: snapshot.clusters,
    endpoints: snapshot.endpoints,
  };
  const missing = missingResources(input);
  if (missing.routes.length === 0 && missing.endpoints.length === 0) return buildSidecarConfig(input);
  const routes = new Map(snapshot.routes);
  for (const r of missing.routes) routes.set(r.name, emptyRoutes(r.name));
  const endpoints = new Map(snapshot.endpoints);
  for (const e of missing.endpoints) endpoints.set(e.name, emptyEndpoints(e.name));
  logger?.warn('serving without resources that never arrived (warming timed out)', {
    routes: missing.routes.map((r) => r.name),
    endpoints: missing.endpoints.map((e) => e.name),
  });
  try {
    return buildSidecarConfig({ ...input, routes, endpoints });
  } catch (e) {
    throw new TrellisError('XDS_INCONSISTENT', (e as Error).message);
  }
}
