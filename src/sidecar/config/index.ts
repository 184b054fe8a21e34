// Public API of the sidecar's config room: decoders, the consistent snapshot, and the pure matching functions.

export {
  ConfigRejection,
  type DecodedResource,
  type DecodeOptions,
  decodeCluster,
  decodeClusterLoadAssignment,
  decodeListener,
  decodeResource,
  decodeRouteConfiguration,
  type Problem,
  type ResourceKind,
} from './decode/index.js';
export { GRPC_RETRY_ON, HTTP_RETRY_ON } from './decode/retry.js';
export { selectFilterChain } from './match/filter-chain.js';
export { compileHeaderMatcher, type HeaderMatcherSpec } from './match/header-matcher.js';
export { applyHeaderOps, headerOpsInOrder, type MutableHeaders } from './match/header-ops.js';
export { listenerForOriginalDestination } from './match/listener.js';
export { findRoute } from './match/route.js';
export { TRANSPORT_SOCKET_MATCH_KEY, transportSocketFor } from './match/transport-socket.js';
export { pickTcpCluster, pickWeightedCluster } from './match/weighted.js';
export type * from './model.js';
export { NO_HEADER_OPS } from './model.js';
export {
  buildSidecarConfig,
  clusterDependencies,
  listenerDependencies,
  type MissingResource,
  type MissingResources,
  missingResources,
  type SnapshotInput,
} from './snapshot.js';
export {
  fullMatchRegex,
  jsRegexCompiler,
  type RegexCompiler,
  type RegexOptions,
  stringMatch,
} from './string-match.js';
