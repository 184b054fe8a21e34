// Public API of the sidecar's HTTP pipeline: the connection manager factory, the filter seam, and helpers.

export { ConnectionState } from './connection-state.js';
export type { SecurityFilterKind } from './filters/chain.js';
export type { FaultHeaderControl } from './filters/fault.js';
export { clusterRateLimitClient } from './filters/rls-client.js';
export type { Filter, FilterEnv, FilterFactory } from './filters/types.js';
export { FLAG, flagBit, flagsString, type ResponseFlag } from './flags.js';
export { encodeGrpcMessage, httpToGrpcStatus, isGrpcContentType } from './grpc.js';
export { grpcUnary } from './grpc-unary.js';
export { createHttpConnectionManagerFactory } from './hcm.js';
export { type PipelineReplyInit, pipelineReply } from './local-reply.js';
export type { PipelineOptions, XfccAction, XfccBuilder } from './options.js';
export { normalizeRequestPath } from './request/path-normalize.js';
export type { PathNormalization, PathNormalizationResult, PathNormalizer } from './request/path-types.js';
export { lookupRoute, type RouteLookup } from './router/route-lookup.js';
export {
  dynamicMetadataOf,
  type SecurityPipelineDeps,
  securityPipelineOptions,
} from './security/index.js';
export { PipelineStream, streamOf } from './stream.js';
export {
  decodePeerMetadata,
  encodePeerMetadata,
  type LocalWorkload,
  type PeerMetadataHeaders,
} from './telemetry/metadata-exchange.js';
