// Public API of the cluster manager: clusters as the router and tcp_proxy use them, and the TLS they connect with.

export {
  type ClusterRuntime,
  type HostView,
  ManagedCluster,
  type TcpConnectOptions,
  type TcpUpstream,
} from './cluster.js';
export { type ClusterManagerOptions, SidecarClusterManager } from './cluster-manager.js';
export { DNS_REFRESH_MS, type LookupAll, systemLookup } from './dns-hosts.js';
export { ClusterFailure } from './failure.js';
export { type HostCounters, hostCounters } from './host-counters.js';
export { serverIdentityCheck, UpstreamTlsProvider, type UpstreamTlsProviderOptions } from './upstream-tls.js';
