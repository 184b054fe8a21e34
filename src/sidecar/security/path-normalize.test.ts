// Path normalization against Istio's own vector tables (normalization_test.go), mode by mode.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  isValidMethod,
  normalizationForMode,
  normalizeRequestPath,
  type PathNormalizationMode,
} from './path-normalize.js';

function normalized(mode: PathNormalizationMode, path: string): string {
  const r = normalizeRequestPath(path, normalizationForMode(mode));
  return r.action === 'reject' ? '400' : r.path;
}

// Istio's tests/integration/security/normalization_test.go, vector for vector (input → what the app sees).
const ISTIO_VECTORS: Record<PathNormalizationMode, [string, string][]> = {
  NONE: [
    ['/', '/'],
    ['/app#foo', '/app'],
    ['/app/', '/app/'],
    ['/app/../admin', '/app/../admin'],
    ['/app', '/app'],
    ['/app//', '/app//'],
    ['/app/%2f', '/app/%2f'],
    ['/app%2f/', '/app%2f/'],
    ['/xyz%30..//abc', '/xyz%30..//abc'],
    ['/app/%2E./admin', '/app/%2E./admin'],
    ['/app\\admin', '/app\\admin'],
    ['/app/\\/\\/\\admin', '/app/\\/\\/\\admin'],
    ['/%2Fapp%5cadmin%5Cabc', '/%2Fapp%5cadmin%5Cabc'],
    ['/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\\abc', '/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\\abc'],
    ['/app//../admin', '/app//../admin'],
    ['/app//../../admin', '/app//../../admin'],
  ],
  BASE: [
    ['/', '/'],
    ['/app#foo', '/app'],
    ['/app/', '/app/'],
    ['/app/../admin', '/admin'],
    ['/app', '/app'],
    ['/app//', '/app//'],
    ['/app/%2f', '/app/%2f'],
    ['/app%2f/', '/app%2f/'],
    ['/xyz%30..//abc', '/xyz0..//abc'],
    ['/app/%2E./admin', '/admin'],
    ['/app\\admin', '/app/admin'],
    ['/app/\\/\\/\\admin', '/app//////admin'],
    ['/%2Fapp%5cadmin%5Cabc', '/%2Fapp%5cadmin%5Cabc'],
    ['/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\\abc', '/%5Capp%2f%5c%2F..%2fadmin%5c/abc'],
    ['/app//../admin', '/app/admin'],
    ['/app//../../admin', '/admin'],
  ],
  MERGE_SLASHES: [
    ['/', '/'],
    ['/app#foo', '/app'],
    ['/app/', '/app/'],
    ['/app/../admin', '/admin'],
    ['/app', '/app'],
    ['/app//', '/app/'],
    ['/app/%2f', '/app/%2f'],
    ['/app%2f/', '/app%2f/'],
    ['/xyz%30..//abc', '/xyz0../abc'],
    ['/app/%2E./admin', '/admin'],
    ['/app\\admin', '/app/admin'],
    ['/app/\\/\\/\\admin', '/app/admin'],
    ['/%2Fapp%5cadmin%5Cabc', '/%2Fapp%5cadmin%5Cabc'],
    ['/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\\abc', '/%5Capp%2f%5c%2F..%2fadmin%5c/abc'],
    ['/app//../admin', '/app/admin'],
    ['/app//../../admin', '/admin'],
  ],
  DECODE_AND_MERGE_SLASHES: [
    ['/', '/'],
    ['/app#foo', '/app'],
    ['/app/', '/app/'],
    ['/app/../admin', '/admin'],
    ['/app', '/app'],
    ['/app//', '/app/'],
    ['/app/%2f', '/app/'],
    ['/app%2f/', '/app/'],
    ['/xyz%30..//abc', '/xyz0../abc'],
    ['/app/%2E./admin', '/admin'],
    ['/app\\admin', '/app/admin'],
    ['/app/\\/\\/\\admin', '/app/admin'],
    ['/%2Fapp%5cadmin%5Cabc', '/app/admin/abc'],
    ['/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\\abc', '/app/admin/abc'],
    ['/app//../admin', '/app/admin'],
    ['/app//../../admin', '/admin'],
    ['/%c0%2e%c0%2e/admin', '/%c0.%c0./admin'],
    ['/%c0%2fadmin', '/%c0/admin'],
  ],
};

// Istio's "NotNormalized" group (DECODE_AND_MERGE_SLASHES): overlong UTF-8, double encoding, `..;`, path
// parameters and case variants must reach the app untouched.
const NOT_NORMALIZED = [
  '/0x2e0x2e/admin',
  '/0x2e0x2e0x2fadmin',
  '/0x2e0x2e0x5cadmin',
  '/0x2f0x2fadmin',
  '/0x5c0x5cadmin',
  '/%25c0%25ae%25c1%259cadmin',
  '/%25c0%25ae%25c0%25ae/admin',
  '/%25c0%25afadmin',
  '/%25c1%259cadmin',
  '/%252e%252e/admin',
  '/%252e%252e%252fadmin',
  '/%c1%9cadmin',
  '/%c0%ae%c0%ae/admin',
  '/%c0%afadmin',
  '/.../admin',
  '/..../admin',
  '/..;/admin',
  '/;/admin',
  '/admin;a=b',
  '/admin;a=b/xyz',
  '/admin,a=b/xyz',
  '/Admin',
  '/ADMIN',
];

describe("Istio's normalization vectors", () => {
  for (const mode of Object.keys(ISTIO_VECTORS) as PathNormalizationMode[]) {
    test(mode, () => {
      const got = ISTIO_VECTORS[mode].map(([input]) => [input, normalized(mode, input)]);
      assert.deepEqual(got, ISTIO_VECTORS[mode]);
    });
  }

  test('NotNormalized stays untouched', () => {
    for (const path of NOT_NORMALIZED) assert.equal(normalized('DECODE_AND_MERGE_SLASHES', path), path);
  });

  test('PercentEncoded %01..%ff: only unreserved characters, "/" and "\\" are decoded', () => {
    let decoded = 0;
    for (let i = 1; i <= 0xff; i++) {
      const hex = i.toString(16).padStart(2, '0');
      const input = `/admin%${hex}`;
      const c = String.fromCharCode(i);
      const unreserved = /[A-Za-z0-9\-._~]/.test(c);
      const expected = unreserved ? `/admin${c}` : c === '/' || c === '\\' ? '/admin/' : input;
      if (expected !== input) decoded++;
      assert.equal(normalized('DECODE_AND_MERGE_SLASHES', input), expected, input);
    }
    assert.equal(decoded, 66 + 2, 'A-Z a-z 0-9 - . _ ~ plus the two slashes');
  });

  test('%00 is refused in every mode, and so is a raw NUL', () => {
    for (const mode of Object.keys(ISTIO_VECTORS) as PathNormalizationMode[]) {
      assert.equal(normalized(mode, '/admin%00'), '400', mode);
      assert.equal(normalized(mode, '/a%00b?x=1'), '400', mode);
    }
    assert.equal(normalized('BASE', '/a\0b'), '400');
  });
});

describe('normalization details', () => {
  test('the query is never normalized', () => {
    assert.equal(
      normalized('DECODE_AND_MERGE_SLASHES', '/a//b/../c?next=/x/../%2f//y'),
      '/a/c?next=/x/../%2f//y',
    );
  });

  test('escaped slashes: reject and redirect modes', () => {
    const reject = normalizeRequestPath('/a%2Fb', {
      normalizePath: true,
      mergeSlashes: false,
      escapedSlashes: 'reject',
    });
    assert.equal(reject.action, 'reject');
    const redirect = normalizeRequestPath('/a%2Fb', {
      normalizePath: true,
      mergeSlashes: true,
      escapedSlashes: 'unescape_and_redirect',
    });
    assert.deepEqual(redirect, { action: 'redirect', path: '/a/b' });
    const clean = normalizeRequestPath('/a/b', {
      normalizePath: true,
      mergeSlashes: true,
      escapedSlashes: 'unescape_and_redirect',
    });
    assert.deepEqual(clean, { action: 'continue', path: '/a/b' });
  });

  test('dot segments never climb above the root', () => {
    assert.equal(normalized('BASE', '/../../etc/passwd'), '/etc/passwd');
    assert.equal(normalized('BASE', '/a/..'), '/');
    assert.equal(normalized('BASE', '/a/.'), '/a/');
    assert.equal(normalized('BASE', '/a/./b/%2e/c'), '/a/b/c');
  });

  test('control, space and non-ASCII characters are escaped; a path must start with "/"', () => {
    assert.equal(normalized('BASE', '/a b\u00e9'), '/a%20b%C3%A9');
    assert.equal(normalized('BASE', 'admin'), '400');
    assert.deepEqual(normalizeRequestPath('*', normalizationForMode('BASE')), {
      action: 'continue',
      path: '*',
    });
  });

  test('methods must be upper-case tokens (Istio refuses the rest with 400)', () => {
    for (const m of ['GET', 'POST', 'M-SEARCH', 'PROPFIND']) assert.ok(isValidMethod(m), m);
    for (const m of ['get', 'Get', 'GET ', '', 'G(T']) assert.ok(!isValidMethod(m), m);
  });
});
