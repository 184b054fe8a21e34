// Envoy's RBAC filter (HTTP and network): enforced rules decide, shadow rules only publish what they would do.

import type { RbacRules } from '../config/model.js';
import type { AnyContext, ConnectionContext, MetadataStruct, RequestContext } from './context.js';
import { RbacEngine } from './rbac-engine.js';

export const HTTP_RBAC_FILTER_NAME = 'envoy.filters.http.rbac';
export const NETWORK_RBAC_FILTER_NAME = 'envoy.filters.network.rbac';
/** Envoy's shared metadata namespace, where a LOG engine says whether the access log should record the request. */
export const COMMON_METADATA_NAMESPACE = 'envoy.common';
export const ACCESS_LOG_HINT = 'access_log_hint';

/** What Envoy answers when an HTTP RBAC filter denies. */
export const RBAC_DENIED_STATUS = 403;
export const RBAC_DENIED_BODY = 'RBAC: access denied';

export interface RbacFilterConfig {
  rules?: RbacRules;
  shadowRules?: RbacRules;
  /** Prefixes the shadow metadata keys (Istio's CUSTOM action uses `istio_ext_authz_`). */
  shadowRulesStatPrefix?: string;
}

export interface RbacFilterOptions {
  /** Which filter it is: decides the metadata namespace. */
  kind: 'http' | 'network';
  /** Names the filter in config errors. */
  where?: string;
}

/** The enforced decision. Preallocated per policy: a check allocates nothing. */
export interface RbacDecision {
  readonly allowed: boolean;
  /** The policy that decided (the matching DENY policy, the matching ALLOW policy); undefined for ALLOW's default deny. */
  readonly policy: string | undefined;
  /** Envoy's response code details: `rbac_access_denied_matched_policy[<policy>|none]` when denied. */
  readonly details: string;
}

/** Envoy's `<prefix>.rbac.*` counters for this filter. */
export interface RbacFilterStats {
  allowed: number;
  denied: number;
  shadow_allowed: number;
  shadow_denied: number;
  logged: number;
  not_logged: number;
}

const ALLOWED_NO_ENGINE: RbacDecision = Object.freeze({ allowed: true, policy: undefined, details: '' });
const LOG_YES: MetadataStruct = Object.freeze({ [ACCESS_LOG_HINT]: true });
const LOG_NO: MetadataStruct = Object.freeze({ [ACCESS_LOG_HINT]: false });

function decisionFor(allowed: boolean, policy: string | undefined): RbacDecision {
  return Object.freeze({
    allowed,
    policy,
    details: allowed ? '' : `rbac_access_denied_matched_policy[${policy ?? 'none'}]`,
  });
}

/** Writes one filter's metadata, merging with what an earlier filter of the same name wrote. */
function publish(ctx: AnyContext, filter: string, fields: MetadataStruct): void {
  const existing = ctx.metadata.get(filter);
  ctx.metadata.set(filter, existing ? { ...existing, ...fields } : fields);
}

/**
 * One RBAC filter instance, compiled once per config. `check` evaluates the shadow engine first (publishing
 * `<prefix>shadow_effective_policy_id` and `<prefix>shadow_engine_result` under the filter's metadata name),
 * then the enforced engine; a LOG engine publishes `envoy.common.access_log_hint` and always allows.
 */
export class RbacFilter {
  readonly stats: RbacFilterStats = {
    allowed: 0,
    denied: 0,
    shadow_allowed: 0,
    shadow_denied: 0,
    logged: 0,
    not_logged: 0,
  };
  readonly #metadataName: string;
  readonly #engine: RbacEngine | undefined;
  readonly #shadow: RbacEngine | undefined;
  readonly #decisions = new Map<string | undefined, RbacDecision>();
  readonly #shadowMetadata = new Map<string | undefined, MetadataStruct>();

  constructor(config: RbacFilterConfig, opts: RbacFilterOptions) {
    this.#metadataName = opts.kind === 'http' ? HTTP_RBAC_FILTER_NAME : NETWORK_RBAC_FILTER_NAME;
    const where = opts.where ?? `${opts.kind === 'http' ? 'HTTP' : 'network'} RBAC filter`;
    this.#engine = config.rules ? new RbacEngine(config.rules, where) : undefined;
    this.#shadow = config.shadowRules
      ? new RbacEngine(config.shadowRules, `${where} shadow rules`)
      : undefined;
    const engine = this.#engine;
    if (engine) {
      for (const name of [...engine.policyNames, undefined]) {
        const matched = name !== undefined;
        const allowed = engine.action === 'LOG' || (engine.action === 'ALLOW' ? matched : !matched);
        this.#decisions.set(name, decisionFor(allowed, name));
      }
    }
    const shadow = this.#shadow;
    if (shadow) {
      const prefix = config.shadowRulesStatPrefix ?? '';
      for (const name of [...shadow.policyNames, undefined]) {
        const matched = name !== undefined;
        const allowed = shadow.action !== 'DENY' ? shadow.action === 'LOG' || matched : !matched;
        const fields: Record<string, string> = {};
        if (name !== undefined) fields[`${prefix}shadow_effective_policy_id`] = name;
        fields[`${prefix}shadow_engine_result`] = allowed ? 'allowed' : 'denied';
        this.#shadowMetadata.set(name, Object.freeze(fields));
      }
    }
  }

  /** HTTP: a denial becomes 403 `RBAC: access denied`. */
  checkRequest(ctx: RequestContext): RbacDecision {
    return this.#check(ctx);
  }

  /** Network: a denial closes the connection. */
  checkConnection(ctx: ConnectionContext): RbacDecision {
    return this.#check(ctx);
  }

  #check(ctx: AnyContext): RbacDecision {
    const shadow = this.#shadow;
    if (shadow) {
      const result = shadow.evaluate(ctx);
      if (result.allowed) this.stats.shadow_allowed++;
      else this.stats.shadow_denied++;
      publish(ctx, this.#metadataName, this.#shadowMetadata.get(result.policy)!);
    }
    const engine = this.#engine;
    if (!engine) return ALLOWED_NO_ENGINE;
    const result = engine.evaluate(ctx);
    if (engine.action === 'LOG') {
      const matched = result.policy !== undefined;
      if (matched) this.stats.logged++;
      else this.stats.not_logged++;
      // A true hint from an earlier filter is never overwritten by false (Envoy's shared-metadata rule).
      if (matched || ctx.metadata.get(COMMON_METADATA_NAMESPACE)?.[ACCESS_LOG_HINT] !== true) {
        publish(ctx, COMMON_METADATA_NAMESPACE, matched ? LOG_YES : LOG_NO);
      }
    }
    const decision = this.#decisions.get(result.policy)!;
    if (decision.allowed) this.stats.allowed++;
    else this.stats.denied++;
    return decision;
  }
}
