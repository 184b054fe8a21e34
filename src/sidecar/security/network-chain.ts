// The network RBAC filters of a filter chain: a TCP connection passes only if every filter allows it.

import type { NetworkRbacConfig } from '../config/model.js';
import type { ConnectionContext } from './context.js';
import { type RbacDecision, RbacFilter } from './rbac-filter.js';

export type ConnectionVerdict =
  | { allowed: true }
  | {
      allowed: false;
      /** The network filter (`stat_prefix`) that denied. */
      statPrefix: string;
      decision: RbacDecision;
    };

const ALLOWED: ConnectionVerdict = Object.freeze({ allowed: true });

/** Compiled once per filter chain; a denial means: close the connection without forwarding a byte. */
export class NetworkRbacChain {
  readonly #filters: readonly { statPrefix: string; filter: RbacFilter }[];

  constructor(configs: readonly NetworkRbacConfig[], where = 'filter chain') {
    this.#filters = configs.map((c, i) => ({
      statPrefix: c.statPrefix,
      filter: new RbacFilter(c, {
        kind: 'network',
        where: `${where} network RBAC filter ${i} ("${c.statPrefix}")`,
      }),
    }));
  }

  get filters(): readonly RbacFilter[] {
    return this.#filters.map((f) => f.filter);
  }

  checkConnection(ctx: ConnectionContext): ConnectionVerdict {
    for (const { statPrefix, filter } of this.#filters) {
      const decision = filter.checkConnection(ctx);
      if (!decision.allowed) return { allowed: false, statPrefix, decision };
    }
    return ALLOWED;
  }
}
