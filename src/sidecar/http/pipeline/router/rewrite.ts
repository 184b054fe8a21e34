// Path and host rewrites of a route action (prefix_rewrite, regex_rewrite, host_rewrite_literal).

import type { RouteActionConfig, RouteMatch } from '../../../config/model.js';

function splitQuery(path: string): [string, string] {
  const q = path.indexOf('?');
  return q < 0 ? [path, ''] : [path.slice(0, q), path.slice(q)];
}

const globals = new WeakMap<RegExp, RegExp>();

/** Envoy's regex_rewrite replaces every match (RE2::GlobalReplace): use a global copy of the pattern. */
function globalPattern(re: RegExp): RegExp {
  if (re.global) return re;
  let g = globals.get(re);
  if (g === undefined) {
    g = new RegExp(re.source, `${re.flags}g`);
    globals.set(re, g);
  }
  return g;
}

/**
 * The path to send upstream, or undefined when the action rewrites nothing. `prefix_rewrite` swaps the
 * matched prefix (or the whole path of an exact match); `regex_rewrite` rewrites the path without its query.
 * The query string is kept either way.
 */
export function rewritePath(path: string, match: RouteMatch, action: RouteActionConfig): string | undefined {
  if (action.prefixRewrite !== undefined) {
    const kind = match.path.kind;
    if (kind === 'regex') return undefined;
    const [p, query] = splitQuery(path);
    const matched = kind === 'exact' ? p.length : Math.min(match.path.value.length, p.length);
    return action.prefixRewrite + p.slice(matched) + query;
  }
  if (action.regexRewrite !== undefined) {
    const [p, query] = splitQuery(path);
    const re = globalPattern(action.regexRewrite.pattern);
    re.lastIndex = 0;
    return p.replace(re, action.regexRewrite.substitution) + query;
  }
  return undefined;
}

/** `foo:8080` → `foo-shadow:8080`: Envoy inserts the suffix before the port of a mirrored request's host. */
export function shadowAuthority(authority: string): string {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    return close < 0
      ? `${authority}-shadow`
      : `${authority.slice(0, close + 1)}-shadow${authority.slice(close + 1)}`;
  }
  const colon = authority.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(authority.slice(colon + 1))) {
    return `${authority.slice(0, colon)}-shadow${authority.slice(colon)}`;
  }
  return `${authority}-shadow`;
}
