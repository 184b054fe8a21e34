// Envoy's StringMatcher as a compiled predicate (exact, prefix, suffix, contains, safe_regex with full-match).

import { compileRe2 } from '../../shared/re2.js';
import type { StringMatch } from './model.js';

/** Compiles a regex with Envoy's safe_regex semantics: the whole string must match. */
export type RegexCompiler = (pattern: string, flags?: string) => RegExp;

/** RE2 syntax translated to JavaScript (src/shared/re2.ts), anchored so the whole string must match. */
export const fullMatchRegex: RegexCompiler = (pattern, flags) =>
  compileRe2(pattern, { fullMatch: true, ignoreCase: flags?.includes('i') ?? false });

export function stringMatch(
  kind: StringMatch['kind'],
  value: string,
  ignoreCase = false,
  compileRegex: RegexCompiler = fullMatchRegex,
): StringMatch {
  const v = ignoreCase && kind !== 'regex' ? value.toLowerCase() : value;
  let test: (s: string) => boolean;
  switch (kind) {
    case 'exact':
      test = ignoreCase ? (s) => s.toLowerCase() === v : (s) => s === v;
      break;
    case 'prefix':
      test = ignoreCase ? (s) => s.toLowerCase().startsWith(v) : (s) => s.startsWith(v);
      break;
    case 'suffix':
      test = ignoreCase ? (s) => s.toLowerCase().endsWith(v) : (s) => s.endsWith(v);
      break;
    case 'contains':
      test = ignoreCase ? (s) => s.toLowerCase().includes(v) : (s) => s.includes(v);
      break;
    case 'regex': {
      const re = compileRegex(value, ignoreCase ? 'i' : undefined);
      test = (s) => re.test(s);
      break;
    }
  }
  return { kind, value, ignoreCase, test };
}
