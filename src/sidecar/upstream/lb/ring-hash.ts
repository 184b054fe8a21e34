// RING_HASH: Envoy's ketama ring of xxHash64("address:port_i") entries, sized by the lightest host.

import { TrellisError } from '../../../shared/errors.js';
import type { HashTable, WeightedHost } from './hash-table.js';
import type { Host } from './host.js';
import { xxHash64 } from './xxhash64.js';

export const DEFAULT_MIN_RING_SIZE = 1024;
export const DEFAULT_MAX_RING_SIZE = 8 * 1024 * 1024;

export interface RingHashOptions {
  minimumRingSize?: number;
  maximumRingSize?: number;
}

/** Entries are kept as parallel typed arrays so a lookup compares numbers and allocates nothing. */
export class RingHashTable implements HashTable {
  readonly size: number;
  readonly #hi: Uint32Array;
  readonly #lo: Uint32Array;
  readonly #hosts: Host[];

  constructor(weights: readonly WeightedHost[], opts: RingHashOptions = {}) {
    const min = opts.minimumRingSize ?? DEFAULT_MIN_RING_SIZE;
    const max = opts.maximumRingSize ?? DEFAULT_MAX_RING_SIZE;
    if (min > max) {
      throw new TrellisError(
        'LB_RING_SIZE',
        `ring hash minimum_ring_size ${min} is larger than maximum_ring_size ${max}`,
      );
    }
    const entries: { hash: bigint; host: Host }[] = [];
    if (weights.length > 0) {
      let minWeight = 1;
      for (const w of weights) minWeight = Math.min(minWeight, w.weight);
      // Scale so that the lightest host gets a whole number of entries, within the maximum.
      const scale = Math.min(Math.ceil(minWeight * min) / minWeight, max);
      let current = 0;
      let target = 0;
      for (const { host, weight } of weights) {
        target += scale * weight;
        for (let i = 0; current < target; i++, current++) {
          entries.push({ hash: xxHash64(`${host.key}_${i}`), host });
        }
      }
      entries.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    }
    this.size = entries.length;
    this.#hi = new Uint32Array(entries.length);
    this.#lo = new Uint32Array(entries.length);
    this.#hosts = new Array<Host>(entries.length);
    entries.forEach((e, i) => {
      this.#hi[i] = Number(e.hash >> 32n);
      this.#lo[i] = Number(e.hash & 0xffffffffn);
      this.#hosts[i] = e.host;
    });
  }

  chooseHost(hash: bigint, attempt: number): Host | undefined {
    const n = this.size;
    if (n === 0) return undefined;
    const hHi = Number(hash >> 32n);
    const hLo = Number(hash & 0xffffffffn);
    // First entry whose hash is >= the request's hash, wrapping to the start of the ring.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const mHi = this.#hi[mid]!;
      if (mHi < hHi || (mHi === hHi && this.#lo[mid]! < hLo)) lo = mid + 1;
      else hi = mid;
    }
    let index = lo === n ? 0 : lo;
    // A retry behaves as if the host were not on the ring: take the entries after it.
    if (attempt > 0) index = (index + attempt) % n;
    return this.#hosts[index];
  }

  /** Entries per host, for tests and stats (`min_hashes_per_host`, `max_hashes_per_host`). */
  entriesPerHost(): Map<string, number> {
    const out = new Map<string, number>();
    for (const h of this.#hosts) out.set(h.key, (out.get(h.key) ?? 0) + 1);
    return out;
  }
}
