// The type registry for every generated Envoy message: needed to pack, unpack and print `Any` as proto3 JSON.

import { createRegistry, type Registry } from '@bufbuild/protobuf';
import { file_google_protobuf_struct, file_google_protobuf_wrappers } from '@bufbuild/protobuf/wkt';
import { file_envoy_admin_v3_config_dump } from './gen/envoy/admin/v3/config_dump_pb.js';
import { file_envoy_admin_v3_config_dump_shared } from './gen/envoy/admin/v3/config_dump_shared_pb.js';
import { file_envoy_config_cluster_v3_cluster } from './gen/envoy/config/cluster/v3/cluster_pb.js';
import { file_envoy_config_endpoint_v3_endpoint } from './gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { file_envoy_config_listener_v3_listener } from './gen/envoy/config/listener/v3/listener_pb.js';
import { file_envoy_config_rbac_v3_rbac } from './gen/envoy/config/rbac/v3/rbac_pb.js';
import { file_envoy_config_route_v3_route } from './gen/envoy/config/route/v3/route_pb.js';
import { file_envoy_config_trace_v3_opentelemetry } from './gen/envoy/config/trace/v3/opentelemetry_pb.js';
import { file_envoy_config_trace_v3_zipkin } from './gen/envoy/config/trace/v3/zipkin_pb.js';
import { file_envoy_extensions_access_loggers_file_v3_file } from './gen/envoy/extensions/access_loggers/file/v3/file_pb.js';
import { file_envoy_extensions_filters_http_cors_v3_cors } from './gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { file_envoy_extensions_filters_http_ext_authz_v3_ext_authz } from './gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import { file_envoy_extensions_filters_http_fault_v3_fault } from './gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { file_envoy_extensions_filters_http_jwt_authn_v3_config } from './gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { file_envoy_extensions_filters_http_local_ratelimit_v3_local_rate_limit } from './gen/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit_pb.js';
import { file_envoy_extensions_filters_http_ratelimit_v3_rate_limit } from './gen/envoy/extensions/filters/http/ratelimit/v3/rate_limit_pb.js';
import { file_envoy_extensions_filters_http_rbac_v3_rbac } from './gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { file_envoy_extensions_filters_http_router_v3_router } from './gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { file_envoy_extensions_filters_listener_http_inspector_v3_http_inspector } from './gen/envoy/extensions/filters/listener/http_inspector/v3/http_inspector_pb.js';
import { file_envoy_extensions_filters_listener_original_dst_v3_original_dst } from './gen/envoy/extensions/filters/listener/original_dst/v3/original_dst_pb.js';
import { file_envoy_extensions_filters_listener_tls_inspector_v3_tls_inspector } from './gen/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import { file_envoy_extensions_filters_network_http_connection_manager_v3_http_connection_manager } from './gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { file_envoy_extensions_filters_network_rbac_v3_rbac } from './gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { file_envoy_extensions_filters_network_tcp_proxy_v3_tcp_proxy } from './gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { file_envoy_extensions_retry_host_previous_hosts_v3_previous_hosts } from './gen/envoy/extensions/retry/host/previous_hosts/v3/previous_hosts_pb.js';
import { file_envoy_extensions_retry_priority_previous_priorities_v3_previous_priorities_config } from './gen/envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config_pb.js';
import { file_envoy_extensions_transport_sockets_tls_v3_secret } from './gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { file_envoy_extensions_transport_sockets_tls_v3_tls } from './gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { file_envoy_extensions_upstreams_http_v3_http_protocol_options } from './gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { file_envoy_service_discovery_v3_discovery } from './gen/envoy/service/discovery/v3/discovery_pb.js';
import { file_udpa_type_v1_typed_struct } from './gen/udpa/type/v1/typed_struct_pb.js';
import { file_xds_type_v3_typed_struct } from './gen/xds/type/v3/typed_struct_pb.js';

/** Every message type that may appear inside an `Any` in Trellis's xDS traffic or admin output. */
export const xdsRegistry: Registry = createRegistry(
  file_google_protobuf_struct,
  file_google_protobuf_wrappers,
  file_envoy_service_discovery_v3_discovery,
  file_envoy_config_listener_v3_listener,
  file_envoy_config_route_v3_route,
  file_envoy_config_cluster_v3_cluster,
  file_envoy_config_endpoint_v3_endpoint,
  file_envoy_config_rbac_v3_rbac,
  file_envoy_config_trace_v3_opentelemetry,
  file_envoy_config_trace_v3_zipkin,
  file_envoy_admin_v3_config_dump,
  file_envoy_admin_v3_config_dump_shared,
  file_envoy_extensions_filters_network_http_connection_manager_v3_http_connection_manager,
  file_envoy_extensions_filters_network_tcp_proxy_v3_tcp_proxy,
  file_envoy_extensions_filters_network_rbac_v3_rbac,
  file_envoy_extensions_filters_http_router_v3_router,
  file_envoy_extensions_filters_http_fault_v3_fault,
  file_envoy_extensions_filters_http_cors_v3_cors,
  file_envoy_extensions_filters_http_rbac_v3_rbac,
  file_envoy_extensions_filters_http_jwt_authn_v3_config,
  file_envoy_extensions_filters_http_local_ratelimit_v3_local_rate_limit,
  file_envoy_extensions_filters_http_ratelimit_v3_rate_limit,
  file_envoy_extensions_filters_http_ext_authz_v3_ext_authz,
  file_envoy_extensions_filters_listener_tls_inspector_v3_tls_inspector,
  file_envoy_extensions_filters_listener_http_inspector_v3_http_inspector,
  file_envoy_extensions_filters_listener_original_dst_v3_original_dst,
  file_envoy_extensions_transport_sockets_tls_v3_tls,
  file_envoy_extensions_transport_sockets_tls_v3_secret,
  file_envoy_extensions_upstreams_http_v3_http_protocol_options,
  file_envoy_extensions_access_loggers_file_v3_file,
  file_envoy_extensions_retry_host_previous_hosts_v3_previous_hosts,
  file_envoy_extensions_retry_priority_previous_priorities_v3_previous_priorities_config,
  file_udpa_type_v1_typed_struct,
  file_xds_type_v3_typed_struct,
);
