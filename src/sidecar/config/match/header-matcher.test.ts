// Header matchers built by hand follow the same Envoy rules as decoded ones.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringMatch } from '../string-match.js';
import { headerLookup } from '../testing/resources.js';
import { compileHeaderMatcher } from './header-matcher.js';

const base = { name: 'x-token', invert: false, treatMissingAsEmpty: false };

test('hand-built matchers follow Envoy: missing headers, inversion, presence, ranges', () => {
  const admin = compileHeaderMatcher({ ...base, kind: 'string', match: stringMatch('exact', 'admin') });
  assert.equal(admin.matches(headerLookup({ 'x-token': 'admin' })), true);
  assert.equal(admin.matches(headerLookup({ 'x-token': ['admin', 'admin'] })), false);
  assert.equal(admin.matches(headerLookup({})), false);

  const notAdmin = compileHeaderMatcher({
    ...base,
    kind: 'string',
    match: stringMatch('exact', 'admin'),
    invert: true,
  });
  assert.equal(notAdmin.matches(headerLookup({ 'x-token': 'guest' })), true);
  assert.equal(notAdmin.matches(headerLookup({})), false);
  const notAdminOrMissing = compileHeaderMatcher({
    ...base,
    kind: 'string',
    match: stringMatch('exact', 'admin'),
    invert: true,
    treatMissingAsEmpty: true,
  });
  assert.equal(notAdminOrMissing.matches(headerLookup({})), true);

  const absent = compileHeaderMatcher({ ...base, kind: 'present', present: false });
  assert.equal(absent.matches(headerLookup({})), true);
  assert.equal(absent.matches(headerLookup({ 'x-token': '' })), false);
  const notPresent = compileHeaderMatcher({ ...base, kind: 'present', present: true, invert: true });
  assert.equal(notPresent.matches(headerLookup({})), true);

  const range = compileHeaderMatcher({ ...base, name: 'x-n', kind: 'range', range: { start: -10, end: 0 } });
  assert.equal(range.matches(headerLookup({ 'x-n': '-1' })), true);
  assert.equal(range.matches(headerLookup({ 'x-n': '0' })), false);
  assert.equal(range.matches(headerLookup({ 'x-n': '-1x' })), false);
});
