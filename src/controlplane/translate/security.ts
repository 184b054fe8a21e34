// Authentication and authorization filters for inbound traffic (RequestAuthentication, AuthorizationPolicy).

import type { Any } from '@bufbuild/protobuf/wkt';
import type { HttpFilter } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { MeshIndex } from '../index/mesh-index.js';
import type { MeshProxy } from './proxy.js';

/** The HTTP filters that authenticate and authorize requests to `port` of the proxy's workload. */
export function inboundHttpSecurityFilters(
  _index: MeshIndex,
  _proxy: MeshProxy,
  _port: number,
): HttpFilter[] {
  return [];
}

/** The network filters that authorize TCP connections to `port`. */
export function inboundTcpSecurityFilters(
  _index: MeshIndex,
  _proxy: MeshProxy,
  _port: number,
): { name: string; configType: { case: 'typedConfig'; value: Any } }[] {
  return [];
}
