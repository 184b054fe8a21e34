// What the jwt_authn, RBAC and ext_authz filters share: their config check, counters, and Istio's method rule.

import { TrellisError } from '../../../../shared/errors.js';
import type { Stat } from '../../../../telemetry/stats/stat.js';
import type { HttpFilterConfig } from '../../../config/model.js';
import { isValidMethod } from '../../../security/path-normalize.js';
import type { ProxyRequest, ProxyResponse } from '../../message.js';
import type { FilterEnv } from '../filters/types.js';
import { pipelineReply } from '../local-reply.js';
import type { PipelineStream } from '../stream.js';

type Kind = 'jwt' | 'rbac' | 'extAuthz';

/** The config narrowed to the kind a factory builds; the chain only hands a factory its own kind. */
export function configOfKind<K extends Kind>(
  config: HttpFilterConfig,
  kind: K,
): Extract<HttpFilterConfig, { kind: K }> {
  if (config.kind !== kind) {
    throw new TrellisError(
      'SECURITY_FILTER_KIND',
      `filter "${config.name}" is ${config.kind}, but was given to the ${kind} filter factory`,
    );
  }
  return config as Extract<HttpFilterConfig, { kind: K }>;
}

/**
 * Envoy's counters of an HTTP filter live in the connection manager's scope, `http.<stat_prefix>.<filter>.*`
 * (`http.inbound_0.0.0.0_9080.rbac.denied`); every filter of that kind on the HCM adds to the same ones.
 */
export function filterCounter(env: FilterEnv, name: string): Stat {
  return env.deps.telemetry.stats
    .scope('http', env.hcm.statPrefix, 'envoy_http_conn_manager_prefix')
    .counter(name);
}

/**
 * Istio refuses a method that is not an upper-case token with 400, so `delete` cannot slip past a policy on
 * `DELETE` to an application that reads methods case-insensitively. HTTP/1.1 never gets here with one (the
 * codec knows its methods); HTTP/2 may.
 */
export function refuseInvalidMethod(
  s: PipelineStream,
  req: ProxyRequest,
  where: string,
): ProxyResponse | undefined {
  if (isValidMethod(req.method)) return undefined;
  return pipelineReply(s, {
    status: 400,
    reason: `${where} refuses method ${JSON.stringify(req.method.slice(0, 32))}: not an upper-case token`,
    details: 'invalid_method',
  });
}

/** Envoy's names for the filter kinds, as operators know them from config dumps and stats. */
const ENVOY_NAME: Readonly<Record<Kind, string>> = { jwt: 'jwt_authn', rbac: 'rbac', extAuthz: 'ext_authz' };

/** Names a filter in replies and logs: `rbac filter "envoy.filters.http.rbac" on HCM "inbound_0.0.0.0_9080"`. */
export function filterLabel(config: Extract<HttpFilterConfig, { kind: Kind }>, env: FilterEnv): string {
  return `${ENVOY_NAME[config.kind]} filter "${config.name}" on HCM "${env.hcm.statPrefix}"`;
}
