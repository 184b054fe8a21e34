// The connection manager's own path normalization (normalize_path, merge_slashes, escaped slashes), Envoy's order.

import type { PathNormalization, PathNormalizationResult } from './path-types.js';

const UNRESERVED = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9\-._~]/.test(ch)) UNRESERVED[c] = 1;
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * RFC 3986 §6.2.2 as Envoy's `canonicalPath` applies it: percent-encoded unreserved characters are decoded,
 * other percent-encodings upper-cased, `\` becomes `/` (http URLs treat them alike), then dot segments go.
 */
export function canonicalPath(path: string): string {
  let needs = false;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 37 /* % */ || c === 92 /* \ */) {
      needs = true;
      break;
    }
    if (c === 46 /* . */ && i > 0 && path.charCodeAt(i - 1) === 47) {
      needs = true;
      break;
    }
  }
  if (!needs) return path;
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 92) {
      out += '/';
    } else if (
      c === 37 &&
      i + 2 < path.length &&
      hex(path.charCodeAt(i + 1)) >= 0 &&
      hex(path.charCodeAt(i + 2)) >= 0
    ) {
      const v = hex(path.charCodeAt(i + 1)) * 16 + hex(path.charCodeAt(i + 2));
      out +=
        v < 128 && UNRESERVED[v] === 1
          ? String.fromCharCode(v)
          : `%${path.slice(i + 1, i + 3).toUpperCase()}`;
      i += 2;
    } else {
      out += path[i];
    }
  }
  return removeDotSegments(out);
}

/** RFC 3986 §5.2.4 on an absolute path: `.` segments vanish, `..` removes the segment before it. */
export function removeDotSegments(path: string): string {
  if (!path.includes('.')) return path;
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    const last = i === segments.length - 1;
    if (s === '.') {
      if (last) out.push('');
    } else if (s === '..') {
      out.pop();
      if (last) out.push('');
    } else {
      out.push(s);
    }
  }
  return `/${out.join('/')}`;
}

const ESCAPED_SLASH = /%2f|%5c/i;

/**
 * Envoy's order: escaped slashes first (path_with_escaped_slashes_action), then normalize_path, then
 * merge_slashes. Only the path is touched; the query string is kept as it came.
 */
export function normalizeRequestPath(raw: string, opts: PathNormalization): PathNormalizationResult {
  if (raw.charCodeAt(0) !== 47 /* / */) return { action: 'continue', path: raw };
  const q = raw.indexOf('?');
  let path = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? '' : raw.slice(q);
  let redirect = false;
  if (opts.escapedSlashes !== 'keep' && ESCAPED_SLASH.test(path)) {
    if (opts.escapedSlashes === 'reject') {
      return {
        action: 'reject',
        reason: 'the path holds an escaped slash (%2F or %5C) and the listener rejects them',
      };
    }
    path = path.replace(/%2f/gi, '/').replace(/%5c/gi, '\\');
    redirect = opts.escapedSlashes === 'unescape_and_redirect';
  }
  if (opts.normalizePath) {
    if (path.includes('%00')) return { action: 'reject', reason: 'the path holds an encoded NUL (%00)' };
    path = canonicalPath(path);
  }
  if (opts.mergeSlashes && path.includes('//')) path = path.replace(/\/{2,}/g, '/');
  const result = path + query;
  return { action: redirect ? 'redirect' : 'continue', path: result };
}
