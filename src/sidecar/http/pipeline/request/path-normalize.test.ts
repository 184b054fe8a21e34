// Path normalization: RFC 3986 dot segments, unreserved decoding, merged slashes, escaped slashes in Envoy's order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalPath, normalizeRequestPath } from './path-normalize.js';

const BASE = { normalizePath: true, mergeSlashes: false, escapedSlashes: 'keep' as const };

test('dot segments are removed and cannot climb above the root', () => {
  assert.equal(canonicalPath('/a/b/../c'), '/a/c');
  assert.equal(canonicalPath('/a/./b/.'), '/a/b/');
  assert.equal(canonicalPath('/../../etc/passwd'), '/etc/passwd');
  assert.equal(canonicalPath('/a/b/..'), '/a/');
});

test('encoded unreserved characters are decoded (so %2e%2e is a dot segment); others are upper-cased', () => {
  assert.equal(canonicalPath('/%7Euser/%41'), '/~user/A');
  assert.equal(canonicalPath('/a/%2e%2e/b'), '/b');
  assert.equal(canonicalPath('/a%2fb'), '/a%2Fb');
  assert.equal(canonicalPath('/a\\b\\..\\c'), '/a/c');
});

test('the query string is never touched', () => {
  assert.deepEqual(normalizeRequestPath('/a/../b?x=/../y&z=%2e', BASE), {
    action: 'continue',
    path: '/b?x=/../y&z=%2e',
  });
});

test('merge_slashes collapses runs of slashes after normalization', () => {
  assert.deepEqual(normalizeRequestPath('//a///b//', { ...BASE, mergeSlashes: true }), {
    action: 'continue',
    path: '/a/b/',
  });
  assert.deepEqual(normalizeRequestPath('//a///b', BASE), { action: 'continue', path: '//a///b' });
});

test('escaped slashes: keep, reject, unescape and redirect, unescape and forward', () => {
  assert.deepEqual(normalizeRequestPath('/a%2Fb', BASE), { action: 'continue', path: '/a%2Fb' });
  assert.equal(normalizeRequestPath('/a%2fb', { ...BASE, escapedSlashes: 'reject' }).action, 'reject');
  assert.deepEqual(normalizeRequestPath('/a%2Fb', { ...BASE, escapedSlashes: 'unescape_and_redirect' }), {
    action: 'redirect',
    path: '/a/b',
  });
  // unescaped first, so an encoded traversal cannot slip past normalization
  assert.deepEqual(
    normalizeRequestPath('/a/..%2F..%2Fadmin', { ...BASE, escapedSlashes: 'unescape_and_forward' }),
    {
      action: 'continue',
      path: '/admin',
    },
  );
});

test('an encoded NUL is refused; OPTIONS * and CONNECT targets pass untouched', () => {
  assert.equal(normalizeRequestPath('/a%00b', BASE).action, 'reject');
  assert.deepEqual(normalizeRequestPath('*', BASE), { action: 'continue', path: '*' });
  assert.deepEqual(normalizeRequestPath('', BASE), { action: 'continue', path: '' });
});
