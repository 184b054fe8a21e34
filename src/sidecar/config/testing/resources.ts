// Test helpers: build decoded config from Envoy's proto3 JSON (as config_dump prints it) and fake requests.

import type { JsonValue } from '@bufbuild/protobuf';
import { messageFromJson } from '../../../xds/any.js';
import { ClusterSchema } from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '../../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../../xds/gen/envoy/config/route/v3/route_pb.js';
import {
  ConfigRejection,
  type DecodeOptions,
  decodeCluster,
  decodeClusterLoadAssignment,
  decodeListener,
  decodeRouteConfiguration,
} from '../decode/index.js';
import type {
  ClusterConfig,
  EndpointSet,
  HeaderLookup,
  ListenerConfig,
  RouteRequest,
  RouteTable,
} from '../model.js';

/** Test inputs are written as object literals; proto3 JSON parsing checks them at run time. */
type Json = unknown;

export function listenerFromJson(json: Json, opts?: DecodeOptions): ListenerConfig {
  return decodeListener(messageFromJson(ListenerSchema, json as JsonValue), opts);
}

export function routeTableFromJson(json: Json, opts?: DecodeOptions): RouteTable {
  return decodeRouteConfiguration(messageFromJson(RouteConfigurationSchema, json as JsonValue), opts);
}

export function clusterFromJson(json: Json, opts?: DecodeOptions): ClusterConfig {
  return decodeCluster(messageFromJson(ClusterSchema, json as JsonValue), opts);
}

export function endpointsFromJson(json: Json, opts?: DecodeOptions): EndpointSet {
  return decodeClusterLoadAssignment(messageFromJson(ClusterLoadAssignmentSchema, json as JsonValue), opts);
}

/** The rejection's lines (one per problem) when `decode` refuses; fails loudly when it accepts. */
export function rejectionOf(decode: () => unknown): string[] {
  try {
    decode();
  } catch (e) {
    if (e instanceof ConfigRejection) return e.message.split('\n');
    throw e;
  }
  throw new Error('expected the resource to be rejected, but it decoded');
}

/** A header lookup over a plain record; repeated headers (arrays) are joined with "," as Envoy reads them. */
export function headerLookup(headers: Readonly<Record<string, string | readonly string[]>>): HeaderLookup {
  const lower = new Map<string, string>();
  for (const [k, v] of Object.entries(headers))
    lower.set(k.toLowerCase(), typeof v === 'string' ? v : v.join(','));
  return (name) => lower.get(name);
}

export function request(
  path: string,
  headers: Readonly<Record<string, string | readonly string[]>> = {},
): RouteRequest {
  return { path, header: headerLookup({ ':path': path, ...headers }) };
}

/** A minimal RouteConfiguration with one virtual host holding `routes` (proto3 JSON). */
export function oneHostRoutes(routes: Json[], extra: Record<string, Json> = {}): Json {
  return { name: 'test', virtualHosts: [{ name: 'vh', domains: ['*'], routes, ...extra }] };
}
