// x-forwarded-for: Envoy's six documented examples and its internal-address rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forwardedFacts, isInternalAddress } from './forwarded.js';

test('internal addresses: RFC 1918, RFC 4193, and exactly the loopback address', () => {
  for (const a of [
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '127.0.0.1',
    '::1',
    'fd00::1',
    '::ffff:10.0.0.1',
  ]) {
    assert.equal(isInternalAddress(a), true, a);
  }
  for (const a of ['172.32.0.1', '8.8.8.8', '127.0.0.2', '2001:db8::1', 'not-an-ip'])
    assert.equal(isInternalAddress(a), false, a);
});

test('example 1: edge, no trusted proxy — the peer is the client and is appended', () => {
  const f = forwardedFacts({
    xff: ['203.0.113.128, 203.0.113.10, 203.0.113.1'],
    remoteAddress: '192.0.2.5',
    useRemoteAddress: true,
    trustedHops: 0,
  });
  assert.deepEqual(f, {
    clientAddress: '192.0.2.5',
    internal: false,
    xff: '203.0.113.128, 203.0.113.10, 203.0.113.1, 192.0.2.5',
  });
});

test('example 2: internal proxy behind that edge — the last XFF address is the client, XFF untouched', () => {
  const f = forwardedFacts({
    xff: ['203.0.113.128, 203.0.113.10, 203.0.113.1, 192.0.2.5'],
    remoteAddress: '10.11.12.13',
    useRemoteAddress: false,
    trustedHops: 0,
  });
  assert.deepEqual(f, { clientAddress: '192.0.2.5', internal: false, xff: undefined });
});

test('examples 3 and 4: two trusted hops', () => {
  const edge = forwardedFacts({
    xff: ['203.0.113.128, 203.0.113.10, 203.0.113.1'],
    remoteAddress: '192.0.2.5',
    useRemoteAddress: true,
    trustedHops: 2,
  });
  assert.equal(edge.clientAddress, '203.0.113.10');
  const inner = forwardedFacts({
    xff: ['203.0.113.128, 203.0.113.10, 203.0.113.1, 192.0.2.5'],
    remoteAddress: '10.11.12.13',
    useRemoteAddress: false,
    trustedHops: 2,
  });
  assert.equal(inner.clientAddress, '203.0.113.10');
});

test('examples 5 and 6: an internal client, then the same behind another Envoy', () => {
  const direct = forwardedFacts({
    xff: [],
    remoteAddress: '10.20.30.40',
    useRemoteAddress: false,
    trustedHops: 0,
  });
  assert.deepEqual(direct, { clientAddress: '10.20.30.40', internal: false, xff: undefined });
  const proxied = forwardedFacts({
    xff: ['10.20.30.40'],
    remoteAddress: '10.20.30.50',
    useRemoteAddress: false,
    trustedHops: 0,
  });
  assert.deepEqual(proxied, { clientAddress: '10.20.30.40', internal: true, xff: undefined });
});

test('with use_remote_address, an internal peer without XFF is internal; any XFF makes it external', () => {
  assert.equal(
    forwardedFacts({ xff: [], remoteAddress: '10.0.0.1', useRemoteAddress: true, trustedHops: 0 }).internal,
    true,
  );
  assert.equal(
    forwardedFacts({ xff: ['10.0.0.2'], remoteAddress: '10.0.0.1', useRemoteAddress: true, trustedHops: 0 })
      .internal,
    false,
  );
});
