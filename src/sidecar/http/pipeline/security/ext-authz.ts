// envoy.filters.http.ext_authz in the pipeline: ask the authorization service over the mesh, apply its answer.

import { ExtAuthzFilter } from '../../../security/ext-authz/filter.js';
import type { CheckRequestInfo } from '../../../security/ext-authz/grpc-check.js';
import type { Handler, ProxyRequest } from '../../message.js';
import type { Filter, FilterFactory } from '../filters/types.js';
import { pipelineReply } from '../local-reply.js';
import { type PipelineStream, streamOf } from '../stream.js';
import { ClusterExtAuthzTransport } from './cluster-transport.js';
import { configOfKind, filterCounter, filterLabel, refuseInvalidMethod } from './filter-support.js';
import { addHeaders, applyHeaderEdits, headerListOf } from './header-edits.js';
import { requestContextOf } from './request-context.js';

function checkInfo(s: PipelineStream, req: ProxyRequest): CheckRequestInfo {
  return {
    requestId: s.requestId,
    scheme: req.scheme,
    protocol: req.version === '2' ? 'HTTP/2' : `HTTP/${req.version}`,
    sourcePort: s.conn.downstream.source.port,
    localPrincipal: s.conn.localPrincipal,
    size: req.body.size,
  };
}

/**
 * Envoy's ext_authz as Istio's CUSTOM action configures it: with `filter_enabled_metadata` the service is asked
 * only when the shadow RBAC filter before it matched a CUSTOM policy. The HTTP or gRPC check goes through the
 * cluster manager (ClusterExtAuthzTransport). Allowed: the service's header changes are made to the request, and
 * gRPC `response_headers_to_add` to the response. Denied: the service's status, body and headers, flag UAEX,
 * details `ext_authz_denied`. The service failing (unknown cluster, refused connection, timeout, 5xx): through
 * with `failure_mode_allow`, else `status_on_error` with UAEX and `ext_authz_error`.
 * Counters: `http.<stat_prefix>.ext_authz.ok` / `denied` / `error` / `disabled` / `failure_mode_allowed`.
 */
export const extAuthzFilter: FilterFactory = (filterConfig, env): Filter => {
  const config = configOfKind(filterConfig, 'extAuthz');
  const where = filterLabel(config, env);
  const service = config.config.service;
  const transport = new ClusterExtAuthzTransport({
    clusters: env.deps.clusters,
    clock: env.clock,
    grpcAuthority: service.kind === 'grpc' ? service.authority : undefined,
  });
  const engine = new ExtAuthzFilter(config.config, { transport, clock: env.clock, logger: env.logger });
  const count = {
    ok: filterCounter(env, 'ext_authz.ok'),
    denied: filterCounter(env, 'ext_authz.denied'),
    error: filterCounter(env, 'ext_authz.error'),
    disabled: filterCounter(env, 'ext_authz.disabled'),
    failureModeAllowed: filterCounter(env, 'ext_authz.failure_mode_allowed'),
  };
  return (next: Handler): Handler =>
    async (req, ctx) => {
      const s = streamOf(ctx)!;
      const refused = refuseInvalidMethod(s, req, where);
      if (refused !== undefined) return refused;
      const result = await engine.check(requestContextOf(s, req), checkInfo(s, req));
      switch (result.action) {
        case 'skip':
          count.disabled.inc();
          return next(req, ctx);
        case 'deny':
          (result.error ? count.error : count.denied).inc();
          return pipelineReply(s, {
            status: result.status,
            flag: result.flag,
            reason: `${where}: ${result.reason}`,
            body: result.body,
            headers: headerListOf(result.responseHeaders),
            details: result.error ? 'ext_authz_error' : 'ext_authz_denied',
          });
        case 'allow': {
          if (result.failedOpen) {
            count.error.inc();
            count.failureModeAllowed.inc();
          } else {
            count.ok.inc();
          }
          applyHeaderEdits(req.headers, result.headers);
          const res = await next(req, ctx);
          addHeaders(res.headers, result.responseHeaders);
          return res;
        }
      }
    };
};
