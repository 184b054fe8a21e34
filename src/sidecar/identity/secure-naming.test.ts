import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import { SecureNamingError, secureNamingCheck } from './secure-naming.js';

const cert = (subjectaltname: string) => ({ subjectaltname }) as PeerCertificate;
const REVIEWS = 'spiffe://cluster.local/ns/default/sa/reviews';

test('only the listed identities may serve; the DNS name of the host plays no part', () => {
  const check = secureNamingCheck([REVIEWS], 'reviews.default.svc.cluster.local:9080');
  assert.equal(check('anything.example', cert(`URI:${REVIEWS}`)), undefined);
  const refused = check('reviews.default.svc.cluster.local', cert('DNS:reviews.default.svc.cluster.local'));
  assert.ok(refused instanceof SecureNamingError);
  assert.match(refused.message, /carries no single SPIFFE ID/);
  const other = check('x', cert('URI:spiffe://cluster.local/ns/default/sa/ratings'));
  assert.ok(other instanceof SecureNamingError);
  assert.equal(other.peerIdentity, 'spiffe://cluster.local/ns/default/sa/ratings');
  assert.match(other.message, /not allowed to serve reviews\.default\.svc\.cluster\.local:9080/);
});

test('two SPIFFE IDs in one certificate are refused even if one is allowed', () => {
  const check = secureNamingCheck([REVIEWS]);
  assert.ok(
    check('x', cert(`URI:${REVIEWS}, URI:spiffe://cluster.local/ns/default/sa/ratings`)) instanceof Error,
  );
});

test('an allow list entry that is not an identity is a configuration error, not "allow all"', () => {
  assert.throws(() => secureNamingCheck(['*']), /is not a SPIFFE ID/);
  assert.ok(secureNamingCheck([])('x', cert(`URI:${REVIEWS}`)) instanceof Error);
});
