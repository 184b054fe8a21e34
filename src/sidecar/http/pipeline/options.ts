// What a Trellis connection manager factory can be given beyond PipelineDeps: seams, engines, and test hooks.

import { type Clock, systemClock } from '../../../shared/clock.js';
import { type Logger, silentLogger } from '../../../shared/log.js';
import type { ForwardClientCert } from '../../config/model.js';
import type { RateLimitClient } from '../../ratelimit/global-client.js';
import type { ClusterManager, DownstreamConnection } from '../../runtime/contracts.js';
import type { SecurityFilterKind } from './filters/chain.js';
import type { FaultHeaderControl } from './filters/fault.js';
import { clusterRateLimitClient } from './filters/rls-client.js';
import type { FilterFactory } from './filters/types.js';
import { normalizeRequestPath } from './request/path-normalize.js';
import type { PathNormalizer } from './request/path-types.js';
import { uuidV4 } from './request/request-id.js';

/** What to do with a request's x-forwarded-client-cert (the security module's `xfccAction` has this shape). */
export type XfccAction = { action: 'remove' } | { action: 'keep' } | { action: 'set'; value: string };

/** Builds the XFCC action for a request from the connection, the client's header values and the HCM mode. */
export type XfccBuilder = (input: {
  connection: DownstreamConnection;
  incoming: readonly string[] | undefined;
  mode: ForwardClientCert;
  details: { subject: boolean; uri: boolean; dns: boolean };
}) => XfccAction;

export interface PipelineOptions {
  clock?: Clock;
  /** Uniform in [0, 1): percentages, weighted clusters, mirrors, retry jitter. Seed it in tests. */
  random?: () => number;
  /** x-request-id values (UUIDv4 by default). */
  requestId?: () => string;
  logger?: Logger;
  /** Request body bytes kept for retries and mirrors; a longer body is not retried (default 64 KiB). */
  replayLimitBytes?: number;
  /** Engines for jwt_authn, RBAC and ext_authz (the security module); a configured kind without one fails closed. */
  security?: Partial<Record<SecurityFilterKind, FilterFactory>>;
  /** Istio's path normalization (the security module's `normalizeRequestPath`); default: the HCM's own. */
  normalizePath?: PathNormalizer;
  /** The XFCC builder (the security module's); default: a client's XFCC never passes (SANITIZE). */
  forwardClientCert?: XfccBuilder;
  /** The RLS client for a cluster; default: gRPC through the cluster manager. */
  rateLimitClient?: (cluster: string, clusters: ClusterManager) => RateLimitClient;
  /** Envoy's header-controlled faults (`x-envoy-fault-*`); off unless enabled here. */
  faultHeaders?: FaultHeaderControl;
  /** Extra pod labels and APP_CONTAINERS advertised in x-envoy-peer-metadata. */
  peerMetadata?: { labels?: Readonly<Record<string, string>>; appContainers?: string };
}

export interface ResolvedOptions {
  clock: Clock;
  random: () => number;
  requestId: () => string;
  logger: Logger;
  replayLimitBytes: number;
  security: Partial<Record<SecurityFilterKind, FilterFactory>>;
  normalizePath: PathNormalizer;
  forwardClientCert: XfccBuilder;
  rateLimitClient: (cluster: string, clusters: ClusterManager) => RateLimitClient;
  faultHeaders: FaultHeaderControl;
  peerMetadata: { labels?: Readonly<Record<string, string>>; appContainers?: string };
}

const REMOVE: XfccAction = Object.freeze({ action: 'remove' });

/** Without the security module's builder the header is dropped, which is Envoy's SANITIZE and always safe. */
const sanitizeXfcc: XfccBuilder = () => REMOVE;

export function resolveOptions(o: PipelineOptions = {}): ResolvedOptions {
  const clock = o.clock ?? systemClock;
  return {
    clock,
    random: o.random ?? Math.random,
    requestId: o.requestId ?? uuidV4,
    logger: o.logger ?? silentLogger,
    replayLimitBytes: o.replayLimitBytes ?? 64 * 1024,
    security: o.security ?? {},
    normalizePath: o.normalizePath ?? normalizeRequestPath,
    forwardClientCert: o.forwardClientCert ?? sanitizeXfcc,
    rateLimitClient:
      o.rateLimitClient ?? ((cluster, clusters) => clusterRateLimitClient({ clusters, cluster, clock })),
    faultHeaders: o.faultHeaders ?? {},
    peerMetadata: o.peerMetadata ?? {},
  };
}
