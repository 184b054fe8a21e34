// The rate limit service client of the global filter, speaking gRPC through the RLS cluster of the mesh.

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type { Clock } from '../../../../shared/clock.js';
import {
  RateLimitRequestSchema,
  type RateLimitResponse,
  RateLimitResponseSchema,
} from '../../../../xds/gen/envoy/service/ratelimit/v3/rls_pb.js';
import type { RateLimitClient } from '../../../ratelimit/global-client.js';
import type { ClusterManager } from '../../../runtime/contracts.js';
import { grpcUnary } from '../grpc-unary.js';

const PATH = '/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit';

/** A RateLimitClient whose calls go through `clusters.get(cluster)` (pools, mTLS, load balancing of the core). */
export function clusterRateLimitClient(opts: {
  clusters: ClusterManager;
  cluster: string;
  clock: Clock;
}): RateLimitClient {
  return {
    shouldRateLimit(
      req: MessageInitShape<typeof RateLimitRequestSchema>,
      timeoutMs: number,
    ): Promise<RateLimitResponse> {
      return grpcUnary({
        clusters: opts.clusters,
        cluster: opts.cluster,
        path: PATH,
        request: create(RateLimitRequestSchema, req),
        requestSchema: RateLimitRequestSchema,
        responseSchema: RateLimitResponseSchema,
        timeoutMs,
        clock: opts.clock,
      });
    },
    close() {},
  };
}
