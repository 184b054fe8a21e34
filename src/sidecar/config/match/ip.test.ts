// Address parsing, canonical forms and CIDR containment for filter chains and listener lookup.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressKey, cidrContains, compileCidr, formatIp, parseIp } from './ip.js';

test('addresses parse to one canonical form; IPv4-mapped IPv6 (dual-stack sockets) reads as IPv4', () => {
  assert.equal(formatIp(parseIp('10.96.0.1')!), '10.96.0.1');
  assert.equal(formatIp(parseIp('::ffff:10.96.0.1')!), '10.96.0.1');
  assert.equal(formatIp(parseIp('2001:0db8:0000:0000:0000:0000:0000:0001')!), '2001:db8::1');
  assert.equal(formatIp(parseIp('fe80::1%eth0')!), 'fe80::1');
  assert.equal(parseIp('reviews'), undefined);
  assert.equal(addressKey(parseIp('::1')!, 15001), '[::1]:15001');
});

test('CIDR ranges contain exactly the addresses of their prefix, per family', () => {
  const v4 = compileCidr('10.96.0.0', 16)!;
  assert.equal(cidrContains(v4, parseIp('10.96.255.1')!), true);
  assert.equal(cidrContains(v4, parseIp('10.97.0.1')!), false);
  assert.equal(cidrContains(v4, parseIp('fd00::1')!), false);
  // Host bits in the configured address are cleared, as Envoy's CidrRange does.
  assert.equal(compileCidr('10.96.3.7', 16)!.key, '10.96.0.0/16');
  const v6 = compileCidr('fd00::', 8)!;
  assert.equal(cidrContains(v6, parseIp('fdff::1')!), true);
  assert.equal(cidrContains(v6, parseIp('fe00::1')!), false);
  assert.equal(cidrContains(compileCidr('0.0.0.0', 0)!, parseIp('1.2.3.4')!), true);
  assert.equal(compileCidr('10.0.0.0', 33), undefined);
});
