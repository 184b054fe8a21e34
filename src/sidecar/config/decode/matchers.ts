// Envoy's matchers (string, regex, header, query parameter, metadata) decoded and compiled once.

import type {
  HeaderMatcher as HeaderMatcherProto,
  QueryParameterMatcher as QueryParameterMatcherProto,
} from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { MetadataMatcher as MetadataMatcherProto } from '../../../xds/gen/envoy/type/matcher/v3/metadata_pb.js';
import type { RegexMatcher } from '../../../xds/gen/envoy/type/matcher/v3/regex_pb.js';
import type { StringMatcher } from '../../../xds/gen/envoy/type/matcher/v3/string_pb.js';
import { asciiLower } from '../ascii.js';
import { compileHeaderMatcher } from '../match/header-matcher.js';
import type { HeaderMatcher, MetadataMatcher, QueryParameterMatcher, StringMatch } from '../model.js';
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

/** Decodes a route HeaderMatcher (every specifier, deprecated ones included) and compiles it. */
export function headerMatcher(
  ctx: DecodeContext,
  m: HeaderMatcherProto,
  path: string,
): HeaderMatcher | undefined {
  const name = asciiLower(m.name);
  if (!name) ctx.report(at(path, 'name'), 'header name must not be empty');
  const base = { name, invert: m.invertMatch, treatMissingAsEmpty: m.treatMissingHeaderAsEmpty };
  const spec = m.headerMatchSpecifier;
  switch (spec.case) {
    case 'exactMatch':
      // Deprecated form: an empty value matches any value of a present header.
      return compileHeaderMatcher({
        ...base,
        kind: 'string',
        match: spec.value === '' ? stringMatch('prefix', '') : stringMatch('exact', spec.value),
      });
    case 'prefixMatch':
      return compileHeaderMatcher({ ...base, kind: 'string', match: stringMatch('prefix', spec.value) });
    case 'suffixMatch':
      return compileHeaderMatcher({ ...base, kind: 'string', match: stringMatch('suffix', spec.value) });
    case 'containsMatch':
      return compileHeaderMatcher({ ...base, kind: 'string', match: stringMatch('contains', spec.value) });
    case 'safeRegexMatch': {
      const match = regexMatcher(ctx, spec.value, at(path, 'safe_regex_match'));
      return match ? compileHeaderMatcher({ ...base, kind: 'string', match }) : undefined;
    }
    case 'stringMatch': {
      const match = stringMatcher(ctx, spec.value, at(path, 'string_match'));
      return match ? compileHeaderMatcher({ ...base, kind: 'string', match }) : undefined;
    }
    case 'rangeMatch': {
      const { start, end } = spec.value;
      return compileHeaderMatcher({
        ...base,
        kind: 'range',
        range: { start: Number(start), end: Number(end) },
      });
    }
    case 'presentMatch':
      return compileHeaderMatcher({ ...base, kind: 'present', present: spec.value });
    default:
      // No specifier: the header only has to be present.
      return compileHeaderMatcher({ ...base, kind: 'present', present: true });
  }
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
