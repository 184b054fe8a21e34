// What the hash balancers share: a table built from normalized host weights, looked up by hash.

import type { Host } from './host.js';

export interface WeightedHost {
  host: Host;
  /** Normalized so that all of a priority's weights sum to 1. */
  weight: number;
}

export interface HashTable {
  /** `attempt` > 0 walks away from the first choice, for the retry host predicate. */
  chooseHost(hash: bigint, attempt: number): Host | undefined;
}

export const MASK64 = 0xffffffffffffffffn;
