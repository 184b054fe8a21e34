import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runLoadBalancerConformance, seededRandom } from './conformance.js';
import { Host } from './host.js';
import { createLoadBalancer } from './load-balancer.js';

runLoadBalancerConformance({ type: 'ROUND_ROBIN' }, { weighted: true, sticky: false, tolerance: 0.03 });
runLoadBalancerConformance({ type: 'LEAST_REQUEST' }, { weighted: true, sticky: false, tolerance: 0.06 });
runLoadBalancerConformance({ type: 'RANDOM' }, { weighted: false, sticky: false, tolerance: 0.06 });
runLoadBalancerConformance(
  { type: 'RING_HASH' },
  { weighted: true, sticky: true, tolerance: 0.15, remapFactor: 2 },
);
runLoadBalancerConformance({ type: 'MAGLEV' }, { weighted: true, sticky: true, tolerance: 0.06 });

describe('ORIGINAL_DST (passthrough)', () => {
  test('the host is the original destination the caller gives', () => {
    const lb = createLoadBalancer({ policy: { type: 'ORIGINAL_DST' }, hosts: [] });
    const host = lb.pick({ originalDestination: { address: '10.9.9.9', port: 443 } })!;
    assert.equal(host.key, '10.9.9.9:443');
    host.live.requestStarted();
    const again = lb.pick({ originalDestination: { address: '10.9.9.9', port: 443 } })!;
    assert.equal(again.activeRequests, 1, 'the same destination keeps its request counter');
    assert.equal(lb.pick({ originalDestination: { address: '::1', port: 80 } })!.key, '[::1]:80');
    assert.equal(lb.pick({}), undefined, 'without an original destination there is no host');
  });
});

describe('ROUND_ROBIN', () => {
  test('visits equal hosts in strict rotation', () => {
    const hosts = ['a', 'b', 'c'].map((n, i) => new Host({ address: `10.0.0.${i}`, port: 1, hostname: n }));
    const lb = createLoadBalancer({ policy: { type: 'ROUND_ROBIN' }, hosts, random: () => 0 });
    const seq = Array.from({ length: 6 }, () => lb.pick()!.hostname).join('');
    assert.equal(seq, 'abcabc');
  });
});

describe('LEAST_REQUEST', () => {
  test('prefers the host with fewer active requests (power of two choices)', () => {
    const hosts = [0, 1].map((i) => new Host({ address: `10.0.0.${i}`, port: 1 }));
    for (let i = 0; i < 5; i++) hosts[0]!.live.requestStarted();
    const lb = createLoadBalancer({ policy: { type: 'LEAST_REQUEST' }, hosts, random: seededRandom(3) });
    let toBusy = 0;
    for (let i = 0; i < 1_000; i++) if (lb.pick() === hosts[0]) toBusy++;
    // The busy host wins only when both samples land on it: 1/4 of picks.
    assert.ok(toBusy > 180 && toBusy < 320, `busy host got ${toBusy}/1000`);
  });

  test('with unequal weights, divides weight by active requests + 1', () => {
    const hosts = [
      new Host({ address: '10.0.0.1', port: 1, weight: 2 }),
      new Host({ address: '10.0.0.2', port: 1, weight: 1 }),
    ];
    // 2 / (3 + 1) = 0.5 vs 1 / (0 + 1) = 1: the light host should now get two thirds.
    for (let i = 0; i < 3; i++) hosts[0]!.live.requestStarted();
    const lb = createLoadBalancer({ policy: { type: 'LEAST_REQUEST' }, hosts, random: seededRandom(4) });
    let light = 0;
    for (let i = 0; i < 3_000; i++) if (lb.pick() === hosts[1]) light++;
    assert.ok(Math.abs(light / 3_000 - 2 / 3) < 0.02, `light host share ${light / 3_000}`);
  });
});
