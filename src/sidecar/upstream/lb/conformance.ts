// The one conformance suite every load balancer runs: distribution, weights, stickiness, churn, panic, retries.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Host, type HostInit } from './host.js';
import { createLoadBalancer } from './load-balancer.js';
import {
  createLbStats,
  type LbPolicy,
  type LoadBalancer,
  type LoadBalancerOptions,
  previousHostsPredicate,
} from './types.js';
import { xxHash64 } from './xxhash64.js';

export interface ConformanceCapabilities {
  /** Picks follow host weights (all but RANDOM, which like Envoy's ignores them). */
  weighted: boolean;
  /** Same request hash, same host (RING_HASH, MAGLEV). */
  sticky: boolean;
  /** Allowed relative deviation of a host's share from its expected share. */
  tolerance: number;
  /**
   * Hash balancers: the most keys that may move when one host joins or leaves, as a multiple of the
   * ideal 1/N. Envoy's ring resizes (ceil(1024/N) entries per host), so it moves more than Maglev.
   */
  remapFactor?: number;
}

/** A small seeded PRNG (mulberry32), so every run of the suite sees the same picks. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeHosts(n: number, extra: (i: number) => Partial<HostInit> = () => ({})): Host[] {
  return Array.from(
    { length: n },
    (_, i) => new Host({ address: `10.0.0.${i + 1}`, port: 8080, ...extra(i) }),
  );
}

/** Counts picks per host key; hash balancers get a fresh random request hash per pick. */
export function countPicks(
  lb: LoadBalancer,
  picks: number,
  random: () => number,
  sticky: boolean,
): Map<string, number> {
  const counts = new Map<string, number>();
  const ctx: { hash?: bigint } = {};
  for (let i = 0; i < picks; i++) {
    if (sticky) ctx.hash = xxHash64(`request-${Math.floor(random() * 1e12)}`);
    const host = lb.pick(ctx);
    const key = host?.key ?? 'none';
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function assertShares(counts: Map<string, number>, expected: Map<string, number>, tolerance: number) {
  let total = 0;
  for (const c of counts.values()) total += c;
  for (const [key, share] of expected) {
    const got = (counts.get(key) ?? 0) / total;
    assert.ok(
      Math.abs(got - share) <= share * tolerance,
      `host ${key}: share ${(got * 100).toFixed(2)}% expected ${(share * 100).toFixed(2)}% ±${tolerance * 100}%`,
    );
  }
}

export function runLoadBalancerConformance(policy: LbPolicy, caps: ConformanceCapabilities): void {
  const build = (opts: Partial<LoadBalancerOptions> & { hosts: readonly Host[] }, seed = 7) =>
    createLoadBalancer({ policy, random: seededRandom(seed), ...opts });

  describe(`load balancer conformance: ${policy.type}`, () => {
    test('spreads picks evenly over hosts of equal weight', () => {
      const hosts = makeHosts(4);
      const counts = countPicks(build({ hosts }), 40_000, seededRandom(1), caps.sticky);
      assertShares(counts, new Map(hosts.map((h) => [h.key, 0.25])), caps.tolerance);
    });

    test(caps.weighted ? 'follows host weights' : 'ignores host weights, as Envoy does', () => {
      const hosts = makeHosts(4, (i) => ({ weight: i + 1 }));
      const counts = countPicks(build({ hosts }), 50_000, seededRandom(2), caps.sticky);
      const expected = new Map(hosts.map((h) => [h.key, caps.weighted ? h.weight / 10 : 0.25]));
      assertShares(counts, expected, caps.tolerance);
    });

    test('never picks a removed host and uses a new one after an update', () => {
      const before = makeHosts(4);
      const after = [...before.slice(1), new Host({ address: '10.0.1.9', port: 8080 })];
      const counts = countPicks(build({ hosts: after }), 8_000, seededRandom(3), caps.sticky);
      assert.equal(counts.get(before[0]!.key), undefined, 'the removed host must not be picked');
      assert.ok((counts.get('10.0.1.9:8080') ?? 0) > 8_000 / 4 / 2, 'the new host must take its share');
    });

    test('spills to the next priority as the first loses health (50% healthy → 70/30)', () => {
      const p0 = makeHosts(10, (i) => ({ health: i < 5 ? 'HEALTHY' : 'UNHEALTHY' }));
      const p1 = Array.from(
        { length: 10 },
        (_, i) => new Host({ address: `10.1.0.${i}`, port: 80, priority: 1 }),
      );
      const lb = build({ hosts: [...p0, ...p1] });
      assert.deepEqual(lb.load.healthyLoad, [70, 30]);
      const counts = countPicks(lb, 20_000, seededRandom(4), caps.sticky);
      let toP0 = 0;
      for (const h of p0) toP0 += counts.get(h.key) ?? 0;
      assert.ok(Math.abs(toP0 / 20_000 - 0.7) < 0.03, `P0 share ${toP0 / 20_000}`);
      for (const h of p0.slice(5))
        assert.equal(counts.get(h.key), undefined, `unhealthy ${h.key} was picked`);
    });

    test('below the panic threshold it balances over all hosts, healthy or not', () => {
      const hosts = makeHosts(4, (i) => ({ health: i === 0 ? 'HEALTHY' : 'UNHEALTHY' }));
      const stats = createLbStats();
      const lb = build({ hosts, healthyPanicThreshold: 50, stats });
      assert.equal(lb.load.panic[0], true);
      const counts = countPicks(lb, 8_000, seededRandom(5), caps.sticky);
      for (const h of hosts) assert.ok((counts.get(h.key) ?? 0) > 1_000, `${h.key} got no panic traffic`);
      assert.equal(stats.lb_healthy_panic, 8_000);
    });

    test('with panic disabled (minHealthPercent 0) and no healthy host, there is no host', () => {
      const hosts = makeHosts(3, () => ({ health: 'UNHEALTHY' }));
      const lb = build({ hosts, healthyPanicThreshold: 0 });
      const counts = countPicks(lb, 100, seededRandom(6), caps.sticky);
      assert.deepEqual([...counts], [['none', 100]]);
    });

    test('an outlier-ejected host is skipped until the picker is rebuilt without the ejection', () => {
      const hosts = makeHosts(4);
      hosts[2]!.live.outlierEjected = true;
      const counts = countPicks(build({ hosts }), 4_000, seededRandom(8), caps.sticky);
      assert.equal(counts.get(hosts[2]!.key), undefined);
      hosts[2]!.live.outlierEjected = false;
      const again = countPicks(build({ hosts }), 4_000, seededRandom(8), caps.sticky);
      assert.ok((again.get(hosts[2]!.key) ?? 0) > 0);
    });

    test('a retry avoids previously tried hosts (previous_hosts, 5 selection attempts)', () => {
      const hosts = makeHosts(3);
      const lb = build({ hosts });
      const random = seededRandom(9);
      let different = 0;
      const trials = 1_000;
      for (let i = 0; i < trials; i++) {
        const hash = caps.sticky ? xxHash64(`retry-${Math.floor(random() * 1e12)}`) : undefined;
        const first = lb.pick({ hash })!;
        const second = lb.pick({
          hash,
          shouldSelectAnotherHost: previousHostsPredicate([first]),
          hostSelectionRetryCount: 5,
        })!;
        if (second.key !== first.key) different++;
      }
      assert.ok(different >= trials * 0.98, `only ${different}/${trials} retries went to another host`);
    });

    test('spreads over localities by locality weight when locality weighted LB is on', () => {
      const hosts = makeHosts(6, (i) => ({
        locality: { region: 'r', zone: i < 3 ? 'a' : 'b', subZone: '' },
        localityWeight: i < 3 ? 1 : 3,
      }));
      const counts = countPicks(
        build({ hosts, localityWeighted: true }),
        40_000,
        seededRandom(10),
        caps.sticky,
      );
      let zoneA = 0;
      for (const h of hosts.slice(0, 3)) zoneA += counts.get(h.key) ?? 0;
      assert.ok(Math.abs(zoneA / 40_000 - 0.25) <= 0.25 * caps.tolerance, `zone a share ${zoneA / 40_000}`);
    });

    if (caps.sticky) {
      test('the same request hash always lands on the same host, on every proxy', () => {
        const hosts = makeHosts(5);
        const a = build({ hosts }, 1);
        const b = build({ hosts: makeHosts(5).reverse() }, 2);
        for (let i = 0; i < 1_000; i++) {
          const hash = xxHash64(`user-${i}`);
          const first = a.pick({ hash })!.key;
          assert.equal(a.pick({ hash })!.key, first);
          assert.equal(b.pick({ hash })!.key, first);
        }
      });

      test('adding or removing a host remaps about 1/N of the keys', (t) => {
        const keys = Array.from({ length: 10_000 }, (_, i) => xxHash64(`session-${i}`));
        const ten = makeHosts(10);
        const newcomer = new Host({ address: '10.0.0.200', port: 8080 });
        const lbTen = build({ hosts: ten });
        const lbEleven = build({ hosts: [...ten, newcomer] });
        const lbNine = build({ hosts: ten.filter((_, i) => i !== 4) });
        let movedOnAdd = 0;
        let movedToNew = 0;
        let movedOnRemove = 0;
        let movedNeedlessly = 0;
        for (const hash of keys) {
          const before = lbTen.pick({ hash })!.key;
          const added = lbEleven.pick({ hash })!.key;
          if (added !== before) {
            movedOnAdd++;
            if (added === newcomer.key) movedToNew++;
          }
          const removed = lbNine.pick({ hash })!.key;
          if (removed !== before) {
            movedOnRemove++;
            if (before !== ten[4]!.key) movedNeedlessly++;
          }
        }
        const add = movedOnAdd / keys.length;
        const remove = movedOnRemove / keys.length;
        t.diagnostic(
          `add a 11th host: ${(add * 100).toFixed(2)}% of keys moved (ideal ${(100 / 11).toFixed(2)}%), ` +
            `${((movedToNew / movedOnAdd) * 100).toFixed(1)}% of them to the new host; remove 1 of 10: ` +
            `${(remove * 100).toFixed(2)}% moved (ideal 10%), ${((movedNeedlessly / keys.length) * 100).toFixed(2)}% between survivors`,
        );
        const factor = caps.remapFactor ?? 1.5;
        assert.ok(add <= factor / 11, `adding a host moved ${add}`);
        assert.ok(movedToNew >= keys.length / 11 / 1.5, 'the new host must take about 1/N of the keys');
        assert.ok(remove <= factor / 10, `removing a host moved ${remove}`);
        assert.ok(
          movedNeedlessly / keys.length <= (factor - 1) / 10,
          'too many keys moved between survivors',
        );
      });
    }
  });
}
