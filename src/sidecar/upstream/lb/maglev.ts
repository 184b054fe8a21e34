// MAGLEV: Google's Maglev lookup table (Envoy's implementation), weighted, with a prime table size.

import { TrellisError } from '../../../shared/errors.js';
import { type HashTable, MASK64, type WeightedHost } from './hash-table.js';
import type { Host } from './host.js';
import { xxHash64 } from './xxhash64.js';

export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;

export class MaglevTable implements HashTable {
  readonly tableSize: number;
  readonly #table: Int32Array;
  readonly #hosts: Host[];
  readonly #bigSize: bigint;

  constructor(weights: readonly WeightedHost[], tableSize = DEFAULT_MAGLEV_TABLE_SIZE) {
    if (!isPrime(tableSize)) {
      throw new TrellisError('LB_MAGLEV_TABLE_SIZE', `maglev table_size ${tableSize} must be a prime number`);
    }
    this.tableSize = tableSize;
    this.#bigSize = BigInt(tableSize);
    // Sorted by key so that every proxy fills the table in the same order.
    const sorted = [...weights].sort((a, b) =>
      a.host.key < b.host.key ? -1 : a.host.key > b.host.key ? 1 : 0,
    );
    this.#hosts = sorted.map((w) => w.host);
    this.#table = new Int32Array(sorted.length === 0 ? 0 : tableSize).fill(-1);
    if (sorted.length === 0) return;

    const m = BigInt(tableSize);
    const position = sorted.map((w) => Number(xxHash64(w.host.key) % m));
    const skip = sorted.map((w) => Number(xxHash64(w.host.key, 1n) % (m - 1n)) + 1);
    const target = new Array<number>(sorted.length).fill(0);
    let maxWeight = 0;
    for (const w of sorted) maxWeight = Math.max(maxWeight, w.weight);

    let filled = 0;
    for (let iteration = 1; filled < tableSize; iteration++) {
      for (let i = 0; i < sorted.length && filled < tableSize; i++) {
        // A host of maximum weight takes a slot every round; one of a third of it, every third round.
        if (iteration * sorted[i]!.weight < target[i]!) continue;
        target[i]! += maxWeight;
        let c = position[i]!;
        while (this.#table[c] !== -1) c = (c + skip[i]!) % tableSize;
        this.#table[c] = i;
        position[i] = (c + skip[i]!) % tableSize;
        filled++;
      }
    }
  }

  chooseHost(hash: bigint, attempt: number): Host | undefined {
    if (this.#hosts.length === 0) return undefined;
    // Envoy flips most bits of the hash per retry so that retries spread over different hosts.
    const h = attempt > 0 ? hash ^ ((MASK64 - BigInt(attempt) + 1n) & MASK64) : hash;
    return this.#hosts[this.#table[Number(h % this.#bigSize)]!];
  }

  /** Slots per host, for tests and stats (`min_entries_per_host`, `max_entries_per_host`). */
  entriesPerHost(): Map<string, number> {
    const out = new Map<string, number>();
    for (const i of this.#table) {
      const key = this.#hosts[i]!.key;
      out.set(key, (out.get(key) ?? 0) + 1);
    }
    return out;
  }
}

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}
