import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  normalizeSpiffeId,
  parseSpiffeId,
  parseWorkloadId,
  principalOf,
  spiffeIdOfSubjectAltName,
  subjectAltNameEntries,
  workloadId,
} from './spiffe.js';

test('a workload identity round-trips through its URI and Istio principal form', () => {
  const uri = workloadId({
    trustDomain: 'cluster.local',
    namespace: 'default',
    serviceAccount: 'bookinfo-reviews',
  });
  assert.equal(uri, 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
  assert.deepEqual(parseWorkloadId(uri), {
    trustDomain: 'cluster.local',
    namespace: 'default',
    serviceAccount: 'bookinfo-reviews',
  });
  assert.equal(principalOf(uri), 'cluster.local/ns/default/sa/bookinfo-reviews');
  assert.equal(normalizeSpiffeId('cluster.local/ns/default/sa/bookinfo-reviews'), uri);
});

test('IDs that could be spelled two ways, or smuggle structure, are not SPIFFE IDs', () => {
  for (const bad of [
    'spiffe://Cluster.Local/ns/a/sa/b', // upper-case trust domain
    'spiffe://cluster.local/ns/a/sa/b/', // trailing slash
    'spiffe://cluster.local/ns//sa/b', // empty segment
    'spiffe://cluster.local/ns/../sa/b', // dot segment
    'spiffe://cluster.local:443/ns/a/sa/b', // port
    'spiffe://user@cluster.local/ns/a/sa/b', // userinfo
    'spiffe://cluster.local/ns/a/sa/b?x=1', // query
    'spiffe://cluster.local/ns/a/sa/b#f', // fragment
    'spiffe://cluster.local/ns/a%2Fb/sa/c', // percent-encoding
    'SPIFFE://cluster.local/ns/a/sa/b', // scheme case
    'https://cluster.local/ns/a/sa/b',
    'spiffe://',
    `spiffe://td/${'a'.repeat(2100)}`,
  ]) {
    assert.equal(parseSpiffeId(bad), undefined, bad);
  }
  assert.deepEqual(parseSpiffeId('spiffe://example.org'), { trustDomain: 'example.org', path: '' });
});

test('only the /ns/<ns>/sa/<sa> shape is a workload identity', () => {
  assert.equal(parseWorkloadId('spiffe://cluster.local/ns/a/sa'), undefined);
  assert.equal(parseWorkloadId('spiffe://cluster.local/ns/a/sa/b/c'), undefined);
  assert.equal(parseWorkloadId('spiffe://cluster.local/sa/a/ns/b'), undefined);
  assert.throws(
    () => workloadId({ trustDomain: 'cluster.local', namespace: 'a/sa/b', serviceAccount: 'c' }),
    /cannot build a SPIFFE ID/,
  );
});

test("Node's subjectaltname text is split without being fooled by quoted commas", () => {
  assert.deepEqual(subjectAltNameEntries('DNS:a.example, URI:spiffe://td/ns/a/sa/b, IP Address:127.0.0.1'), [
    { type: 'DNS', value: 'a.example' },
    { type: 'URI', value: 'spiffe://td/ns/a/sa/b' },
    { type: 'IP Address', value: '127.0.0.1' },
  ]);
  // Node quotes values with special characters (CVE-2021-44532): one entry, not two.
  assert.deepEqual(subjectAltNameEntries('URI:"spiffe://td/ns/a/sa/b, URI:spiffe://td/ns/x/sa/y"'), [
    { type: 'URI', value: 'spiffe://td/ns/a/sa/b, URI:spiffe://td/ns/x/sa/y' },
  ]);
});

test('a certificate names a SPIFFE identity only with exactly one valid URI SAN', () => {
  assert.equal(spiffeIdOfSubjectAltName('URI:spiffe://td/ns/a/sa/b'), 'spiffe://td/ns/a/sa/b');
  assert.equal(spiffeIdOfSubjectAltName('URI:spiffe://td/ns/a/sa/b, URI:spiffe://td/ns/c/sa/d'), undefined);
  assert.equal(spiffeIdOfSubjectAltName('DNS:reviews.default.svc'), undefined);
  assert.equal(spiffeIdOfSubjectAltName('URI:"spiffe://td/ns/a/sa/b, URI:spiffe://td/ns/x/sa/y"'), undefined);
  assert.equal(spiffeIdOfSubjectAltName(undefined), undefined);
});
