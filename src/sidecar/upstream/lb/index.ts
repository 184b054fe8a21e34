// Public API of the load balancers: hosts, one LoadBalancer interface, Envoy decoding, hashing.

export {
  type CoarseHealth,
  type EndpointHealth,
  Host,
  type HostInit,
  HostLiveState,
  hostKey,
  type Locality,
  parseLocality,
  reconcileHosts,
} from './host.js';
export { createLoadBalancer } from './load-balancer.js';
export { computePriorityLoad, type PriorityLoad } from './priority-load.js';
export {
  createLbStats,
  type LbPolicy,
  type LbPolicyType,
  type LbStats,
  type LoadBalancer,
  type LoadBalancerOptions,
  type PickContext,
  previousHostsPredicate,
} from './types.js';
export {
  type ClusterLbSettings,
  hostsFromLoadAssignment,
  type LoadAssignmentHosts,
  lbSettingsFromCluster,
} from './xds.js';
export { combineHashes, xxHash64 } from './xxhash64.js';
