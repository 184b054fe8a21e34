// IP parsing, CIDR ranges (IPv4, IPv6, mapped) and the client address from x-forwarded-for.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isTrellisError } from '../../shared/errors.js';
import { compileCidr, isIpAddress, remoteAddressFromXff } from './ip.js';

describe('IP addresses', () => {
  test('valid and invalid spellings', () => {
    for (const ok of [
      '10.0.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '::',
      '::1',
      'fe80::1%eth0',
      '[2001:db8::1]',
      '2001:db8:0:0:0:0:2:1',
      '::ffff:10.1.2.3',
      '64:ff9b::192.0.2.33',
    ]) {
      assert.ok(isIpAddress(ok), ok);
    }
    for (const bad of [
      '',
      '10.0.0',
      '10.0.0.1.2',
      '256.0.0.1',
      '010.0.0.1',
      '1.2.3.4:80',
      'a.b.c.d',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '12345::',
      'localhost',
      ' 10.0.0.1',
    ]) {
      assert.ok(!isIpAddress(bad), bad);
    }
  });

  test('IPv4 CIDR matching, bits beyond the prefix ignored as in Envoy', () => {
    const inNet = compileCidr({ address: '10.1.2.3', prefixLen: 16 }, 'test');
    assert.ok(inNet('10.1.0.1'));
    assert.ok(inNet('10.1.255.255'));
    assert.ok(!inNet('10.2.0.1'));
    assert.ok(!inNet('not-an-ip'));
    const odd = compileCidr({ address: '192.168.0.0', prefixLen: 23 }, 'test');
    assert.ok(odd('192.168.1.200'));
    assert.ok(!odd('192.168.2.1'));
    const host = compileCidr({ address: '127.0.0.1', prefixLen: 32 }, 'test');
    assert.ok(host('127.0.0.1') && !host('127.0.0.2'));
    const all = compileCidr({ address: '0.0.0.0', prefixLen: 0 }, 'test');
    assert.ok(all('8.8.8.8'));
    assert.ok(!all('::1'), 'an IPv4 range never matches an IPv6 address');
  });

  test("an IPv4-mapped IPv6 address (a dual-stack socket's peer) cannot dodge an IPv4 range", () => {
    const deny = compileCidr({ address: '10.0.0.0', prefixLen: 8 }, 'test');
    assert.ok(deny('::ffff:10.9.8.7'));
    assert.ok(deny('::FFFF:10.9.8.7'));
    assert.ok(deny('::ffff:a09:807'), 'hex spelling of 10.9.8.7');
    assert.ok(deny('0:0:0:0:0:ffff:10.9.8.7'));
    const mappedRange = compileCidr({ address: '::ffff:10.0.0.0', prefixLen: 104 }, 'test');
    assert.ok(mappedRange('10.3.3.3'));
  });

  test('IPv6 CIDR matching', () => {
    const net = compileCidr({ address: '2001:db8::', prefixLen: 32 }, 'test');
    assert.ok(net('2001:db8:1::1'));
    assert.ok(net('2001:0DB8:ffff::'));
    assert.ok(!net('2001:db9::1'));
    assert.ok(!net('10.0.0.1'));
    const loop = compileCidr({ address: '::1', prefixLen: 128 }, 'test');
    assert.ok(loop('::1') && loop('0:0:0:0:0:0:0:1') && !loop('::2'));
    const nibble = compileCidr({ address: 'fd00::', prefixLen: 9 }, 'test');
    assert.ok(nibble('fd7f::1') && !nibble('fd80::1'));
  });

  test('a bad range is a config error naming the policy', () => {
    for (const range of [
      { address: '10.0.0.0', prefixLen: 33 },
      { address: '::', prefixLen: 129 },
      { address: 'ten', prefixLen: 8 },
    ]) {
      assert.throws(
        () => compileCidr(range, 'RBAC policy "p"'),
        (e) => isTrellisError(e, 'RBAC_CONFIG') && e.message.includes('RBAC policy "p"'),
      );
    }
  });
});

describe('remote address from x-forwarded-for', () => {
  const direct = '10.0.0.9';
  test('use_remote_address without trusted hops: the socket peer, whatever XFF claims', () => {
    assert.equal(
      remoteAddressFromXff({
        directRemoteIp: direct,
        xff: ['1.1.1.1'],
        useRemoteAddress: true,
        xffNumTrustedHops: 0,
      }),
      direct,
    );
  });

  test('use_remote_address with N trusted hops: the Nth address from the right', () => {
    const xff = ['203.0.113.7, 198.51.100.1', '192.0.2.10'];
    const at = (hops: number) =>
      remoteAddressFromXff({ directRemoteIp: direct, xff, useRemoteAddress: true, xffNumTrustedHops: hops });
    assert.equal(at(1), '192.0.2.10');
    assert.equal(at(2), '198.51.100.1');
    assert.equal(at(3), '203.0.113.7');
    assert.equal(at(4), direct, 'fewer entries than trusted hops: fall back to the socket peer');
  });

  test('without use_remote_address: the (N+1)th from the right; malformed entries fall back', () => {
    const f = (xff: string[] | undefined, hops = 0) =>
      remoteAddressFromXff({ directRemoteIp: direct, xff, useRemoteAddress: false, xffNumTrustedHops: hops });
    assert.equal(f(['5.5.5.5, 6.6.6.6']), '6.6.6.6');
    assert.equal(f(['5.5.5.5, 6.6.6.6'], 1), '5.5.5.5');
    assert.equal(f(undefined), direct);
    assert.equal(f(['evil, 6.6.6.6'], 1), direct);
    assert.equal(f(['2001:db8::1']), '2001:db8::1');
  });
});
