// Envoy's header matcher for authorization, over every value of a repeated header and the pseudo-headers.

import type { HeaderMatcher } from '../config/model.js';
import type { AnyContext } from './context.js';
import { flip, type Polarity } from './polarity.js';

export type ContextPredicate = (ctx: AnyContext) => boolean;

/** Every value of a header, pseudo-headers and `host` (an alias of `:authority`) included; undefined when absent. */
type ValuesOf = (ctx: AnyContext) => readonly string[] | undefined | null;

const one: string[] = [''];

/** Single-valued request attributes, reused through one slot: evaluation is synchronous. */
function pseudo(read: (ctx: AnyContext) => string | undefined): ValuesOf {
  return (ctx) => {
    const v = read(ctx);
    if (v === undefined) return null;
    one[0] = v;
    return one;
  };
}

/** `null` means the attribute does not exist on this context (a TCP connection), `undefined` an absent header. */
function valuesOf(name: string): ValuesOf {
  switch (name) {
    case ':method':
      return pseudo((c) => c.method);
    case ':path':
      return pseudo((c) => c.path);
    case ':authority':
    case 'host':
      // HTTP/1.1's Host is HTTP/2's :authority: a policy naming either must see the same value.
      return pseudo((c) => c.authority);
    case ':scheme':
      return (ctx) => (ctx.headers ? (ctx.headers.values(':scheme') ?? undefined) : null);
    default:
      return (ctx) => (ctx.headers ? ctx.headers.values(name) : null);
  }
}

function valueTest(m: HeaderMatcher): (value: string) => boolean {
  switch (m.kind) {
    case 'string': {
      const match = m.match;
      return match ? (v) => match.test(v) : () => true;
    }
    case 'range': {
      const start = m.range?.start ?? 0;
      const end = m.range?.end ?? 0;
      return (v) => {
        // absl::SimpleAtoi: optional sign, decimal digits, nothing else.
        if (!/^[+-]?\d+$/.test(v)) return false;
        const n = Number(v);
        return n >= start && n < end;
      };
    }
    case 'present':
      return () => m.present !== false;
  }
}

/**
 * Compiles one matcher. Missing headers follow Envoy (`HeaderUtility::matchHeaders`); a present header is read
 * as its joined value and as each value, combined by `polarity` (see polarity.ts), so that a second value of
 * `x-token` cannot slip past a DENY and a second value cannot sneak into an ALLOW.
 */
export function compileHeaderMatcher(m: HeaderMatcher, polarity: Polarity): ContextPredicate {
  const name = m.name.toLowerCase();
  const read = valuesOf(name);
  const test = valueTest(m);
  const presentMatch = m.kind === 'present';
  const invert = m.invert;
  // `invert_match` is a negation: inside it, the readings combine the other way round.
  const inner = invert ? flip(polarity) : polarity;
  const missing = invert ? !presentMatch : presentMatch && m.present === false;
  return (ctx) => {
    const values = read(ctx);
    if (values === null) return polarity === 'deny';
    if (values === undefined || values.length === 0) {
      if (!m.treatMissingAsEmpty) return missing;
      return test('') !== invert;
    }
    if (values.length === 1) return test(values[0]!) !== invert;
    const joined = test(values.join(','));
    let result: boolean;
    if (inner === 'deny') {
      result = joined;
      for (let i = 0; !result && i < values.length; i++) result = test(values[i]!);
    } else {
      result = joined;
      for (let i = 0; result && i < values.length; i++) result = test(values[i]!);
    }
    return result !== invert;
  };
}
