// envoy.filters.http.jwt_authn in the pipeline: verify tokens, publish request.auth.* for RBAC, or answer 401.

import { JwtAuthenticator } from '../../../security/jwt/authenticator.js';
import type { Handler } from '../../message.js';
import type { Filter, FilterFactory } from '../filters/types.js';
import { pipelineReply } from '../local-reply.js';
import { streamOf } from '../stream.js';
import { configOfKind, filterCounter, filterLabel, refuseInvalidMethod } from './filter-support.js';
import { applyHeaderEdits, headerListOf } from './header-edits.js';
import { requestContextOf } from './request-context.js';

/**
 * Envoy's semantics as Istio configures them (docs/security.md, JWT): a request without a token passes
 * anonymously when the config allows it; every token present must verify, else 401 with Envoy's text and
 * `www-authenticate: Bearer realm="<url>", error="invalid_token"` (403 for a wrong audience). A verified token
 * publishes `istio_authn` (`request.auth.principal`, `.audiences`, `.presenter`, `.claims`) for the RBAC filters
 * after it, and its header edits (token removed unless `forward`, `forward_payload_header`, claim headers,
 * client copies of those removed) are made to the request before the next filter sees it.
 * Counters: `http.<stat_prefix>.jwt_authn.allowed` / `.denied`.
 */
export const jwtAuthnFilter: FilterFactory = (filterConfig, env): Filter => {
  const config = configOfKind(filterConfig, 'jwt');
  const where = filterLabel(config, env);
  const authenticator = new JwtAuthenticator(config.config, { clock: env.clock, logger: env.logger, where });
  const allowed = filterCounter(env, 'jwt_authn.allowed');
  const denied = filterCounter(env, 'jwt_authn.denied');
  return (next: Handler): Handler =>
    async (req, ctx) => {
      const s = streamOf(ctx)!;
      const refused = refuseInvalidMethod(s, req, where);
      if (refused !== undefined) return refused;
      const request = requestContextOf(s, req);
      // The realm names the URL the client used, as Envoy builds it from x-forwarded-proto.
      const scheme = req.headers.get('x-forwarded-proto') ?? req.scheme;
      const result = await authenticator.authenticate(request, { scheme });
      if (result.action === 'deny') {
        denied.inc();
        return pipelineReply(s, {
          status: result.status,
          reason: `${where}: ${result.body}`,
          body: result.body,
          headers: headerListOf(result.responseHeaders),
          details: result.details,
        });
      }
      allowed.inc();
      applyHeaderEdits(req.headers, result.headers);
      return next(req, ctx);
    };
};
