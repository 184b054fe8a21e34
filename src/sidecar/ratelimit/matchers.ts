// Envoy's header and query parameter matchers, compiled once from route config for descriptor actions.

import { TrellisError } from '../../shared/errors.js';
import type {
  HeaderMatcher,
  QueryParameterMatcher,
} from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { StringMatcher } from '../../xds/gen/envoy/type/matcher/v3/string_pb.js';

export type ValueTest = (value: string) => boolean;

/** Reads one request header (lower-case name, `:path` etc. included); repeated values joined by ','. */
export type HeaderLookup = (name: string) => string | undefined;

export type HeaderMatch = (header: HeaderLookup) => boolean;

/** RE2 patterns as Envoy uses them: the whole value must match. */
export function compileRegex(pattern: string, where: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (e) {
    throw new TrellisError(
      'RATELIMIT_CONFIG',
      `${where}: invalid regex "${pattern}": ${(e as Error).message}`,
    );
  }
}

export function compileStringMatcher(m: StringMatcher | undefined, where: string): ValueTest {
  const spec = m?.matchPattern;
  const ignoreCase = m?.ignoreCase ?? false;
  const norm = (s: string) => (ignoreCase ? s.toLowerCase() : s);
  switch (spec?.case) {
    case 'exact': {
      const want = norm(spec.value);
      return (v) => norm(v) === want;
    }
    case 'prefix': {
      const want = norm(spec.value);
      return (v) => norm(v).startsWith(want);
    }
    case 'suffix': {
      const want = norm(spec.value);
      return (v) => norm(v).endsWith(want);
    }
    case 'contains': {
      const want = norm(spec.value);
      return (v) => norm(v).includes(want);
    }
    case 'safeRegex': {
      const re = compileRegex(spec.value.regex, where);
      return (v) => re.test(v);
    }
    default:
      throw new TrellisError('RATELIMIT_CONFIG', `${where}: string matcher has no supported pattern`);
  }
}

/** Envoy's `HeaderUtility::matchHeaders` for one matcher, including its missing-header rules. */
export function compileHeaderMatcher(m: HeaderMatcher, where: string): HeaderMatch {
  const name = m.name.toLowerCase();
  const spec = m.headerMatchSpecifier;
  const invert = m.invertMatch;
  let isPresentMatch = false;
  let present = true;
  let test: ValueTest;
  switch (spec.case) {
    case 'exactMatch': {
      const want = spec.value;
      test = (v) => want === '' || v === want;
      break;
    }
    case 'safeRegexMatch': {
      const re = compileRegex(spec.value.regex, `${where} header "${name}"`);
      test = (v) => re.test(v);
      break;
    }
    case 'rangeMatch': {
      const { start, end } = spec.value;
      test = (v) => /^-?\d+$/.test(v) && BigInt(v) >= start && BigInt(v) < end;
      break;
    }
    case 'prefixMatch': {
      const want = spec.value;
      test = (v) => v.startsWith(want);
      break;
    }
    case 'suffixMatch': {
      const want = spec.value;
      test = (v) => v.endsWith(want);
      break;
    }
    case 'containsMatch': {
      const want = spec.value;
      test = (v) => v.includes(want);
      break;
    }
    case 'stringMatch':
      test = compileStringMatcher(spec.value, `${where} header "${name}"`);
      break;
    case 'presentMatch':
      isPresentMatch = true;
      present = spec.value;
      test = () => present;
      break;
    default:
      // No specifier: the header only has to be present.
      isPresentMatch = true;
      test = () => true;
  }
  const missingAsEmpty = m.treatMissingHeaderAsEmpty;
  return (header) => {
    const value = header(name);
    if (value === undefined && !missingAsEmpty) {
      return invert ? isPresentMatch && present : isPresentMatch && !present;
    }
    return test(value ?? '') !== invert;
  };
}

/** All matchers must match (Envoy ANDs the headers of one action). */
export function compileHeaderMatchers(list: readonly HeaderMatcher[], where: string): HeaderMatch {
  const compiled = list.map((m, i) => compileHeaderMatcher(m, `${where}.headers[${i}]`));
  return (header) => compiled.every((c) => c(header));
}

/** Envoy's query parameter matcher: present_match, or a string match on the first value. */
export function compileQueryMatchers(
  list: readonly QueryParameterMatcher[],
  where: string,
): (query: URLSearchParams) => boolean {
  const compiled = list.map((m, i) => {
    const spec = m.queryParameterMatchSpecifier;
    const at = `${where}.query_parameters[${i}]`;
    if (spec.case === 'stringMatch') {
      const test = compileStringMatcher(spec.value, at);
      return (q: URLSearchParams) => {
        const v = q.get(m.name);
        return v !== null && test(v);
      };
    }
    if (spec.case === 'presentMatch') {
      const want = spec.value;
      return (q: URLSearchParams) => q.has(m.name) === want;
    }
    return (q: URLSearchParams) => q.has(m.name);
  });
  return (q) => compiled.every((c) => c(q));
}
