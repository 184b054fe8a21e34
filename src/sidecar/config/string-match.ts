// Envoy's StringMatcher as a compiled predicate (exact, prefix, suffix, contains, safe_regex with full-match).

import { compileRe2 } from '../../shared/re2.js';
import { asciiLower, endsWithIgnoreCase, equalsIgnoreCase, startsWithIgnoreCase } from './ascii.js';
import type { StringMatch } from './model.js';

export interface RegexOptions {
  /** Match the whole input (Envoy's safe_regex matchers); false for search and rewrite. */
  fullMatch?: boolean;
  ignoreCase?: boolean;
  /** Every match (regex_rewrite replaces all of them, as RE2::GlobalReplace does). */
  global?: boolean;
}

/**
 * Turns an RE2 pattern into a RegExp; throws on an invalid pattern. The shape is that of `compileRe2` in
 * src/shared/re2.ts, so the RE2 translator can be passed wherever a RegexCompiler is taken.
 */
export type RegexCompiler = (pattern: string, opts?: RegexOptions) => RegExp;

/** JavaScript's own syntax, which agrees with RE2 on the patterns Istio and Envoy configs commonly use. */
export const jsRegexCompiler: RegexCompiler = (pattern, opts = {}) =>
  new RegExp(
    opts.fullMatch ? `^(?:${pattern})$` : pattern,
    `${opts.ignoreCase ? 'i' : ''}${opts.global ? 'g' : ''}`,
  );

/** RE2 syntax translated to JavaScript (src/shared/re2.ts): what the sidecar runs config regexes with. */
export const re2Compiler: RegexCompiler = (pattern, opts = {}) => compileRe2(pattern, opts);

/** A compiler that always anchors: Envoy's safe_regex semantics whatever the caller asks. */
export const fullMatchRegex: RegexCompiler = (pattern, opts = {}) =>
  re2Compiler(pattern, { ...opts, fullMatch: true });

export function stringMatch(
  kind: StringMatch['kind'],
  value: string,
  ignoreCase = false,
  compileRegex: RegexCompiler = fullMatchRegex,
): StringMatch {
  // Envoy folds ASCII letters only (absl), and its safe_regex ignores ignore_case.
  const v = ignoreCase && kind !== 'regex' ? asciiLower(value) : value;
  let test: (s: string) => boolean;
  switch (kind) {
    case 'exact':
      test = ignoreCase ? (s) => equalsIgnoreCase(s, v) : (s) => s === v;
      break;
    case 'prefix':
      test = ignoreCase ? (s) => startsWithIgnoreCase(s, v) : (s) => s.startsWith(v);
      break;
    case 'suffix':
      test = ignoreCase ? (s) => endsWithIgnoreCase(s, v) : (s) => s.endsWith(v);
      break;
    case 'contains':
      test = ignoreCase ? (s) => asciiLower(s).includes(v) : (s) => s.includes(v);
      break;
    case 'regex': {
      const re = compileRegex(value, { fullMatch: true });
      test = (s) => re.test(s);
      break;
    }
  }
  return { kind, value, ignoreCase: kind === 'regex' ? false : ignoreCase, test };
}
