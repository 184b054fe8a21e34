// envoy.filters.http.rbac in the pipeline: one enforced engine (ALLOW, DENY or LOG) plus shadow rules per filter.

import {
  HTTP_RBAC_FILTER_NAME,
  RBAC_DENIED_BODY,
  RBAC_DENIED_STATUS,
  RbacFilter,
} from '../../../security/rbac-filter.js';
import type { Handler } from '../../message.js';
import type { Filter, FilterFactory } from '../filters/types.js';
import { pipelineReply } from '../local-reply.js';
import { streamOf } from '../stream.js';
import { configOfKind, filterCounter, filterLabel, refuseInvalidMethod } from './filter-support.js';
import { requestContextOf } from './request-context.js';

/**
 * Istio emits one RBAC filter per action (CUSTOM's shadow rules, DENY, ALLOW, AUDIT as LOG), in that order, so
 * running each filter where the config puts it is AuthorizationPolicy's evaluation order. A denial is Envoy's
 * `403 RBAC: access denied` with `response_code_details` `rbac_access_denied_matched_policy[<policy>|none]`.
 * Shadow rules never deny; they publish `<prefix>shadow_effective_policy_id` / `shadow_engine_result` under
 * `envoy.filters.http.rbac`, which ext_authz's `filter_enabled_metadata` reads. Counters (Envoy's names):
 * `rbac.allowed`, `rbac.denied`, `rbac.<shadow_prefix>shadow_allowed` / `shadow_denied`, `rbac.logged` /
 * `not_logged`, in `http.<stat_prefix>.`.
 */
export const rbacFilter: FilterFactory = (filterConfig, env): Filter => {
  const config = configOfKind(filterConfig, 'rbac');
  const where = filterLabel(config, env);
  const engine = new RbacFilter(
    {
      rules: config.rules,
      shadowRules: config.shadowRules,
      shadowRulesStatPrefix: config.shadowRulesStatPrefix,
    },
    { kind: 'http', where },
  );
  const rules = config.rules;
  const shadowResultKey = `${config.shadowRulesStatPrefix}shadow_engine_result`;
  const count = {
    allowed: filterCounter(env, 'rbac.allowed'),
    denied: filterCounter(env, 'rbac.denied'),
    shadowAllowed: filterCounter(env, `rbac.${config.shadowRulesStatPrefix}shadow_allowed`),
    shadowDenied: filterCounter(env, `rbac.${config.shadowRulesStatPrefix}shadow_denied`),
    logged: filterCounter(env, 'rbac.logged'),
    notLogged: filterCounter(env, 'rbac.not_logged'),
  };
  return (next: Handler): Handler =>
    (req, ctx) => {
      const s = streamOf(ctx)!;
      const refused = refuseInvalidMethod(s, req, where);
      if (refused !== undefined) return Promise.resolve(refused);
      const request = requestContextOf(s, req);
      const decision = engine.checkRequest(request);
      if (config.shadowRules !== undefined) {
        const result = request.metadata.get(HTTP_RBAC_FILTER_NAME)?.[shadowResultKey];
        (result === 'allowed' ? count.shadowAllowed : count.shadowDenied).inc();
      }
      if (rules === undefined) return next(req, ctx);
      if (rules.action === 'LOG') (decision.policy !== undefined ? count.logged : count.notLogged).inc();
      if (decision.allowed) {
        count.allowed.inc();
        return next(req, ctx);
      }
      count.denied.inc();
      // The policy that decided goes to the access log (response_code_details), never to the caller:
      // policy and namespace names tell an attacker what to try next.
      return Promise.resolve(
        pipelineReply(s, {
          status: RBAC_DENIED_STATUS,
          reason: `${RBAC_DENIED_BODY} (${where})`,
          body: RBAC_DENIED_BODY,
          details: decision.details,
        }),
      );
    };
};
