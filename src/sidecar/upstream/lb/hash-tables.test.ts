import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Host } from './host.js';
import { MaglevTable } from './maglev.js';
import { RingHashTable } from './ring-hash.js';
import { combineHashes, xxHash64 } from './xxhash64.js';

const hosts = [1, 2, 3].map((i) => new Host({ address: `10.0.0.${i}`, port: 80 }));

test('xxHash64 matches the reference vectors', () => {
  assert.equal(xxHash64('').toString(16), 'ef46db3751d8e999');
  assert.equal(xxHash64('a').toString(16), 'd24ec4f1a98c6e5b');
  assert.equal(xxHash64('abc').toString(16), '44bc2cf5ad770999');
  assert.equal(xxHash64('Nobody inspects the spammish repetition').toString(16), 'fbcea83c8a378bf1');
});

test('several hash policies combine order-sensitively, as Envoy rotates and xors them', () => {
  const a = xxHash64('user-1');
  const b = xxHash64('10.1.2.3');
  assert.equal(combineHashes([a]), a);
  assert.notEqual(combineHashes([a, b]), combineHashes([b, a]));
  assert.equal(combineHashes([]), undefined);
});

test('the ring gives each host entries in proportion to its weight, the minimum size in total', () => {
  const ring = new RingHashTable([
    { host: hosts[0]!, weight: 0.25 },
    { host: hosts[1]!, weight: 0.75 },
  ]);
  const per = ring.entriesPerHost();
  assert.equal(ring.size, 1024);
  assert.equal(per.get('10.0.0.1:80'), 256);
  assert.equal(per.get('10.0.0.2:80'), 768);
});

test('a ring whose minimum exceeds its maximum is refused with both numbers', () => {
  assert.throws(
    () => new RingHashTable([{ host: hosts[0]!, weight: 1 }], { minimumRingSize: 10, maximumRingSize: 5 }),
    /minimum_ring_size 10 is larger than maximum_ring_size 5/,
  );
});

test('the Maglev table fills every slot, in proportion to weight', () => {
  const table = new MaglevTable(
    [
      { host: hosts[0]!, weight: 0.5 },
      { host: hosts[1]!, weight: 0.25 },
      { host: hosts[2]!, weight: 0.25 },
    ],
    65537,
  );
  const per = table.entriesPerHost();
  assert.equal(
    [...per.values()].reduce((a, b) => a + b, 0),
    65537,
  );
  assert.ok(Math.abs(per.get('10.0.0.1:80')! / 65537 - 0.5) < 0.001);
  assert.ok(Math.abs(per.get('10.0.0.2:80')! / 65537 - 0.25) < 0.001);
});

test('a Maglev table size that is not prime is refused', () => {
  assert.throws(
    () => new MaglevTable([{ host: hosts[0]!, weight: 1 }], 65536),
    /65536 must be a prime number/,
  );
});
