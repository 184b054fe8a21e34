// Tests of the signed session cookie.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SessionCookie } from './session.js';

const cookieOf = (setCookie: string) => setCookie.split(';')[0]!;

test('a session issued for jason reads back as jason, among other cookies', () => {
  const s = new SessionCookie('secret');
  assert.equal(s.userFrom(`theme=dark; ${cookieOf(s.issue('jason'))}; other=1`), 'jason');
});

test('a tampered, foreign or cleared session is no one', () => {
  const s = new SessionCookie('secret');
  const good = cookieOf(s.issue('jason'));
  const [payload, sig] = good.slice('session='.length).split('.');
  const forgedPayload = Buffer.from(JSON.stringify({ user: 'admin' })).toString('base64url');
  assert.equal(s.userFrom(`session=${forgedPayload}.${sig}`), undefined);
  assert.equal(s.userFrom(`session=${payload}.${sig!.slice(0, -2)}AA`), undefined);
  assert.equal(new SessionCookie('other').userFrom(good), undefined);
  assert.equal(s.userFrom(cookieOf(s.clear())), undefined);
  assert.equal(s.userFrom(undefined), undefined);
  assert.match(s.clear(), /Max-Age=0/);
});
