// Trace and span ids from a pooled random buffer: one crypto fill per 512 ids instead of one per id.

import { randomFillSync } from 'node:crypto';

export interface IdGenerator {
  /** 32 lower-case hex characters, never all zero. */
  traceId(): string;
  /** 16 lower-case hex characters, never all zero. */
  spanId(): string;
}

const POOL_BYTES = 4096;

export class RandomIdGenerator implements IdGenerator {
  #pool = Buffer.allocUnsafe(POOL_BYTES);
  #offset = POOL_BYTES;

  #hex(bytes: number): string {
    if (this.#offset + bytes > POOL_BYTES) {
      randomFillSync(this.#pool);
      this.#offset = 0;
    }
    const s = this.#pool.toString('hex', this.#offset, this.#offset + bytes);
    this.#offset += bytes;
    return s;
  }

  traceId(): string {
    let id = this.#hex(16);
    while (id === '00000000000000000000000000000000') id = this.#hex(16);
    return id;
  }

  spanId(): string {
    let id = this.#hex(8);
    while (id === '0000000000000000') id = this.#hex(8);
    return id;
  }
}

/** Deterministic ids for tests: a counter rendered as hex. */
export class SequentialIdGenerator implements IdGenerator {
  #n = 0;

  traceId(): string {
    return (++this.#n).toString(16).padStart(32, '0');
  }

  spanId(): string {
    return (++this.#n).toString(16).padStart(16, '0');
  }
}
