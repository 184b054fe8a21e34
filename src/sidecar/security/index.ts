// Public API of the sidecar's security engines: RBAC, JWT, ext_authz, path normalization, XFCC, sanitizing.

export {
  type AnyContext,
  type ConnectionContext,
  type DynamicMetadata,
  headersFromRaw,
  headersFromRecord,
  type MetadataStruct,
  type MetadataValue,
  NO_HEADERS,
  type PeerCertificate,
  peerFromSpiffeId,
  type RequestContext,
  type RequestHeaders,
} from './context.js';
export {
  ExtAuthzFilter,
  type ExtAuthzFilterOptions,
  type ExtAuthzResult,
  type ExtAuthzStats,
} from './ext-authz/filter.js';
export { buildCheckRequest, type CheckRequestInfo, readCheckResponse } from './ext-authz/grpc-check.js';
export {
  buildHttpCheck,
  type CheckVerdict,
  HEADERS_TO_REMOVE_HEADER,
  readHttpCheck,
} from './ext-authz/http-check.js';
export {
  type Endpoint,
  NodeExtAuthzTransport,
  type NodeExtAuthzTransportOptions,
} from './ext-authz/node-transport.js';
export type {
  ExtAuthzTransport,
  GrpcCheckRequest,
  HttpCheckRequest,
  HttpCheckResponse,
} from './ext-authz/transport.js';
export {
  applyEdits,
  editedHeaders,
  emptyEdits,
  type HeaderEdits,
  type HeaderValue,
  mergeEdits,
} from './header-edits.js';
export {
  HttpSecurityChain,
  type HttpSecurityChainOptions,
  type SecurityOutcome,
  type SecurityRequestInfo,
} from './http-chain.js';
export { compileCidr, isIpAddress, remoteAddressFromXff, type XffOptions } from './ip.js';
export {
  JwtAuthenticator,
  type JwtAuthenticatorOptions,
  type JwtAuthnResult,
  type JwtAuthnStats,
  type JwtRequestInfo,
} from './jwt/authenticator.js';
export { AUTHN_METADATA, JWT_AUTHN_METADATA } from './jwt/claims.js';
export { JwksKeys } from './jwt/keys.js';
export { JWT_STATUS_TEXT, type JwtStatus } from './jwt/status.js';
export { compileMetadataMatcher, metadataValue } from './metadata-match.js';
export { type ConnectionVerdict, NetworkRbacChain } from './network-chain.js';
export {
  isValidMethod,
  normalizationForMode,
  normalizeRequestPath,
  type PathNormalization,
  type PathNormalizationMode,
  type PathNormalizationResult,
} from './path-normalize.js';
export { peerCertificateFromSocket } from './peer-certificate.js';
export { RbacEngine, type RbacEngineResult } from './rbac-engine.js';
export {
  ACCESS_LOG_HINT,
  COMMON_METADATA_NAMESPACE,
  HTTP_RBAC_FILTER_NAME,
  NETWORK_RBAC_FILTER_NAME,
  RBAC_DENIED_BODY,
  RBAC_DENIED_STATUS,
  type RbacDecision,
  RbacFilter,
  type RbacFilterConfig,
  type RbacFilterOptions,
  type RbacFilterStats,
} from './rbac-filter.js';
export {
  controlHeadersToRemove,
  ENVOY_EDGE_ONLY_HEADERS,
  ENVOY_INTERNAL_ONLY_HEADERS,
  isUntrustedControlHeader,
  type SanitizeOptions,
} from './sanitize.js';
export {
  XFCC_HEADER,
  type XfccAction,
  type XfccInput,
  type XfccOptions,
  xfccAction,
  xfccElement,
} from './xfcc.js';
