// Public API of the decoders: Envoy resources (generated messages or Any) → the sidecar's validated config.

import { fromBinary } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { TrellisError } from '../../../shared/errors.js';
import { type Cluster, ClusterSchema } from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import {
  type ClusterLoadAssignment,
  ClusterLoadAssignmentSchema,
} from '../../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { type Listener, ListenerSchema } from '../../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import {
  type RouteConfiguration,
  RouteConfigurationSchema,
} from '../../../xds/gen/envoy/config/route/v3/route_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../../xds/type-urls.js';
import type { ClusterConfig, EndpointSet, ListenerConfig, RouteTable } from '../model.js';
import { clusterConfig } from './cluster.js';
import { endpointSet } from './endpoints.js';
import { listenerConfig } from './listener.js';
import { ConfigRejection, type DecodeOptions, ProblemList, type ResourceKind } from './problems.js';
import { routeTable } from './route-config.js';

export { ConfigRejection, type DecodeOptions, type Problem, type ResourceKind } from './problems.js';

/** Decodes and validates a Listener; throws ConfigRejection listing every problem. */
export function decodeListener(msg: Listener, opts?: DecodeOptions): ListenerConfig {
  const ctx = new ProblemList(opts);
  const out = listenerConfig(ctx, msg);
  ctx.throwIfAny('Listener', msg.name);
  return out;
}

export function decodeRouteConfiguration(msg: RouteConfiguration, opts?: DecodeOptions): RouteTable {
  const ctx = new ProblemList(opts);
  const out = routeTable(ctx, msg, '');
  ctx.throwIfAny('RouteConfiguration', msg.name);
  return out;
}

export function decodeCluster(msg: Cluster, opts?: DecodeOptions): ClusterConfig {
  const ctx = new ProblemList(opts);
  const out = clusterConfig(ctx, msg);
  ctx.throwIfAny('Cluster', msg.name);
  return out;
}

export function decodeClusterLoadAssignment(msg: ClusterLoadAssignment, opts?: DecodeOptions): EndpointSet {
  const ctx = new ProblemList(opts);
  if (!msg.clusterName) ctx.report('cluster_name', 'cluster_name is required');
  const out = endpointSet(ctx, msg, '');
  ctx.throwIfAny('ClusterLoadAssignment', msg.clusterName);
  return out!;
}

export type DecodedResource =
  | { type: 'Listener'; name: string; value: ListenerConfig }
  | { type: 'RouteConfiguration'; name: string; value: RouteTable }
  | { type: 'Cluster'; name: string; value: ClusterConfig }
  | { type: 'ClusterLoadAssignment'; name: string; value: EndpointSet };

/** Decodes an xDS resource as it arrives in a DiscoveryResponse (an Any of one of the four types). */
export function decodeResource(any: Any, opts?: DecodeOptions): DecodedResource {
  const kind = KINDS[any.typeUrl];
  if (!kind)
    throw new TrellisError('XDS_REJECTED', `unexpected resource type ${any.typeUrl || '(empty type_url)'}`);
  let msg: Listener | RouteConfiguration | Cluster | ClusterLoadAssignment;
  try {
    msg = fromBinary(SCHEMAS[kind], any.value) as typeof msg;
  } catch (e) {
    throw new ConfigRejection(kind, '', [
      { path: '', message: `cannot decode ${any.typeUrl}: ${(e as Error).message}` },
    ]);
  }
  switch (kind) {
    case 'Listener': {
      const m = msg as Listener;
      return { type: kind, name: m.name, value: decodeListener(m, opts) };
    }
    case 'RouteConfiguration': {
      const m = msg as RouteConfiguration;
      return { type: kind, name: m.name, value: decodeRouteConfiguration(m, opts) };
    }
    case 'Cluster': {
      const m = msg as Cluster;
      return { type: kind, name: m.name, value: decodeCluster(m, opts) };
    }
    case 'ClusterLoadAssignment': {
      const m = msg as ClusterLoadAssignment;
      return { type: kind, name: m.clusterName, value: decodeClusterLoadAssignment(m, opts) };
    }
  }
}

const KINDS: Record<string, ResourceKind> = {
  [LISTENER_TYPE]: 'Listener',
  [ROUTE_TYPE]: 'RouteConfiguration',
  [CLUSTER_TYPE]: 'Cluster',
  [ENDPOINT_TYPE]: 'ClusterLoadAssignment',
};

const SCHEMAS = {
  Listener: ListenerSchema,
  RouteConfiguration: RouteConfigurationSchema,
  Cluster: ClusterSchema,
  ClusterLoadAssignment: ClusterLoadAssignmentSchema,
} as const;
