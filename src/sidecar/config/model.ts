// The sidecar's internal config: Envoy resources decoded and validated into immutable, precompiled structures.
// The hot path reads only these; raw protobuf never leaves src/sidecar/config (docs/xds-contract.md).

export interface SocketAddress {
  address: string;
  port: number;
}

export interface CidrRange {
  address: string;
  prefixLen: number;
}

/** A header operation as Envoy's HeaderValueOption: set replaces, append adds, addIfAbsent only when missing. */
export interface HeaderMutation {
  key: string;
  value: string;
  action: 'append' | 'overwrite' | 'addIfAbsent' | 'overwriteIfExists';
}

export interface HeaderOps {
  add: readonly HeaderMutation[];
  remove: readonly string[];
}

export const NO_HEADER_OPS: HeaderOps = Object.freeze({ add: Object.freeze([]), remove: Object.freeze([]) });

/** Envoy's StringMatcher, compiled: `test` decides a value. */
export interface StringMatch {
  kind: 'exact' | 'prefix' | 'suffix' | 'contains' | 'regex';
  value: string;
  ignoreCase: boolean;
  test(s: string): boolean;
}

// --- listeners ---

export interface FilterChainMatch {
  destinationPort?: number;
  prefixRanges: readonly CidrRange[];
  serverNames: readonly string[];
  /** `tls`, `raw_buffer`, or undefined (any). */
  transportProtocol?: string;
  applicationProtocols: readonly string[];
  sourcePrefixRanges: readonly CidrRange[];
  directSourcePrefixRanges: readonly CidrRange[];
  sourcePorts: readonly number[];
}

/** TLS termination on a filter chain: mesh mTLS via the SDS names, or files for gateways. */
export interface DownstreamTls {
  requireClientCertificate: boolean;
  alpn: readonly string[];
  /** SDS secret names resolved by the sidecar's identity agent (`default`, `ROOTCA`). */
  certificateSecret?: string;
  validationSecret?: string;
  /** Gateway credentials from files. */
  certificateFile?: { certChain: string; privateKey: string };
  trustedCaFile?: string;
  minimumProtocol: 'TLSv1_2' | 'TLSv1_3';
}

export interface TcpProxyConfig {
  statPrefix: string;
  clusters: readonly { name: string; weight: number }[];
  idleTimeoutMs?: number;
  accessLog: readonly AccessLogConfig[];
  maxConnectAttempts: number;
}

export interface FilterChain {
  name: string;
  match: FilterChainMatch;
  tls?: DownstreamTls;
  /** Network filters before the terminal one (RBAC for TCP). */
  networkFilters: readonly NetworkRbacConfig[];
  terminal: { kind: 'http'; hcm: HcmConfig } | { kind: 'tcp'; tcp: TcpProxyConfig };
}

export interface ListenerConfig {
  name: string;
  address: SocketAddress;
  bindToPort: boolean;
  /** virtualOutbound: hand the connection to the listener of its original destination. */
  useOriginalDst: boolean;
  direction: 'inbound' | 'outbound' | 'unspecified';
  filterChains: readonly FilterChain[];
  defaultFilterChain?: FilterChain;
  listenerFilters: { originalDst: boolean; tlsInspector: boolean; httpInspector: boolean };
  /** Sniffing gives up after this and treats the connection as opaque (server-first protocols never hang). */
  listenerFiltersTimeoutMs: number;
  continueOnListenerFiltersTimeout: boolean;
  /** Proxyless gRPC listeners carry an api_listener; the sidecar ignores them. */
  apiListener: boolean;
}

// --- HTTP connection manager ---

export interface AccessLogConfig {
  path: string;
  format: { kind: 'text'; text: string } | { kind: 'json'; json: Record<string, string> };
}

export interface TracingConfig {
  randomSamplingPercent: number;
  provider:
    | { kind: 'zipkin'; collectorCluster: string; endpoint: string }
    | { kind: 'opentelemetry'; collectorCluster: string; uri: string; serviceName: string };
  customTags: readonly { tag: string; literal: string }[];
  spawnUpstreamSpan: boolean;
}

export type ForwardClientCert =
  | 'SANITIZE'
  | 'FORWARD_ONLY'
  | 'APPEND_FORWARD'
  | 'SANITIZE_SET'
  | 'ALWAYS_FORWARD_ONLY';

export interface HcmConfig {
  statPrefix: string;
  /** Either a route config delivered over RDS, or an inline one. */
  rds?: string;
  routeConfig?: RouteTable;
  httpFilters: readonly HttpFilterConfig[];
  useRemoteAddress: boolean;
  xffNumTrustedHops: number;
  forwardClientCert: ForwardClientCert;
  setCurrentClientCert: { subject: boolean; uri: boolean; dns: boolean };
  generateRequestId: boolean;
  preserveExternalRequestId: boolean;
  normalizePath: boolean;
  mergeSlashes: boolean;
  escapedSlashes: 'keep' | 'reject' | 'unescape_and_redirect' | 'unescape_and_forward';
  streamIdleTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  maxRequestHeadersKb: number;
  maxHeadersCount: number;
  maxConcurrentStreams: number;
  serverName: string;
  websocket: boolean;
  accessLog: readonly AccessLogConfig[];
  tracing?: TracingConfig;
}

// --- HTTP filters (decoded typed configs) ---

export interface FractionalPercent {
  /** 0..1 */
  fraction: number;
}

export interface FaultConfig {
  delay?: { fixedDelayMs: number; percentage: FractionalPercent };
  abort?: { httpStatus?: number; grpcStatus?: number; percentage: FractionalPercent };
}

export interface CorsConfig {
  allowOrigins: readonly StringMatch[];
  allowMethods: string;
  allowHeaders: string;
  exposeHeaders: string;
  maxAge: string;
  allowCredentials: boolean;
  forwardNotMatchingPreflights: boolean;
}

export interface TokenBucket {
  maxTokens: number;
  tokensPerFill: number;
  fillIntervalMs: number;
}

export interface LocalRateLimitConfig {
  statPrefix: string;
  /** Undefined: the filter is present but only per-route configs limit. */
  tokenBucket?: TokenBucket;
  enabled: FractionalPercent;
  enforced: FractionalPercent;
  responseHeaders: readonly HeaderMutation[];
  status: number;
  descriptors: readonly { entries: readonly { key: string; value: string }[]; tokenBucket: TokenBucket }[];
}

export type RateLimitAction =
  | { kind: 'requestHeaders'; headerName: string; descriptorKey: string; skipIfAbsent: boolean }
  | { kind: 'remoteAddress' }
  | { kind: 'genericKey'; descriptorKey: string; descriptorValue: string }
  | {
      kind: 'headerValueMatch';
      descriptorKey: string;
      descriptorValue: string;
      expectMatch: boolean;
      headers: readonly HeaderMatcher[];
    }
  | { kind: 'destinationCluster' }
  | { kind: 'sourceCluster' }
  | { kind: 'queryParameters'; queryParameterName: string; descriptorKey: string; skipIfAbsent: boolean };

export interface RateLimitPolicy {
  stage: number;
  actions: readonly RateLimitAction[];
}

export interface GlobalRateLimitConfig {
  domain: string;
  stage: number;
  /** The RLS cluster (`rate_limit_service.grpc_service.envoy_grpc.cluster_name`). */
  cluster: string;
  timeoutMs: number;
  failureModeDeny: boolean;
  enableXRateLimitHeaders: boolean;
}

/** RBAC, decoded: policies as compiled predicates over a request/connection context (see sidecar/http/filters). */
export interface RbacRules {
  action: 'ALLOW' | 'DENY' | 'LOG';
  policies: readonly {
    name: string;
    permissions: readonly RbacPermission[];
    principals: readonly RbacPrincipal[];
  }[];
}

export type RbacPermission =
  | { kind: 'any' }
  | { kind: 'and'; rules: readonly RbacPermission[] }
  | { kind: 'or'; rules: readonly RbacPermission[] }
  | { kind: 'not'; rule: RbacPermission }
  | { kind: 'header'; matcher: HeaderMatcher }
  | { kind: 'urlPath'; match: StringMatch }
  | { kind: 'destinationIp'; cidr: CidrRange }
  | { kind: 'destinationPort'; port: number }
  | { kind: 'requestedServerName'; match: StringMatch }
  | { kind: 'metadata'; matcher: MetadataMatcher };

export type RbacPrincipal =
  | { kind: 'any' }
  | { kind: 'and'; ids: readonly RbacPrincipal[] }
  | { kind: 'or'; ids: readonly RbacPrincipal[] }
  | { kind: 'not'; id: RbacPrincipal }
  | { kind: 'authenticated'; principalName?: StringMatch }
  | { kind: 'directRemoteIp'; cidr: CidrRange }
  | { kind: 'remoteIp'; cidr: CidrRange }
  | { kind: 'sourceIp'; cidr: CidrRange }
  | { kind: 'header'; matcher: HeaderMatcher }
  | { kind: 'urlPath'; match: StringMatch }
  | { kind: 'metadata'; matcher: MetadataMatcher };

export interface MetadataMatcher {
  filter: string;
  path: readonly string[];
  value:
    | { kind: 'string'; match: StringMatch }
    | { kind: 'listOneOf'; match: StringMatch }
    | { kind: 'present' }
    | { kind: 'bool'; value: boolean };
  invert: boolean;
}

export interface NetworkRbacConfig {
  statPrefix: string;
  rules?: RbacRules;
  shadowRules?: RbacRules;
}

export interface JwtProviderConfig {
  name: string;
  issuer: string;
  audiences: readonly string[];
  /** The JWKS JSON (inline, or fetched by the control plane and inlined). */
  jwks: string;
  forward: boolean;
  fromHeaders: readonly { name: string; valuePrefix: string }[];
  fromParams: readonly string[];
  fromCookies: readonly string[];
  forwardPayloadHeader: string;
  payloadInMetadata: string;
  claimToHeaders: readonly { headerName: string; claimName: string }[];
}

export interface JwtConfig {
  providers: readonly JwtProviderConfig[];
  /** Requests without a token pass (anonymous) when true; a present but invalid token is always refused (401). */
  allowMissing: boolean;
}

export interface ExtAuthzConfig {
  service:
    | {
        kind: 'http';
        cluster: string;
        uri: string;
        pathPrefix: string;
        timeoutMs: number;
        allowedHeaders: readonly StringMatch[];
        allowedUpstreamHeaders: readonly StringMatch[];
        allowedClientHeaders: readonly StringMatch[];
      }
    | { kind: 'grpc'; cluster: string; timeoutMs: number };
  failureModeAllow: boolean;
  statusOnError: number;
  /** Only run when the RBAC shadow result carries this metadata (Istio's CUSTOM action). */
  enabledMetadata?: MetadataMatcher;
}

export type HttpFilterConfig =
  | { name: string; kind: 'router' }
  | { name: string; kind: 'fault'; config: FaultConfig }
  | { name: string; kind: 'cors' }
  | { name: string; kind: 'rbac'; rules?: RbacRules; shadowRules?: RbacRules; shadowRulesStatPrefix: string }
  | { name: string; kind: 'jwt'; config: JwtConfig }
  | { name: string; kind: 'extAuthz'; config: ExtAuthzConfig }
  | { name: string; kind: 'localRateLimit'; config: LocalRateLimitConfig }
  | { name: string; kind: 'rateLimit'; config: GlobalRateLimitConfig };

// --- routes ---

export interface HeaderMatcher {
  name: string;
  kind: 'string' | 'present' | 'range';
  match?: StringMatch;
  range?: { start: number; end: number };
  present?: boolean;
  invert: boolean;
  treatMissingAsEmpty: boolean;
}

export interface QueryParameterMatcher {
  name: string;
  match?: StringMatch;
  present: boolean;
}

export interface RouteMatch {
  path: { kind: 'prefix' | 'exact' | 'regex' | 'separatedPrefix'; value: string; regex?: RegExp };
  caseSensitive: boolean;
  headers: readonly HeaderMatcher[];
  queryParameters: readonly QueryParameterMatcher[];
  grpcOnly: boolean;
}

export interface RetryPolicyConfig {
  retryOn: ReadonlySet<string>;
  numRetries: number;
  perTryTimeoutMs?: number;
  retriableStatusCodes: ReadonlySet<number>;
  previousHosts: boolean;
  hostSelectionRetryMaxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  retriableHeaders: readonly HeaderMatcher[];
}

export interface HashPolicy {
  kind: 'header' | 'cookie' | 'sourceIp' | 'queryParameter';
  name: string;
  cookieTtlMs?: number;
  cookiePath?: string;
  terminal: boolean;
}

export interface WeightedClusterChoice {
  name: string;
  weight: number;
  requestHeaders: HeaderOps;
  responseHeaders: HeaderOps;
}

export interface RouteActionConfig {
  kind: 'route';
  clusters: readonly WeightedClusterChoice[];
  totalWeight: number;
  timeoutMs: number;
  idleTimeoutMs?: number;
  retry?: RetryPolicyConfig;
  mirrors: readonly { cluster: string; fraction: number }[];
  prefixRewrite?: string;
  regexRewrite?: { pattern: RegExp; substitution: string };
  hostRewrite?: string;
  hashPolicies: readonly HashPolicy[];
  websocket: boolean;
  rateLimits: readonly RateLimitPolicy[];
}

export interface RedirectConfig {
  kind: 'redirect';
  scheme?: string;
  host?: string;
  port?: number;
  path?: string;
  prefixRewrite?: string;
  status: number;
  stripQuery: boolean;
}

export interface DirectResponseConfig {
  kind: 'directResponse';
  status: number;
  body?: Buffer;
}

export interface RouteEntry {
  name: string;
  match: RouteMatch;
  action: RouteActionConfig | RedirectConfig | DirectResponseConfig;
  requestHeaders: HeaderOps;
  responseHeaders: HeaderOps;
  decoratorOperation?: string;
  /** Per-route filter overrides, by filter name (fault, cors, local rate limit). */
  fault?: FaultConfig;
  cors?: CorsConfig;
  localRateLimit?: LocalRateLimitConfig;
  /** The VirtualService that produced the route (`/apis/.../virtual-service/name`), for replies that explain themselves. */
  configPath?: string;
}

export interface VirtualHostConfig {
  name: string;
  domains: readonly string[];
  routes: readonly RouteEntry[];
  requestHeaders: HeaderOps;
  responseHeaders: HeaderOps;
  retry?: RetryPolicyConfig;
  includeAttemptCount: boolean;
  cors?: CorsConfig;
  rateLimits: readonly RateLimitPolicy[];
}

export interface RouteTable {
  name: string;
  virtualHosts: readonly VirtualHostConfig[];
  requestHeaders: HeaderOps;
  responseHeaders: HeaderOps;
  /** Host header (lower-cased, with or without port) → virtual host; Envoy's domain matching precompiled. */
  findVirtualHost(authority: string): VirtualHostConfig | undefined;
}

// --- clusters and endpoints ---

export interface UpstreamTls {
  sni: string;
  alpn: readonly string[];
  /** Secure naming: the identities allowed to serve this cluster (URI SANs); empty = any (origination with no SANs). */
  subjectAltNames: readonly StringMatch[];
  /** Mesh mTLS through the identity agent's secrets... */
  certificateSecret?: string;
  validationSecret?: string;
  /** ...or TLS origination with files. */
  certificateFile?: { certChain: string; privateKey: string };
  trustedCaFile?: string;
  insecureSkipVerify: boolean;
  minimumProtocol: 'TLSv1_2' | 'TLSv1_3';
}

/** Istio's auto mTLS: endpoints labelled `tlsMode: istio` get `istio`, the others `plaintext`. */
export interface TransportSocketChoice {
  /** Endpoint metadata (`envoy.transport_socket_match`) that must match, empty = match all. */
  match: Readonly<Record<string, string>>;
  tls?: UpstreamTls;
}

export interface CircuitBreakerLimits {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  maxRetries: number;
}

export interface OutlierDetectionConfig {
  consecutive5xx?: number;
  enforcingConsecutive5xx: number;
  consecutiveGatewayFailure?: number;
  enforcingConsecutiveGatewayFailure: number;
  consecutiveLocalOriginFailure?: number;
  enforcingConsecutiveLocalOriginFailure: number;
  splitExternalLocalOriginErrors: boolean;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionPercent: number;
}

export type LbPolicy =
  | 'ROUND_ROBIN'
  | 'LEAST_REQUEST'
  | 'RANDOM'
  | 'RING_HASH'
  | 'MAGLEV'
  | 'CLUSTER_PROVIDED';

export interface ClusterConfig {
  name: string;
  type: 'EDS' | 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'ORIGINAL_DST';
  edsServiceName: string;
  connectTimeoutMs: number;
  lbPolicy: LbPolicy;
  ringHashMinSize: number;
  maglevTableSize: number;
  leastRequestChoiceCount: number;
  circuitBreakers: CircuitBreakerLimits;
  outlierDetection?: OutlierDetectionConfig;
  /** Envoy's healthy_panic_threshold (percent); Istio sets 0 with outlier detection (panic disabled). */
  healthyPanicThresholdPercent: number;
  localityWeighted: boolean;
  http: {
    protocol: 'http1' | 'http2' | 'auto';
    idleTimeoutMs: number;
    maxRequestsPerConnection: number;
    maxConnectionDurationMs?: number;
    maxConcurrentStreams: number;
  };
  transportSockets: readonly TransportSocketChoice[];
  /** STATIC and DNS clusters carry their endpoints inline. */
  inlineEndpoints?: EndpointSet;
  upstreamBindAddress?: string;
  tcpKeepalive?: { probes?: number; timeSec?: number; intervalSec?: number };
  /** `istio` filter metadata: services served (for metrics and replies), subset, DestinationRule path. */
  istio: {
    services: readonly { host: string; name: string; namespace: string }[];
    subset?: string;
    config?: string;
    defaultOriginalPort?: number;
  };
  retryBudget?: { percent: number; minRetriesPerSecond: number };
  perConnectionBufferLimitBytes?: number;
}

export interface EndpointConfig {
  address: string;
  port: number;
  health: 'healthy' | 'unhealthy' | 'draining' | 'unknown';
  weight: number;
  hostname: string;
  /** `envoy.transport_socket_match` metadata. */
  transportMatch: Readonly<Record<string, string>>;
  /** Istio's `workload` metadata: name;namespace;canonical service;revision;cluster. */
  workload?: string;
}

export interface LocalityEndpoints {
  region: string;
  zone: string;
  subZone: string;
  priority: number;
  weight: number;
  endpoints: readonly EndpointConfig[];
}

export interface EndpointSet {
  clusterName: string;
  localities: readonly LocalityEndpoints[];
  overprovisioningFactor: number;
}

/** One consistent, applied snapshot: every RDS name a listener uses and every EDS name a cluster uses is present. */
export interface SidecarConfig {
  versions: { listeners: string; routes: string; clusters: string; endpoints: string };
  listeners: ReadonlyMap<string, ListenerConfig>;
  routes: ReadonlyMap<string, RouteTable>;
  clusters: ReadonlyMap<string, ClusterConfig>;
  endpoints: ReadonlyMap<string, EndpointSet>;
}
