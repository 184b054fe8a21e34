// What rate limit descriptor actions may read of a request, from the pipeline's stream.

import type { RateLimitRequestInfo } from '../../../ratelimit/descriptors.js';
import type { ProxyRequest } from '../../message.js';
import { requestHeaderValue } from '../router/request-headers.js';
import type { PipelineStream } from '../stream.js';

/**
 * Header lookups answer pseudo-headers (`:path`, `:method`, `:authority`); `remote_address` is the trusted
 * client address after XFF; `source_cluster` is Istio's node cluster (`<workload>.<namespace>`).
 */
export function rateLimitRequestInfo(
  s: PipelineStream,
  req: ProxyRequest,
  sourceCluster: string,
): RateLimitRequestInfo {
  return {
    header: (name) => requestHeaderValue(req, name),
    remoteAddress: s.clientAddress,
    sourceCluster,
    destinationCluster: s.clusterChoice?.name,
  };
}
