// Envoy's matchers (string, regex, header, query parameter, metadata) decoded and compiled once.

import type {
  HeaderMatcher as HeaderMatcherProto,
  QueryParameterMatcher as QueryParameterMatcherProto,
} from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { MetadataMatcher as MetadataMatcherProto } from '../../../xds/gen/envoy/type/matcher/v3/metadata_pb.js';
import type { RegexMatcher } from '../../../xds/gen/envoy/type/matcher/v3/regex_pb.js';
import type { StringMatcher } from '../../../xds/gen/envoy/type/matcher/v3/string_pb.js';
import { asciiLower } from '../ascii.js';
import type {
  HeaderLookup,
  HeaderMatcher,
  MetadataMatcher,
  QueryParameterMatcher,
  StringMatch,
} from '../model.js';
import { stringMatch } from '../string-match.js';
import { at, type DecodeContext } from './problems.js';
import { snake } from './typed.js';

/** Compiles an RE2 pattern; reports it and returns undefined when the compiler refuses it. */
export function regex(
  ctx: DecodeContext,
  pattern: string,
  path: string,
  opts: { fullMatch?: boolean; global?: boolean } = { fullMatch: true },
): RegExp | undefined {
  try {
    return ctx.compileRegex(pattern, opts);
  } catch (e) {
    ctx.report(path, `invalid regex ${JSON.stringify(pattern)}: ${(e as Error).message}`);
    return undefined;
  }
}

export function regexMatcher(
  ctx: DecodeContext,
  m: RegexMatcher | undefined,
  path: string,
): StringMatch | undefined {
  if (!m) {
    ctx.report(path, 'a regex is required');
    return undefined;
  }
  if (!regex(ctx, m.regex, at(path, 'regex'))) return undefined;
  return stringMatch('regex', m.regex, false, ctx.compileRegex);
}

export function stringMatcher(
  ctx: DecodeContext,
  m: StringMatcher | undefined,
  path: string,
): StringMatch | undefined {
  const p = m?.matchPattern;
  switch (p?.case) {
    case 'exact':
    case 'prefix':
    case 'suffix':
    case 'contains':
      if (p.case !== 'exact' && p.value === '') {
        ctx.report(at(path, p.case), `${p.case} must not be empty`);
        return undefined;
      }
      return stringMatch(p.case, p.value, m?.ignoreCase ?? false);
    case 'safeRegex':
      return regexMatcher(ctx, p.value, at(path, 'safe_regex'));
    case 'custom':
      ctx.report(at(path, 'custom'), 'custom string matchers are not supported by the Trellis sidecar');
      return undefined;
    default:
      ctx.report(path, 'a string matcher needs one of exact, prefix, suffix, contains or safe_regex');
      return undefined;
  }
}

/** Envoy's absl::SimpleAtoi: optional whitespace and sign around decimal digits. */
const INTEGER = /^\s*[+-]?\d+\s*$/;

/** Envoy's HeaderUtility::matchHeaders for one route HeaderMatcher, missing-header rules included. */
export function headerMatcher(
  ctx: DecodeContext,
  m: HeaderMatcherProto,
  path: string,
): HeaderMatcher | undefined {
  const name = asciiLower(m.name);
  if (!name) ctx.report(at(path, 'name'), 'header name must not be empty');
  const spec = m.headerMatchSpecifier;
  let kind: HeaderMatcher['kind'] = 'string';
  let match: StringMatch | undefined;
  let range: { start: number; end: number } | undefined;
  let present = true;
  let test: (v: string) => boolean;
  switch (spec.case) {
    case 'exactMatch': {
      // Deprecated form: an empty value matches any value of a present header.
      const want = spec.value;
      match = stringMatch('exact', want);
      test = want === '' ? () => true : (v) => v === want;
      break;
    }
    case 'prefixMatch':
    case 'suffixMatch':
    case 'containsMatch': {
      const k = spec.case === 'prefixMatch' ? 'prefix' : spec.case === 'suffixMatch' ? 'suffix' : 'contains';
      match = stringMatch(k, spec.value);
      test = match.test;
      break;
    }
    case 'safeRegexMatch':
      match = regexMatcher(ctx, spec.value, at(path, 'safe_regex_match'));
      if (!match) return undefined;
      test = match.test;
      break;
    case 'stringMatch':
      match = stringMatcher(ctx, spec.value, at(path, 'string_match'));
      if (!match) return undefined;
      test = match.test;
      break;
    case 'rangeMatch': {
      kind = 'range';
      const { start, end } = spec.value;
      range = { start: Number(start), end: Number(end) };
      test = (v) => {
        if (!INTEGER.test(v)) return false;
        const n = BigInt(v.trim());
        return n >= start && n < end;
      };
      break;
    }
    case 'presentMatch':
      kind = 'present';
      present = spec.value;
      test = () => present;
      break;
    default:
      // No specifier: the header only has to be present.
      kind = 'present';
      test = () => true;
  }
  const invert = m.invertMatch;
  const missingAsEmpty = m.treatMissingHeaderAsEmpty;
  const isPresent = kind === 'present';
  const whenMissing = invert ? isPresent && present : isPresent && !present;
  const matches = (header: HeaderLookup): boolean => {
    const value = header(name);
    if (value === undefined) {
      if (!missingAsEmpty) return whenMissing;
      return test('') !== invert;
    }
    return test(value) !== invert;
  };
  const out: HeaderMatcher = { name, kind, invert, treatMissingAsEmpty: missingAsEmpty, matches };
  if (match) out.match = match;
  if (range) out.range = range;
  if (kind === 'present') out.present = present;
  return out;
}

export function headerMatchers(
  ctx: DecodeContext,
  list: readonly HeaderMatcherProto[],
  path: string,
): HeaderMatcher[] {
  const out: HeaderMatcher[] = [];
  list.forEach((m, i) => {
    const h = headerMatcher(ctx, m, at(path, i));
    if (h) out.push(h);
  });
  return out;
}

export function queryParameterMatcher(
  ctx: DecodeContext,
  m: QueryParameterMatcherProto,
  path: string,
): QueryParameterMatcher | undefined {
  if (!m.name) ctx.report(at(path, 'name'), 'query parameter name must not be empty');
  const spec = m.queryParameterMatchSpecifier;
  if (spec.case === 'stringMatch') {
    const match = stringMatcher(ctx, spec.value, at(path, 'string_match'));
    return match ? { name: m.name, match } : undefined;
  }
  // present_match (true or false) and no specifier both mean "present" in Envoy's matcher.
  return { name: m.name };
}

/** Envoy's MetadataMatcher, restricted to the value matchers the RBAC engine evaluates. */
export function metadataMatcher(
  ctx: DecodeContext,
  m: MetadataMatcherProto,
  path: string,
): MetadataMatcher | undefined {
  if (!m.filter) ctx.report(at(path, 'filter'), 'filter is required');
  const segments: string[] = [];
  m.path.forEach((s, i) => {
    if (s.segment.case === 'key' && s.segment.value) segments.push(s.segment.value);
    else ctx.report(at(at(path, 'path'), i), 'a path segment needs a key');
  });
  if (segments.length === 0) ctx.report(at(path, 'path'), 'path must not be empty');
  const v = m.value?.matchPattern;
  const vp = at(path, 'value');
  let value: MetadataMatcher['value'] | undefined;
  switch (v?.case) {
    case 'stringMatch': {
      const match = stringMatcher(ctx, v.value, at(vp, 'string_match'));
      if (match) value = { kind: 'string', match };
      break;
    }
    case 'presentMatch':
      if (v.value) value = { kind: 'present' };
      else ctx.report(at(vp, 'present_match'), 'present_match: false never matches; use invert');
      break;
    case 'boolMatch':
      value = { kind: 'bool', value: v.value };
      break;
    case 'listMatch': {
      const one = v.value.matchPattern;
      if (one.case === 'oneOf' && one.value.matchPattern.case === 'stringMatch') {
        const match = stringMatcher(
          ctx,
          one.value.matchPattern.value,
          at(vp, 'list_match.one_of.string_match'),
        );
        if (match) value = { kind: 'listOneOf', match };
      } else {
        ctx.report(at(vp, 'list_match'), 'only list_match.one_of with a string_match is supported');
      }
      break;
    }
    case undefined:
      ctx.report(vp, 'a value matcher is required');
      break;
    default: {
      const field = snake(v?.case ?? '');
      ctx.report(at(vp, field), `${field} value matchers are not supported by the Trellis sidecar`);
    }
  }
  if (!value) return undefined;
  return { filter: m.filter, path: segments, value, invert: m.invert };
}
