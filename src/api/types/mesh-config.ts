// Mesh-wide settings, Istio's MeshConfig field names (read from ConfigMap istio-system/istio key `mesh`, or a file).

import type { HTTPRetry, LocalityLoadBalancerSetting } from './networking.js';

export interface ExtensionProvider {
  name: string;
  envoyExtAuthzHttp?: {
    service: string;
    port: number;
    timeout?: string;
    pathPrefix?: string;
    failOpen?: boolean;
    statusOnError?: string;
    includeRequestHeadersInCheck?: string[];
    headersToUpstreamOnAllow?: string[];
    headersToDownstreamOnDeny?: string[];
    headersToDownstreamOnAllow?: string[];
  };
  envoyExtAuthzGrpc?: {
    service: string;
    port: number;
    timeout?: string;
    failOpen?: boolean;
    statusOnError?: string;
  };
  zipkin?: { service: string; port: number; path?: string; maxTagLength?: number };
  opentelemetry?: { service: string; port: number; http?: { path?: string; timeout?: string } };
  envoyFileAccessLog?: { path?: string; logFormat?: { text?: string; labels?: Record<string, string> } };
  prometheus?: Record<string, never>;
  /** Trellis: the rate limit service used by `envoy.filters.http.ratelimit` patches. */
  envoyRateLimit?: { service: string; port: number; failOpen?: boolean; timeout?: string };
}

export type PathNormalization = 'DEFAULT' | 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';

export interface MeshConfig {
  trustDomain?: string;
  trustDomainAliases?: string[];
  rootNamespace?: string;
  outboundTrafficPolicy?: { mode?: 'REGISTRY_ONLY' | 'ALLOW_ANY' };
  enableTracing?: boolean;
  defaultConfig?: {
    tracing?: { sampling?: number };
    holdApplicationUntilProxyStarts?: boolean;
    terminationDrainDuration?: string;
    proxyMetadata?: Record<string, string>;
  };
  accessLogFile?: string;
  accessLogEncoding?: 'TEXT' | 'JSON';
  accessLogFormat?: string;
  defaultHttpRetryPolicy?: HTTPRetry;
  pathNormalization?: { normalization?: PathNormalization };
  extensionProviders?: ExtensionProvider[];
  defaultProviders?: { tracing?: string[]; metrics?: string[]; accessLogging?: string[] };
  localityLbSetting?: LocalityLoadBalancerSetting;
  connectTimeout?: string;
  protocolDetectionTimeout?: string;
  enableAutoMtls?: boolean;
  h2UpgradePolicy?: 'DEFAULT' | 'DO_NOT_UPGRADE' | 'UPGRADE';
}

export const DEFAULT_MESH_CONFIG: Readonly<
  Required<
    Pick<
      MeshConfig,
      'trustDomain' | 'rootNamespace' | 'enableAutoMtls' | 'connectTimeout' | 'protocolDetectionTimeout'
    >
  >
> = {
  trustDomain: 'cluster.local',
  rootNamespace: 'istio-system',
  enableAutoMtls: true,
  connectTimeout: '10s',
  protocolDetectionTimeout: '100ms',
};
