// The slot for jwt_authn, RBAC and ext_authz: filled by the security module, failing closed while empty.

import type { HttpFilterConfig } from '../../../config/model.js';
import type { Handler } from '../../message.js';
import { pipelineReply } from '../local-reply.js';
import { streamOf } from '../stream.js';
import type { Filter, FilterEnv } from './types.js';

/**
 * A listener that asks for authentication or authorization this build cannot evaluate must not let traffic
 * through: every request is refused with 403 and a reason naming the filter, and the gap is logged once.
 */
export function missingSecurityFilter(config: HttpFilterConfig, env: FilterEnv): Filter {
  env.logger.error('no engine for a security filter; refusing every request on this listener (fail closed)', {
    filter: config.name,
    kind: config.kind,
    statPrefix: env.hcm.statPrefix,
  });
  return (_next: Handler): Handler =>
    async (_req, ctx) => {
      const s = streamOf(ctx)!;
      return pipelineReply(s, {
        status: 403,
        reason: `filter "${config.name}" (${config.kind}) has no engine in this sidecar build; refusing (fail closed)`,
        body: 'RBAC: access denied',
        details: 'security_filter_unavailable',
      });
    };
}
