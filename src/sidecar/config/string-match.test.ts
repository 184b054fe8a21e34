// Envoy's StringMatcher semantics and the JavaScript regex compiler.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsRegexCompiler, stringMatch } from './string-match.js';

test('Envoy string matchers: exact, prefix, suffix, contains, case-insensitive, and full-match regexes', () => {
  assert.equal(stringMatch('exact', 'jason').test('jason'), true);
  assert.equal(stringMatch('exact', 'jason').test('Jason'), false);
  assert.equal(stringMatch('exact', 'jason', true).test('JASON'), true);
  assert.equal(stringMatch('prefix', '/api').test('/api/v1'), true);
  assert.equal(stringMatch('suffix', '.js').test('/a/b.js'), true);
  assert.equal(stringMatch('contains', 'bot').test('googlebot/2'), true);
  // safe_regex must match the whole value: "abc" does not match "xabcx".
  assert.equal(stringMatch('regex', 'abc').test('xabcx'), false);
  assert.equal(stringMatch('regex', '/reviews/[0-9]+').test('/reviews/12'), true);
});

test('ignore_case folds ASCII letters only, and has no effect on safe_regex (as in Envoy)', () => {
  assert.equal(stringMatch('suffix', '.Example.COM', true).test('api.example.com'), true);
  assert.equal(stringMatch('prefix', 'Bearer ', true).test('bearer abc'), true);
  assert.equal(stringMatch('contains', 'BOT', true).test('GoogleBot'), true);
  // The Kelvin sign folds to "k" in Unicode, not in ASCII.
  assert.equal(stringMatch('exact', 'k', true).test('\u212A'), false);
  const re = stringMatch('regex', 'abc', true);
  assert.equal(re.ignoreCase, false);
  assert.equal(re.test('ABC'), false);
});

test('the JavaScript regex compiler anchors only for full matches and sets the requested flags', () => {
  assert.equal(jsRegexCompiler('b', { fullMatch: true }).test('abc'), false);
  assert.equal(jsRegexCompiler('b').test('abc'), true);
  assert.equal('a1b2'.replace(jsRegexCompiler('[0-9]', { global: true }), '#'), 'a#b#');
  assert.equal(jsRegexCompiler('A', { ignoreCase: true }).test('a'), true);
});
