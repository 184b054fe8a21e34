// CIDR arithmetic and the overlap check against the host's routes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nthAddress, overlappingRoutes, overlaps, parseCidr } from './cidr.js';

test('CIDRs are normalised to their network address and count addresses from 1', () => {
  const c = parseCidr('10.213.5.9/16');
  assert.equal(c.text, '10.213.0.0/16');
  assert.equal(nthAddress(c, 1), '10.213.0.1');
  assert.equal(nthAddress(c, 258), '10.213.1.2');
  assert.throws(() => nthAddress(parseCidr('10.0.0.0/30'), 3), /has no address number 3/);
  assert.throws(() => parseCidr('10.0.0.0'), /not an IPv4 CIDR/);
});

test('overlap is checked both ways', () => {
  assert.equal(overlaps(parseCidr('10.213.0.0/16'), parseCidr('10.213.7.0/24')), true);
  assert.equal(overlaps(parseCidr('10.213.7.0/24'), parseCidr('10.0.0.0/8')), true);
  assert.equal(overlaps(parseCidr('10.213.0.0/16'), parseCidr('10.214.0.0/16')), false);
});

test('routes that overlap the pod CIDR are found in `ip -o -4 route show table all`; default and loopback are not', () => {
  const routes = [
    'default via 192.0.2.1 dev eth0',
    '10.213.0.0/16 dev docker0 proto kernel scope link src 10.213.0.1',
    'local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1',
    'broadcast 192.0.2.255 dev eth0 table local proto kernel scope link src 192.0.2.2',
    'local 10.214.3.4 dev eth1 table local proto kernel scope host src 10.214.3.4',
  ].join('\n');
  assert.deepEqual(overlappingRoutes(parseCidr('10.213.0.0/16'), routes), [
    '10.213.0.0/16 dev docker0 proto kernel scope link src 10.213.0.1',
  ]);
  assert.deepEqual(overlappingRoutes(parseCidr('10.214.0.0/16'), routes), [
    'local 10.214.3.4 dev eth1 table local proto kernel scope host src 10.214.3.4',
  ]);
  assert.deepEqual(overlappingRoutes(parseCidr('10.99.0.0/16'), routes), []);
});
