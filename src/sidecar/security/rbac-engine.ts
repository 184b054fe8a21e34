// One RBAC rule set (ALLOW, DENY or LOG) compiled into an engine that names the policy that decided.

import type { RbacRules } from '../config/model.js';
import type { AnyContext } from './context.js';
import type { ContextPredicate } from './header-match.js';
import type { Polarity } from './polarity.js';
import { compilePolicy } from './rbac-compile.js';

export type RbacAction = RbacRules['action'];

/** The outcome of one engine: whether its action lets the request pass, and the policy that matched. */
export interface RbacEngineResult {
  readonly allowed: boolean;
  /** The first matching policy in Envoy's order (policy names sorted), or undefined when none matched. */
  readonly policy: string | undefined;
}

/** A match pushes towards refusal for DENY and LOG (audit whatever could match), towards acceptance for ALLOW. */
function polarityOf(action: RbacAction): Polarity {
  return action === 'ALLOW' ? 'allow' : 'deny';
}

/**
 * Envoy's `RoleBasedAccessControlEngineImpl`: policies ORed, evaluated in the order of their names (Envoy keeps
 * them in a sorted map, which decides which policy id is reported when several match). ALLOW passes only on a
 * match, DENY only without one, LOG always passes. Results are preallocated: evaluation allocates nothing.
 */
export class RbacEngine {
  readonly action: RbacAction;
  readonly #names: readonly string[];
  readonly #predicates: readonly ContextPredicate[];
  readonly #onMatch: readonly RbacEngineResult[];
  readonly #noMatch: RbacEngineResult;

  /** `where` names the filter in config errors (`HTTP RBAC filter on listener "virtualInbound"`). */
  constructor(rules: RbacRules, where = 'RBAC') {
    this.action = rules.action;
    const polarity = polarityOf(rules.action);
    const sorted = [...rules.policies].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.#names = sorted.map((p) => p.name);
    this.#predicates = sorted.map((p) => compilePolicy(p, { where, polarity }));
    const allowedOnMatch = rules.action !== 'DENY';
    this.#onMatch = this.#names.map((policy) => Object.freeze({ allowed: allowedOnMatch, policy }));
    this.#noMatch = Object.freeze({ allowed: rules.action !== 'ALLOW', policy: undefined });
  }

  get policyNames(): readonly string[] {
    return this.#names;
  }

  evaluate(ctx: AnyContext): RbacEngineResult {
    const predicates = this.#predicates;
    for (let i = 0; i < predicates.length; i++) {
      if (predicates[i]!(ctx)) return this.#onMatch[i]!;
    }
    return this.#noMatch;
  }
}
