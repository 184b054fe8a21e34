// RE2 regular expressions (Envoy's safe_regex, Istio's match `regex`) checked and translated to JavaScript RegExps.

import { TrellisError } from './errors.js';

// RE2 semantics, not JavaScript's: every construct is translated explicitly, and flags (i, m, s, U) are
// emulated in the emitted source rather than passed as RegExp flags, because RE2 lets flags change in
// the middle of a pattern and Node 20 has no scoped modifiers. The emitted RegExp always has the `u` flag
// (RE2 works on code points). Two differences remain: RE2 evaluates \B at UTF-8 byte positions, so a lone
// `\B` also matches inside a multi-byte character (JavaScript has no such position); and RE2 runs in linear
// time while a JavaScript RegExp backtracks, so deeply nested repetitions can be slow on long inputs.

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

type Range = [number, number];

const MAX_CP = 0x10ffff;
const MAX_REPEAT = 1000;
const MAX_DEPTH = 1000;

const PERL_CLASSES: Record<string, Range[]> = {
  d: [[0x30, 0x39]],
  s: [
    [0x09, 0x0a],
    [0x0c, 0x0d],
    [0x20, 0x20],
  ],
  w: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
};

const POSIX_CLASSES: Record<string, Range[]> = {
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  ascii: [[0x00, 0x7f]],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  cntrl: [
    [0x00, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  upper: [[0x41, 0x5a]],
  word: PERL_CLASSES.w!,
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
};

const SIMPLE_ESCAPES: Record<string, number> = { a: 0x07, f: 0x0c, t: 0x09, n: 0x0a, r: 0x0d, v: 0x0b };

class Re2SyntaxError extends Error {}

function normalizeRanges(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

function complement(ranges: Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of normalizeRanges(ranges)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return out;
}

/** The code points that RE2's case folding treats as equal to `cp` (simple folding). */
function foldOrbit(cp: number): number[] {
  const ch = String.fromCodePoint(cp);
  const set = new Set<number>([cp]);
  for (const v of [ch.toLowerCase(), ch.toUpperCase()]) {
    if ([...v].length === 1) set.add(v.codePointAt(0)!);
  }
  // Orbits with a third member that toLowerCase/toUpperCase do not reveal.
  for (const orbit of [
    [0x4b, 0x6b, 0x212a],
    [0x53, 0x73, 0x17f],
  ]) {
    if (orbit.some((x) => set.has(x))) for (const x of orbit) set.add(x);
  }
  return [...set];
}

function foldRanges(ranges: Range[]): Range[] {
  const out: Range[] = [...ranges];
  for (const [lo, hi] of ranges) {
    // ASCII letters by arithmetic; other small ranges point by point; huge ranges already hold their cases.
    const aLo = Math.max(lo, 0x61);
    const aHi = Math.min(hi, 0x7a);
    if (aLo <= aHi) out.push([aLo - 32, aHi - 32]);
    const bLo = Math.max(lo, 0x41);
    const bHi = Math.min(hi, 0x5a);
    if (bLo <= bHi) out.push([bLo + 32, bHi + 32]);
    if (hi - lo <= 2048) {
      for (let cp = lo; cp <= hi; cp++) {
        if (cp < 0x80 && !(cp === 0x4b || cp === 0x6b || cp === 0x53 || cp === 0x73)) continue;
        for (const f of foldOrbit(cp)) out.push([f, f]);
      }
    }
  }
  return normalizeRanges(out);
}

function hex(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

function classChar(cp: number): string {
  return (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a)
    ? String.fromCodePoint(cp)
    : hex(cp);
}

function literal(cp: number): string {
  const ch = String.fromCodePoint(cp);
  if ('^$\\.*+?()[]{}|/'.includes(ch)) return `\\${ch}`;
  if (cp >= 0x20 && cp < 0x7f) return ch;
  return hex(cp);
}

interface ClassSet {
  ranges: Range[];
  /** JavaScript class items that cannot be expressed as ranges (Unicode properties). */
  raw: string[];
}

function emitClass(set: ClassSet, negated: boolean, fold: boolean): string {
  const ranges = fold ? foldRanges(set.ranges) : normalizeRanges(set.ranges);
  const body = ranges.map(([lo, hi]) => (lo === hi ? classChar(lo) : `${classChar(lo)}-${classChar(hi)}`));
  // Case folding turns upper-, lower- and title-case letter classes into "cased letter", as RE2 does.
  const raw = fold ? set.raw.map((r) => r.replace(/^\\([pP])\{L[ult]\}$/, '\\$1{LC}')) : set.raw;
  return `[${negated ? '^' : ''}${body.join('')}${raw.join('')}]`;
}

interface Atom {
  js: string;
  /** Zero-width: JavaScript refuses to quantify these directly. */
  assertion: boolean;
}

class Translator {
  readonly #src: string[];
  #pos = 0;
  #names = new Set<string>();

  constructor(pattern: string) {
    this.#src = [...pattern];
  }

  translate(flags: Flags): string {
    const js = this.#alternation(flags, 0);
    if (this.#pos < this.#src.length)
      throw new Re2SyntaxError('unexpected ): the pattern closes a group it never opened');
    return js;
  }

  #peek(offset = 0): string | undefined {
    return this.#src[this.#pos + offset];
  }

  #rest(n: number): string {
    return this.#src.slice(this.#pos, this.#pos + n).join('');
  }

  #alternation(initial: Flags, depth: number): string {
    if (depth > MAX_DEPTH) throw new Re2SyntaxError('expression nests too deeply');
    const flags = { ...initial };
    const alternatives: string[] = [];
    let seq: string[] = [];
    let lastAtom: Atom | undefined;
    while (this.#pos < this.#src.length) {
      const c = this.#peek()!;
      if (c === ')') break;
      if (c === '|') {
        this.#pos++;
        alternatives.push(seq.join(''));
        seq = [];
        lastAtom = undefined;
        continue;
      }
      if (c === '(' && this.#peek(1) === '?' && this.#flagGroup(flags)) {
        lastAtom = undefined;
        continue;
      }
      const quantifier = this.#quantifier(flags);
      if (quantifier !== undefined) {
        if (!lastAtom)
          throw new Re2SyntaxError(`missing argument to repetition operator: ${quantifier.text}`);
        const base = lastAtom.assertion ? `(?:${lastAtom.js})` : lastAtom.js;
        seq[seq.length - 1] = base + quantifier.js;
        const again = this.#quantifier(flags);
        if (again !== undefined) {
          throw new Re2SyntaxError(`bad repetition operator: ${quantifier.text}${again.text}`);
        }
        lastAtom = undefined;
        continue;
      }
      const atoms = this.#atom(flags, depth);
      for (const a of atoms) seq.push(a.js);
      lastAtom = atoms[atoms.length - 1];
    }
    alternatives.push(seq.join(''));
    return alternatives.join('|');
  }

  /** `(?i)` and friends: changes the flags for the rest of the current group. */
  #flagGroup(flags: Flags): boolean {
    const m = /^\(\?([imsU]*)(?:-([imsU]*))?\)/.exec(this.#rest(40));
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return false;
    if (m[2] === '') throw new Re2SyntaxError(`missing flags after "-": ${m[0]}`);
    for (const f of m[1]!) flags[f as keyof Flags] = true;
    for (const f of m[2] ?? '') flags[f as keyof Flags] = false;
    this.#pos += m[0].length;
    return true;
  }

  #quantifier(flags: Flags): { js: string; text: string } | undefined {
    const c = this.#peek();
    let text: string;
    let js: string;
    if (c === '*' || c === '+' || c === '?') {
      text = c;
      js = c;
      this.#pos++;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.#rest(30));
      if (!m) return undefined; // RE2 reads a `{` that starts no repeat as a literal
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? undefined : Number(m[3]);
      if (min > MAX_REPEAT || (max !== undefined && (max > MAX_REPEAT || max < min))) {
        throw new Re2SyntaxError(`invalid repeat count: ${m[0]}`);
      }
      text = m[0];
      js = m[0];
      this.#pos += m[0].length;
    } else return undefined;
    let lazy = false;
    if (this.#peek() === '?') {
      lazy = true;
      text += '?';
      this.#pos++;
    }
    if (flags.U) lazy = !lazy;
    return { js: lazy ? `${js}?` : js, text };
  }

  #atom(flags: Flags, depth: number): Atom[] {
    const c = this.#peek()!;
    switch (c) {
      case '(':
        return [this.#group(flags, depth)];
      case '[':
        return [{ js: this.#charClass(flags), assertion: false }];
      case '.':
        this.#pos++;
        return [{ js: flags.s ? '[\\s\\S]' : '[^\\n]', assertion: false }];
      case '^':
        this.#pos++;
        return [{ js: flags.m ? '(?<![^\\n])' : '^', assertion: true }];
      case '$':
        this.#pos++;
        return [{ js: flags.m ? '(?![^\\n])' : '$', assertion: true }];
      case '\\':
        return this.#escape(flags);
      default:
        this.#pos++;
        return [this.#literalAtom(c.codePointAt(0)!, flags)];
    }
  }

  #literalAtom(cp: number, flags: Flags): Atom {
    if (flags.i) {
      const orbit = foldOrbit(cp);
      if (orbit.length > 1)
        return {
          js: emitClass({ ranges: orbit.map((x) => [x, x]), raw: [] }, false, false),
          assertion: false,
        };
    }
    return { js: literal(cp), assertion: false };
  }

  #group(flags: Flags, depth: number): Atom {
    const start = this.#pos;
    this.#pos++; // (
    let open = '(';
    if (this.#peek() === '?') {
      const head = this.#rest(4);
      const named = /^\?P?<([^>]*)>/.exec(this.#rest(200));
      if (head.startsWith('?:')) {
        this.#pos += 2;
        open = '(?:';
      } else if (named && !head.startsWith('?<=') && !head.startsWith('?<!')) {
        const name = named[1]!;
        if (!/^\w+$/.test(name)) throw new Re2SyntaxError(`invalid named capture group: (${named[0]}`);
        if (this.#names.has(name)) throw new Re2SyntaxError(`duplicate capture group name: ${name}`);
        this.#names.add(name);
        this.#pos += named[0].length;
        // A name JavaScript cannot use as an identifier stays a plain group: numbering is unchanged.
        open = /^[A-Za-z_]\w*$/.test(name) ? `(?<${name}>` : '(';
      } else {
        const scoped = /^\?([imsU]*)(?:-([imsU]*))?:/.exec(this.#rest(40));
        if (scoped && (scoped[1] !== '' || (scoped[2] ?? '') !== '')) {
          if (scoped[2] === '') throw new Re2SyntaxError(`missing flags after "-": (${scoped[0]}`);
          const inner = { ...flags };
          for (const f of scoped[1]!) inner[f as keyof Flags] = true;
          for (const f of scoped[2] ?? '') inner[f as keyof Flags] = false;
          this.#pos += scoped[0].length;
          const body = this.#alternation(inner, depth + 1);
          this.#close(start);
          return { js: `(?:${body})`, assertion: false };
        }
        const next = this.#src[start + 2] ?? '';
        const len = next === '<' || next === 'P' ? 4 : 3;
        const what = this.#src.slice(start, Math.min(this.#src.length, start + len)).join('');
        throw new Re2SyntaxError(
          `invalid or unsupported Perl syntax: \`${what}\` (RE2 has no lookarounds, backreferences or atomic groups)`,
        );
      }
    }
    const body = this.#alternation(flags, depth + 1);
    this.#close(start);
    return { js: `${open}${body})`, assertion: false };
  }

  #close(start: number): void {
    if (this.#peek() !== ')') {
      throw new Re2SyntaxError(`missing closing ): ${this.#src.slice(start).join('')}`);
    }
    this.#pos++;
  }

  /** Reads an escape that stands for one code point; undefined when it is not one. */
  #codePointEscape(): number | undefined {
    const c = this.#peek(1);
    if (c === undefined) throw new Re2SyntaxError('trailing backslash at end of expression');
    if (c in SIMPLE_ESCAPES) {
      this.#pos += 2;
      return SIMPLE_ESCAPES[c]!;
    }
    if (c === 'x') {
      const m = /^\\x(?:\{([0-9A-Fa-f]{1,6})\}|([0-9A-Fa-f]{2}))/.exec(this.#rest(12));
      if (!m) throw new Re2SyntaxError(`invalid escape sequence: ${this.#rest(4)}`);
      const cp = Number.parseInt(m[1] ?? m[2]!, 16);
      if (cp > MAX_CP) throw new Re2SyntaxError(`invalid escape sequence: ${m[0]}`);
      this.#pos += m[0].length;
      return cp;
    }
    if (c >= '0' && c <= '7') {
      // RE2: \0 starts an octal escape; \1-\7 only with a second octal digit (alone they would be backreferences).
      const m = /^\\([0-7]{1,3})/.exec(this.#rest(4))!;
      if (c !== '0' && m[1]!.length === 1) {
        throw new Re2SyntaxError(`invalid escape sequence: \\${c} (backreferences are not supported by RE2)`);
      }
      this.#pos += m[0].length;
      return Number.parseInt(m[1]!, 8);
    }
    if (c === '8' || c === '9') {
      throw new Re2SyntaxError(`invalid escape sequence: \\${c} (backreferences are not supported by RE2)`);
    }
    const cp = c.codePointAt(0)!;
    if (cp < 0x80 && !/[0-9A-Za-z_]/.test(c)) {
      this.#pos += 2;
      return cp;
    }
    return undefined;
  }

  /**
   * `\d`, `\pL`, `\p{Greek}`...: a class; undefined when the escape is not a class. Negated classes are
   * folded before they are negated, as RE2 does (so `(?i)\W` does not match the Kelvin sign, which folds to k).
   */
  #classEscape(fold: boolean): { set: ClassSet; negated: boolean } | undefined {
    const c = this.#peek(1);
    if (c === undefined) return undefined;
    const lower = c.toLowerCase();
    if (lower in PERL_CLASSES && (c === lower || c === c.toUpperCase())) {
      this.#pos += 2;
      const ranges = PERL_CLASSES[lower]!;
      return {
        set: { ranges: c === lower ? ranges : complement(fold ? foldRanges(ranges) : ranges), raw: [] },
        negated: false,
      };
    }
    if (c === 'p' || c === 'P') {
      const m = /^\\[pP](?:\{(\^?)([A-Za-z_]+)\}|([A-Za-z]))/.exec(this.#rest(40));
      if (!m) throw new Re2SyntaxError(`invalid character class range: ${this.#rest(4)}`);
      this.#pos += m[0].length;
      const name = m[2] ?? m[3]!;
      const negated = (c === 'P') !== (m[1] === '^');
      if (name === 'Any') {
        return { set: { ranges: negated ? [] : [[0, MAX_CP]], raw: [] }, negated: false };
      }
      const prop = /^[A-Z][a-z]?$/.test(name) ? name : `Script=${name}`;
      try {
        new RegExp(`\\p{${prop}}`, 'u');
      } catch {
        throw new Re2SyntaxError(`invalid character class range: ${m[0]} (unknown Unicode class ${name})`);
      }
      return { set: { ranges: [], raw: [`\\${negated ? 'P' : 'p'}{${prop}}`] }, negated: false };
    }
    return undefined;
  }

  #escape(flags: Flags): Atom[] {
    const c = this.#peek(1);
    switch (c) {
      case 'A':
        this.#pos += 2;
        return [{ js: '^', assertion: true }];
      case 'z':
        this.#pos += 2;
        return [{ js: '$', assertion: true }];
      case 'b':
      case 'B':
        this.#pos += 2;
        return [{ js: `\\${c}`, assertion: true }];
      case 'C':
        this.#pos += 2;
        return [{ js: '[\\s\\S]', assertion: false }];
      case 'Q': {
        this.#pos += 2;
        const atoms: Atom[] = [];
        while (this.#pos < this.#src.length && this.#rest(2) !== '\\E') {
          atoms.push(this.#literalAtom(this.#peek()!.codePointAt(0)!, flags));
          this.#pos++;
        }
        if (this.#rest(2) === '\\E') this.#pos += 2;
        return atoms.length ? atoms : [{ js: '(?:)', assertion: false }];
      }
    }
    const cls = this.#classEscape(flags.i);
    if (cls) return [{ js: emitClass(cls.set, cls.negated, flags.i), assertion: false }];
    const cp = this.#codePointEscape();
    if (cp === undefined) throw new Re2SyntaxError(`invalid escape sequence: \\${c}`);
    return [this.#literalAtom(cp, flags)];
  }

  #charClass(flags: Flags): string {
    const start = this.#pos;
    this.#pos++; // [
    let negated = false;
    if (this.#peek() === '^') {
      negated = true;
      this.#pos++;
    }
    const set: ClassSet = { ranges: [], raw: [] };
    let first = true;
    for (;;) {
      const c = this.#peek();
      if (c === undefined) throw new Re2SyntaxError(`missing closing ]: ${this.#src.slice(start).join('')}`);
      if (c === ']' && !first) break;
      first = false;
      if (c === '[' && this.#peek(1) === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(this.#rest(14));
        if (m) {
          const ranges = POSIX_CLASSES[m[2]!];
          if (!ranges) throw new Re2SyntaxError(`invalid character class range: ${m[0]}`);
          set.ranges.push(...(m[1] ? complement(flags.i ? foldRanges(ranges) : ranges) : ranges));
          this.#pos += m[0].length;
          continue;
        }
      }
      if (c === '\\') {
        const cls = this.#classEscape(flags.i);
        if (cls) {
          set.ranges.push(...cls.set.ranges);
          set.raw.push(...cls.set.raw);
          continue;
        }
      }
      const lo = this.#classMember();
      if (this.#peek() === '-' && this.#peek(1) !== ']' && this.#peek(1) !== undefined) {
        this.#pos++;
        const hi = this.#classMember();
        if (hi < lo) {
          throw new Re2SyntaxError(
            `invalid character class range: ${String.fromCodePoint(lo)}-${String.fromCodePoint(hi)}`,
          );
        }
        set.ranges.push([lo, hi]);
      } else set.ranges.push([lo, lo]);
    }
    this.#pos++; // ]
    return emitClass(set, negated, flags.i);
  }

  #classMember(): number {
    const c = this.#peek()!;
    if (c === '\\') {
      const cp = this.#codePointEscape();
      if (cp === undefined) throw new Re2SyntaxError(`invalid escape sequence: \\${this.#peek(1)}`);
      return cp;
    }
    this.#pos++;
    return c.codePointAt(0)!;
  }
}

export interface Re2Options {
  /** Match the whole input, as Envoy's safe_regex and Istio's `regex` matches do. */
  fullMatch?: boolean;
  /** As if the pattern began with `(?i)`. */
  ignoreCase?: boolean;
  /** Add JavaScript's `g` flag (for replacing every match, as regex_rewrite does). */
  global?: boolean;
}

function translate(pattern: string, opts: Re2Options): string {
  const body = new Translator(pattern).translate({
    i: opts.ignoreCase ?? false,
    m: false,
    s: false,
    U: false,
  });
  return opts.fullMatch ? `^(?:${body})$` : body;
}

/** Checks RE2 syntax: an error message, or undefined when RE2 would accept the pattern. */
export function checkRe2(pattern: string): string | undefined {
  try {
    new RegExp(translate(pattern, {}), 'u');
    return undefined;
  } catch (e) {
    return e instanceof Re2SyntaxError ? e.message : `unsupported pattern: ${(e as Error).message}`;
  }
}

/** Translates an RE2 pattern to an equivalent JavaScript RegExp; throws TrellisError(InvalidRegex) when invalid. */
export function compileRe2(pattern: string, opts: Re2Options = {}): RegExp {
  try {
    return new RegExp(translate(pattern, opts), opts.global ? 'gu' : 'u');
  } catch (e) {
    throw new TrellisError(
      'InvalidRegex',
      `invalid RE2 regex ${JSON.stringify(pattern)}: ${(e as Error).message}`,
      {
        pattern,
      },
    );
  }
}
