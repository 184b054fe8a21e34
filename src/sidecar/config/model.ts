// The sidecar's internal config: Envoy resources decoded and validated into immutable, precompiled structures.
// The hot path reads only these; raw protobuf never leaves src/sidecar/config (docs/xds-contract.md).
//
// Where another sidecar room already owns the decoded form of a setting (load balancing, outlier detection,
// circuit breakers, rate limits, retry budgets), the model reuses that room's type rather than a copy.

import type { RetryBudgetConfig } from '../../shared/retry-budget.js';
import type { RateLimitPolicyEntry } from '../ratelimit/descriptors.js';
import type { GlobalRateLimitConfig } from '../ratelimit/global-config.js';
import type { LocalRateLimitConfig } from '../ratelimit/local-config.js';
import type { HeaderLookup } from '../ratelimit/matchers.js';
import type { ThresholdsByPriority } from '../upstream/breaker/thresholds.js';
import type { HostInit } from '../upstream/lb/host.js';
import type { ClusterLbSettings } from '../upstream/lb/xds.js';
import type { OutlierDetectionConfig } from '../upstream/outlier/config.js';

export type {
  ClusterLbSettings,
  GlobalRateLimitConfig,
  HeaderLookup,
  LocalRateLimitConfig,
  OutlierDetectionConfig,
  RateLimitPolicyEntry,
  RetryBudgetConfig,
  ThresholdsByPriority,
};

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
  /** Lower-case. */
  key: string;
  value: string;
  action: 'append' | 'overwrite' | 'addIfAbsent' | 'overwriteIfExists';
  /** Envoy drops a header whose value is empty unless `keep_empty_value` is set. */
  keepEmpty: boolean;
}

/** Header edits of one config level; Envoy removes first, then adds. */
export interface HeaderOps {
  add: readonly HeaderMutation[];
  /** Lower-case names. */
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
  /** Lower-case; `*.example.com` wildcards allowed. */
  serverNames: readonly string[];
  /** `tls`, `raw_buffer`, or undefined (any). */
  transportProtocol?: string;
  applicationProtocols: readonly string[];
  directSourcePrefixRanges: readonly CidrRange[];
  sourceType: 'ANY' | 'SAME_IP_OR_LOOPBACK' | 'EXTERNAL';
  sourcePrefixRanges: readonly CidrRange[];
  sourcePorts: readonly number[];
}

/** What filter chain selection looks at; see match/filter-chain.ts. */
export interface ConnectionInfo {
  /** The connection's (original) destination. */
  destinationIp: string;
  destinationPort: number;
  sourceIp: string;
  sourcePort: number;
  /** The peer that connected to us, when PROXY protocol or similar replaced the source; default sourceIp. */
  directSourceIp?: string;
  /** SNI from the TLS ClientHello (tls_inspector). */
  serverName?: string;
  /** `tls` when tls_inspector saw a ClientHello; Envoy's default is `raw_buffer`. */
  transportProtocol?: string;
  /** TLS ALPN offered by the client, or `http/1.1` / `h2c` from http_inspector. */
  applicationProtocols?: readonly string[];
}

/** Envoy's filter chain matching, precompiled as its lookup tree (built at decode time). */
export interface FilterChainSelector {
  /** The matching chain, or undefined (then the listener's default chain, if any, applies). */
  select(conn: ConnectionInfo): FilterChain | undefined;
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
  maximumProtocol: 'TLSv1_2' | 'TLSv1_3';
}

export interface TcpProxyConfig {
  statPrefix: string;
  clusters: readonly { name: string; weight: number }[];
  totalWeight: number;
  /** Envoy's default is 1 h; 0 disables. */
  idleTimeoutMs: number;
  accessLog: readonly AccessLogConfig[];
  maxConnectAttempts: number;
  maxDownstreamConnectionDurationMs?: number;
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
  chainSelector: FilterChainSelector;
  listenerFilters: { originalDst: boolean; tlsInspector: boolean; httpInspector: boolean };
  /** Sniffing gives up after this and treats the connection as opaque (server-first protocols never hang). */
  listenerFiltersTimeoutMs: number;
  continueOnListenerFiltersTimeout: boolean;
  /** Proxyless gRPC listeners carry an api_listener; the sidecar ignores them. */
  apiListener: boolean;
  perConnectionBufferLimitBytes?: number;
}

// --- HTTP connection manager ---

export interface AccessLogConfig {
  path: string;
  format: { kind: 'text'; text: string } | { kind: 'json'; json: Readonly<Record<string, string>> };
}

export interface TracingConfig {
  randomSamplingPercent: number;
  provider:
    | {
        kind: 'zipkin';
        collectorCluster: string;
        endpoint: string;
        traceId128bit: boolean;
        sharedSpanContext: boolean;
      }
    | {
        kind: 'opentelemetry';
        collectorCluster: string;
        uri: string;
        timeoutMs: number;
        serviceName: string;
      };
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
  codec: 'auto' | 'http1' | 'http2';
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
  /** HCM `strip_matching_host_port` / `strip_any_host_port`, applied before routing. */
  stripPort: 'none' | 'matching' | 'any';
  headersWithUnderscores: 'allow' | 'reject' | 'drop';
  /** 0 disables (Envoy's default is 5 min). */
  streamIdleTimeoutMs: number;
  /** 0 disables (the default). */
  requestTimeoutMs: number;
  /** Downstream connection idle timeout; 0 disables (Envoy's default is 1 h). */
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
  /** Envoy's default: true (a preflight that does not match is forwarded upstream). */
  forwardNotMatchingPreflights: boolean;
}

/** RBAC, decoded: policies as compiled predicates over a request/connection context (see sidecar/http/filters). */
export interface RbacRules {
  action: 'ALLOW' | 'DENY' | 'LOG';
  /** Sorted by name, as Envoy's engine holds them (the first matching name is the one reported). */
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
  shadowRulesStatPrefix: string;
}

export interface JwtProviderConfig {
  name: string;
  issuer: string;
  audiences: readonly string[];
  /** The JWKS JSON (inline, or fetched by the control plane and inlined); checked to parse at decode time. */
  jwks: string;
  forward: boolean;
  fromHeaders: readonly { name: string; valuePrefix: string }[];
  fromParams: readonly string[];
  fromCookies: readonly string[];
  forwardPayloadHeader: string;
  payloadInMetadata: string;
  claimToHeaders: readonly { headerName: string; claimName: string }[];
  /** Allowed clock skew for exp/nbf; the decoder always sets it (Envoy's default 60 s). */
  clockSkewSeconds?: number;
}

export interface JwtConfig {
  /** The providers a request's token may satisfy (any one of them), by the filter's requirement. */
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
    | { kind: 'grpc'; cluster: string; authority: string; timeoutMs: number };
  failureModeAllow: boolean;
  statusOnError: number;
  /** Only run when the RBAC shadow result carries this metadata (Istio's CUSTOM action). */
  enabledMetadata?: MetadataMatcher;
}

export type HttpFilterConfig =
  | { name: string; kind: 'router'; suppressEnvoyHeaders: boolean }
  | { name: string; kind: 'fault'; config: FaultConfig }
  | { name: string; kind: 'cors' }
  | { name: string; kind: 'rbac'; rules?: RbacRules; shadowRules?: RbacRules; shadowRulesStatPrefix: string }
  | { name: string; kind: 'jwt'; config: JwtConfig }
  | { name: string; kind: 'extAuthz'; config: ExtAuthzConfig }
  | { name: string; kind: 'localRateLimit'; config: LocalRateLimitConfig }
  | { name: string; kind: 'rateLimit'; config: GlobalRateLimitConfig };

// --- routes ---

/**
 * Envoy's route HeaderMatcher, compiled: `matches` applies its missing-header and invert rules. Build one by
 * hand with compileHeaderMatcher (match/header-matcher.ts).
 */
export interface HeaderMatcher {
  /** Lower-case (`:method`, `:authority` and `:scheme` are pseudo-headers the lookup must answer). */
  name: string;
  kind: 'string' | 'present' | 'range';
  match?: StringMatch;
  range?: { start: number; end: number };
  present?: boolean;
  invert: boolean;
  treatMissingAsEmpty: boolean;
  /** Evaluates the matcher on a request; repeated headers are read joined with "," as Envoy does. */
  matches(header: HeaderLookup): boolean;
}

export interface QueryParameterMatcher {
  name: string;
  /** Undefined: presence only. */
  match?: StringMatch;
}

/** What route matching reads from a request. */
export interface RouteRequest {
  /** `:path` as received, query string included. */
  path: string;
  /** Header by lower-case name (pseudo-headers included), repeated values joined with ",". */
  header: HeaderLookup;
}

export interface RouteMatch {
  path: { kind: 'prefix' | 'exact' | 'regex' | 'separatedPrefix'; value: string; regex?: RegExp };
  caseSensitive: boolean;
  headers: readonly HeaderMatcher[];
  queryParameters: readonly QueryParameterMatcher[];
  grpcOnly: boolean;
}

export interface RetryPolicyConfig {
  /** Validated against Envoy's retry_on names (HTTP and gRPC conditions). */
  retryOn: ReadonlySet<string>;
  numRetries: number;
  perTryTimeoutMs?: number;
  retriableStatusCodes: ReadonlySet<number>;
  /** `envoy.retry_host_predicates.previous_hosts`: a retry avoids hosts already tried. */
  previousHosts: boolean;
  hostSelectionRetryMaxAttempts: number;
  /** `envoy.retry_priorities.previous_priorities` (Istio's retryRemoteLocalities). */
  previousPriorities?: { updateFrequency: number };
  backoffBaseMs: number;
  backoffMaxMs: number;
  retriableHeaders: readonly HeaderMatcher[];
}

export interface HashPolicy {
  kind: 'header' | 'cookie' | 'sourceIp' | 'queryParameter';
  /** Header (lower-case), cookie or query parameter name; empty for sourceIp. */
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
  hostRewrite?: string;
}

export interface RouteActionConfig {
  kind: 'route';
  clusters: readonly WeightedClusterChoice[];
  totalWeight: number;
  /** What a request gets when the chosen cluster does not exist (Envoy's default 503). */
  clusterNotFoundStatus: number;
  /** 0 = disabled; Envoy's default when unset is 15 s. */
  timeoutMs: number;
  idleTimeoutMs?: number;
  /** The route's retry policy, else the virtual host's (Envoy: the route's wins whole). */
  retry?: RetryPolicyConfig;
  mirrors: readonly { cluster: string; fraction: number }[];
  prefixRewrite?: string;
  /** `pattern` has the global flag; `substitution` is in JavaScript's `$1` form. */
  regexRewrite?: { pattern: RegExp; substitution: string };
  hostRewrite?: string;
  hashPolicies: readonly HashPolicy[];
  websocket: boolean;
  /** The route's `rate_limits` (descriptor actions compiled by sidecar/ratelimit). */
  rateLimits: readonly RateLimitPolicyEntry[];
  priority: 'DEFAULT' | 'HIGH';
  maxStreamDurationMs?: number;
  /** Honour the gRPC `grpc-timeout` header up to this (0 = no cap); undefined ignores the header. */
  grpcTimeoutHeaderMaxMs?: number;
}

export interface RedirectConfig {
  kind: 'redirect';
  scheme?: string;
  host?: string;
  port?: number;
  path?: string;
  prefixRewrite?: string;
  regexRewrite?: { pattern: RegExp; substitution: string };
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
  /** Compiled from `match`: path, case, headers, query parameters and gRPC in Envoy's order. */
  matches(req: RouteRequest): boolean;
  action: RouteActionConfig | RedirectConfig | DirectResponseConfig;
  requestHeaders: HeaderOps;
  responseHeaders: HeaderOps;
  decoratorOperation?: string;
  /** Effective per-filter configs (route's, else virtual host's, else route configuration's). */
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
  includeAttemptCountInResponse: boolean;
  cors?: CorsConfig;
  rateLimits: readonly RateLimitPolicyEntry[];
}

export interface RouteTable {
  name: string;
  virtualHosts: readonly VirtualHostConfig[];
  requestHeaders: HeaderOps;
  responseHeaders: HeaderOps;
  /** Host header → virtual host, Envoy's domain order precompiled (see match/virtual-host.ts). */
  findVirtualHost(authority: string): VirtualHostConfig | undefined;
}

// --- clusters and endpoints ---

export interface SanMatcher {
  /** `ANY` for the legacy untyped `match_subject_alt_names` (any SAN of the certificate). */
  type: 'URI' | 'DNS' | 'EMAIL' | 'IP_ADDRESS' | 'ANY';
  match: StringMatch;
}

export interface UpstreamTls {
  sni: string;
  alpn: readonly string[];
  /** Secure naming: the identities allowed to serve this cluster; empty = any verified certificate. */
  subjectAltNames: readonly SanMatcher[];
  /** The exact URI SANs (SPIFFE IDs) among `subjectAltNames`, for sidecar/identity's secureNamingCheck. */
  spiffeIds: readonly string[];
  /** Mesh mTLS through the identity agent's secrets... */
  certificateSecret?: string;
  validationSecret?: string;
  /** ...or TLS origination with files. */
  certificateFile?: { certChain: string; privateKey: string };
  trustedCaFile?: string;
  /** No validation context at all: the server certificate is not verified (Envoy's behaviour). A context
   *  with neither a CA file nor an SDS secret verifies against the system roots. */
  insecureSkipVerify: boolean;
  minimumProtocol: 'TLSv1_2' | 'TLSv1_3';
  maximumProtocol: 'TLSv1_2' | 'TLSv1_3';
}

/** Istio's auto mTLS: endpoints labelled `tlsMode: istio` get `istio`, the others `plaintext`. */
export interface TransportSocketChoice {
  name: string;
  /** Endpoint metadata (`envoy.transport_socket_match`) that must match, empty = match all. */
  match: Readonly<Record<string, string>>;
  tls?: UpstreamTls;
}

export interface ClusterConfig {
  name: string;
  type: 'EDS' | 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'ORIGINAL_DST';
  /** The ClusterLoadAssignment name an EDS cluster needs (service_name, else the cluster name). */
  edsServiceName: string;
  connectTimeoutMs: number;
  /** From sidecar/upstream/lb (`lbSettingsFromCluster`). */
  lb: ClusterLbSettings;
  /** From sidecar/upstream/breaker (`thresholdsFromProto`), Envoy's defaults filled in. */
  circuitBreakers: ThresholdsByPriority;
  /** From sidecar/upstream/outlier (`outlierConfigFromProto`); absent = no outlier detection. */
  outlierDetection?: OutlierDetectionConfig;
  http: {
    protocol: 'http1' | 'http2' | 'auto';
    idleTimeoutMs: number;
    /** 0 = unlimited. */
    maxRequestsPerConnection: number;
    maxConnectionDurationMs?: number;
    maxConcurrentStreams: number;
  };
  /** In Envoy's order: the `transport_socket_matches`, then the cluster's own socket (match-all). */
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
  /** `trellis.retry_budget` metadata, or the default budget when the cluster carries none. */
  retryBudget: RetryBudgetConfig;
  perConnectionBufferLimitBytes?: number;
}

/** A ClusterLoadAssignment: the hosts sidecar/upstream/lb builds balancers from. */
export interface EndpointSet {
  clusterName: string;
  hosts: readonly HostInit[];
  /** Percent (default 140). */
  overprovisioningFactor: number;
  weightedPriorityHealth: boolean;
}

/** One consistent, applied snapshot: every RDS name a listener uses and every EDS name a cluster uses is present. */
export interface SidecarConfig {
  versions: { listeners: string; routes: string; clusters: string; endpoints: string };
  listeners: ReadonlyMap<string, ListenerConfig>;
  /** `address:port` (IPv6 as `[addr]:port`, canonical form) → listener, for original-destination lookup. */
  listenersByAddress: ReadonlyMap<string, ListenerConfig>;
  routes: ReadonlyMap<string, RouteTable>;
  clusters: ReadonlyMap<string, ClusterConfig>;
  endpoints: ReadonlyMap<string, EndpointSet>;
}
