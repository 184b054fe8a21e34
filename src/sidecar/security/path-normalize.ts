// Request path normalization as Envoy's connection manager does it, in the modes Istio's mesh config names.

import type { HcmConfig } from '../config/model.js';

/** Istio's `meshConfig.pathNormalization.normalization`. */
export type PathNormalizationMode = 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';

/** The connection manager fields that drive normalization. */
export type PathNormalization = Pick<HcmConfig, 'normalizePath' | 'mergeSlashes' | 'escapedSlashes'>;

/** The HCM settings Istio emits for each mode (BASE is Istio's default). */
export function normalizationForMode(mode: PathNormalizationMode): PathNormalization {
  switch (mode) {
    case 'NONE':
      return { normalizePath: false, mergeSlashes: false, escapedSlashes: 'keep' };
    case 'BASE':
      return { normalizePath: true, mergeSlashes: false, escapedSlashes: 'keep' };
    case 'MERGE_SLASHES':
      return { normalizePath: true, mergeSlashes: true, escapedSlashes: 'keep' };
    case 'DECODE_AND_MERGE_SLASHES':
      return { normalizePath: true, mergeSlashes: true, escapedSlashes: 'unescape_and_forward' };
  }
}

/**
 * `continue` with the path to route, authorize and forward; `redirect` when escaped slashes were found and
 * the config asks for a redirect to the unescaped path; `reject` (400) with the reason.
 */
export type PathNormalizationResult =
  | { action: 'continue'; path: string }
  | { action: 'redirect'; path: string }
  | { action: 'reject'; reason: string };

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** The byte a `%HH` at `i` encodes, or -1 when there is no valid escape there. */
function escapedByte(s: string, i: number): number {
  if (s.charCodeAt(i) !== 37 || i + 2 >= s.length) return -1;
  const hi = hexValue(s.charCodeAt(i + 1));
  const lo = hexValue(s.charCodeAt(i + 2));
  return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
}

/** RFC 3986 unreserved characters: the only escapes a canonical path decodes. */
function isUnreserved(b: number): boolean {
  return (
    (b >= 0x30 && b <= 0x39) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a) ||
    b === 0x2d ||
    b === 0x2e ||
    b === 0x5f ||
    b === 0x7e
  );
}

function hasEscapedNul(path: string): boolean {
  for (let i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i + 1)) {
    if (escapedByte(path, i) === 0) return true;
  }
  return path.includes('\0');
}

/** Envoy's `PathUtil::unescapeSlashes`: `%2F` → `/`, `%5C` → `\`, either case. */
function unescapeSlashes(path: string): string {
  return path.replace(/%2f/gi, '/').replace(/%5c/gi, '\\');
}

const HEX = '0123456789ABCDEF';

/**
 * The canonical form Envoy's `normalize_path` produces (Chromium's path canonicalizer): unreserved escapes
 * decoded once (`%2E` → `.`, `%41` → `A`), other escapes kept verbatim (`%2f`, `%25`, `%c0` stay as written),
 * `\` → `/`, control, space and non-ASCII characters escaped, then RFC 3986 dot-segment removal.
 */
function canonicalPath(path: string): string {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 37) {
      const b = escapedByte(path, i);
      if (b >= 0 && isUnreserved(b)) {
        out += String.fromCharCode(b);
        i += 2;
        continue;
      }
      out += '%';
    } else if (c === 92) {
      out += '/';
    } else if (c <= 0x20 || c >= 0x7f) {
      const codePoint = path.codePointAt(i)!;
      for (const byte of Buffer.from(String.fromCodePoint(codePoint))) {
        out += `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
      }
      if (codePoint > 0xffff) i++;
    } else {
      out += path[i];
    }
  }
  return removeDotSegments(out);
}

/** RFC 3986 §5.2.4, on segments: `.` disappears, `..` removes the segment before it, never above the root. */
export function removeDotSegments(path: string): string {
  if (!path.startsWith('/')) return path;
  const input = path.split('/');
  const output: string[] = [];
  // input[0] is the empty string before the leading slash.
  for (let i = 1; i < input.length; i++) {
    const segment = input[i]!;
    const last = i === input.length - 1;
    if (segment === '.') {
      if (last) output.push('');
    } else if (segment === '..') {
      output.pop();
      if (last) output.push('');
    } else {
      output.push(segment);
    }
  }
  return `/${output.join('/')}`;
}

function mergeSlashes(path: string): string {
  return path.replace(/\/{2,}/g, '/');
}

/**
 * Normalizes a request's `:path` in Envoy's order: drop the fragment, refuse `%00`, handle escaped slashes
 * (`path_with_escaped_slashes_action`), canonicalize (`normalize_path`), merge slashes (`merge_slashes`).
 * The query is never touched. The result is what both authorization and the application see.
 */
export function normalizeRequestPath(rawPath: string, opts: PathNormalization): PathNormalizationResult {
  const hash = rawPath.indexOf('#');
  const withoutFragment = hash >= 0 ? rawPath.slice(0, hash) : rawPath;
  const q = withoutFragment.indexOf('?');
  let path = q >= 0 ? withoutFragment.slice(0, q) : withoutFragment;
  const query = q >= 0 ? withoutFragment.slice(q) : '';
  if (hasEscapedNul(path)) return { action: 'reject', reason: 'the path contains an encoded NUL (%00)' };
  if (path === '*' && query === '') return { action: 'continue', path };
  if (!path.startsWith('/')) {
    return { action: 'reject', reason: `the path "${truncate(path)}" does not start with "/"` };
  }
  let redirect = false;
  if (opts.escapedSlashes !== 'keep') {
    const unescaped = unescapeSlashes(path);
    if (unescaped !== path) {
      if (opts.escapedSlashes === 'reject') {
        return { action: 'reject', reason: 'the path contains an escaped slash (%2F or %5C)' };
      }
      redirect = opts.escapedSlashes === 'unescape_and_redirect';
      path = unescaped;
    }
  }
  if (opts.normalizePath) path = canonicalPath(path);
  if (opts.mergeSlashes) path = mergeSlashes(path);
  return { action: redirect ? 'redirect' : 'continue', path: path + query };
}

function truncate(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}

/** Istio rejects (400) a method that is not an upper-case token, so `get` cannot slip past `methods: ["GET"]`. */
export function isValidMethod(method: string): boolean {
  return /^[A-Z0-9!#$%&'*+\-.^_`|~]+$/.test(method);
}
