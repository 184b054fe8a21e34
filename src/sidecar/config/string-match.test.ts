import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringMatch } from './string-match.js';

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
