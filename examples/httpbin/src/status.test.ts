// Tests of httpbin's /status choice, /delay cap and header-name casing.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { delayMsFor } from './httpbin.js';
import { titleCase } from './request-info.js';
import { pickStatus, statusReply } from './status.js';

test('/status picks one code, or one of a weighted list by the dice', () => {
  assert.equal(pickStatus('503'), 503);
  assert.equal(
    pickStatus('200:3,503:1', () => 0.74),
    200,
    '0.74 of 4 falls in the first 3',
  );
  assert.equal(
    pickStatus('200:3,503:1', () => 0.76),
    503,
  );
  assert.equal(
    pickStatus('200,500', () => 0.99),
    500,
    'unweighted codes weigh 1 each',
  );
  assert.equal(pickStatus('abc'), undefined);
  assert.equal(pickStatus('200:x'), undefined);
});

test('redirects point at /redirect/1 and 401 challenges, as httpbin does', () => {
  assert.deepEqual(statusReply(302).headers, { location: '/redirect/1' });
  assert.match(statusReply(401).headers['www-authenticate']!, /Basic realm/);
  assert.equal(statusReply(500).body, '');
});

test('/delay accepts fractional seconds and never waits more than 10 s', () => {
  assert.equal(delayMsFor('0.25'), 250);
  assert.equal(delayMsFor('60'), 10_000);
  assert.equal(delayMsFor('-1'), undefined);
  assert.equal(delayMsFor('soon'), undefined);
});

test('header names print as Werkzeug prints them', () => {
  assert.equal(titleCase('x-b3-traceid'), 'X-B3-Traceid');
  assert.equal(titleCase('x-forwarded-client-cert'), 'X-Forwarded-Client-Cert');
  assert.equal(titleCase('HOST'), 'Host');
});
