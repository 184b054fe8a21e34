// An ordered, multi-valued header list with lower-case names: the one header type every codec and filter shares.

import { TrellisError } from '../../shared/errors.js';
import { isFieldValue, isToken } from './tokens.js';

export type HeaderInit = HeaderList | Iterable<readonly [string, string]> | Record<string, string | string[]>;

/**
 * Headers as a flat array `[name0, value0, name1, value1, ...]`: no per-header objects, insertion order kept,
 * repeated names kept as separate entries (two Set-Cookie stay two). Names are stored lower-case; lookups
 * accept any case. Values added through `add`/`set` are checked, so a filter can never inject CR/LF into a
 * serialised head; the codecs fill lists they have already validated through `appendTrusted`.
 */
export class HeaderList {
  #items: string[];

  constructor(init?: HeaderInit) {
    this.#items = [];
    if (init === undefined) return;
    if (init instanceof HeaderList) {
      this.#items = init.#items.slice();
      return;
    }
    if (Symbol.iterator in init) {
      for (const [name, value] of init as Iterable<readonly [string, string]>) this.add(name, value);
      return;
    }
    for (const [name, value] of Object.entries(init)) {
      if (Array.isArray(value)) for (const v of value) this.add(name, v);
      else this.add(name, value);
    }
  }

  /** Number of entries (a name that appears twice counts twice). */
  get size(): number {
    return this.#items.length >> 1;
  }

  nameAt(index: number): string {
    return this.#items[index << 1]!;
  }

  valueAt(index: number): string {
    return this.#items[(index << 1) + 1]!;
  }

  /** The first value of `name`, or undefined. Use `getAll` or `getJoined` for headers that may repeat. */
  get(name: string): string | undefined {
    const n = name.toLowerCase();
    const items = this.#items;
    for (let i = 0; i < items.length; i += 2) if (items[i] === n) return items[i + 1];
    return undefined;
  }

  /** Every value of `name`, in order. */
  getAll(name: string): string[] {
    const n = name.toLowerCase();
    const items = this.#items;
    const out: string[] = [];
    for (let i = 0; i < items.length; i += 2) if (items[i] === n) out.push(items[i + 1]!);
    return out;
  }

  /**
   * All values of `name` joined by `, ` (RFC 9110 §5.3), as policy checks must see them: reading only the first
   * of several values is how header-based authorization gets bypassed.
   */
  getJoined(name: string): string | undefined {
    const all = this.getAll(name);
    return all.length === 0 ? undefined : all.join(', ');
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replaces every value of `name` with one value (appended at the end if absent, else at the first position). */
  set(name: string, value: string): this {
    const n = checkName(name);
    checkValue(n, value);
    const items = this.#items;
    let kept = false;
    for (let i = 0; i < items.length; ) {
      if (items[i] !== n) {
        i += 2;
      } else if (!kept) {
        items[i + 1] = value;
        kept = true;
        i += 2;
      } else {
        items.splice(i, 2);
      }
    }
    if (!kept) items.push(n, value);
    return this;
  }

  /** Appends one more value for `name`. */
  add(name: string, value: string): this {
    const n = checkName(name);
    checkValue(n, value);
    this.#items.push(n, value);
    return this;
  }

  /** Removes every value of `name`; returns how many entries were removed. */
  remove(name: string): number {
    const n = name.toLowerCase();
    const items = this.#items;
    let removed = 0;
    let w = 0;
    for (let r = 0; r < items.length; r += 2) {
      if (items[r] === n) {
        removed++;
        continue;
      }
      if (w !== r) {
        items[w] = items[r]!;
        items[w + 1] = items[r + 1]!;
      }
      w += 2;
    }
    items.length = w;
    return removed;
  }

  /**
   * Codec fast path: appends an entry the caller has already validated and lower-cased. Not for filters:
   * nothing is checked here.
   */
  appendTrusted(lowerName: string, value: string): void {
    this.#items.push(lowerName, value);
  }

  forEach(fn: (value: string, name: string) => void): void {
    const items = this.#items;
    for (let i = 0; i < items.length; i += 2) fn(items[i + 1]!, items[i]!);
  }

  *[Symbol.iterator](): IterableIterator<[string, string]> {
    const items = this.#items;
    for (let i = 0; i < items.length; i += 2) yield [items[i]!, items[i + 1]!];
  }

  clone(): HeaderList {
    return new HeaderList(this);
  }

  /** `{name: value}` with repeated names as arrays, in the shape node:http2 and logs expect. */
  toRecord(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = Object.create(null);
    const items = this.#items;
    for (let i = 0; i < items.length; i += 2) {
      const name = items[i]!;
      const prev = out[name];
      if (prev === undefined) out[name] = items[i + 1]!;
      else if (Array.isArray(prev)) prev.push(items[i + 1]!);
      else out[name] = [prev, items[i + 1]!];
    }
    return out;
  }
}

function checkName(name: string): string {
  if (!isToken(name)) {
    throw new TrellisError(
      'HTTP_INVALID_HEADER',
      `invalid header name ${JSON.stringify(name)}: not an RFC 9110 token`,
    );
  }
  return name.toLowerCase();
}

function checkValue(name: string, value: string): void {
  if (typeof value !== 'string' || !isFieldValue(value)) {
    throw new TrellisError(
      'HTTP_INVALID_HEADER',
      `invalid value for header "${name}": ${JSON.stringify(value)} holds CR, LF, NUL or another control character`,
    );
  }
}
