import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { ManualClock } from '../../../shared/clock.js';
import { OutlierDetectionSchema } from '../../../xds/gen/envoy/config/cluster/v3/outlier_detection_pb.js';
import { makeHosts, seededRandom } from '../lb/conformance.js';
import type { Host } from '../lb/host.js';
import { createLoadBalancer } from '../lb/load-balancer.js';
import { type OutlierDetectionConfig, outlierConfig, outlierConfigFromProto } from './config.js';
import { OutlierDetector, type OutlierEvent, outlierEventJson } from './detector.js';
import { healthFlags } from './health-flags.js';
import { CONNECT_FAILURE, responseOutcome, TIMEOUT } from './outcome.js';

const CLUSTER = 'outbound|9080||reviews.default.svc.cluster.local';

function setup(partial: Partial<OutlierDetectionConfig> = {}, n = 10) {
  const clock = new ManualClock();
  const events: OutlierEvent[] = [];
  const hosts = makeHosts(n);
  const detector = new OutlierDetector({
    cluster: CLUSTER,
    config: outlierConfig({ maxEjectionPercent: 100, ...partial }),
    clock,
    random: seededRandom(1),
    onEvent: (e) => events.push(e),
  });
  detector.setHosts(hosts);
  detector.start();
  const fail = (h: Host, times: number, status = 500) => {
    for (let i = 0; i < times; i++) detector.record(h, responseOutcome(status));
  };
  return { clock, events, hosts, detector, fail };
}

describe('consecutive errors', () => {
  test('5 consecutive 5xx eject a host (Envoy default), with stats and an event', () => {
    const { hosts, detector, events, fail } = setup();
    fail(hosts[0]!, 4);
    assert.equal(hosts[0]!.live.outlierEjected, false);
    fail(hosts[0]!, 1);
    assert.equal(hosts[0]!.live.outlierEjected, true);
    assert.equal(healthFlags(hosts[0]!), '/failed_outlier_check');
    assert.equal(detector.stats.ejections_active, 1);
    assert.equal(detector.stats.ejections_enforced_total, 1);
    assert.equal(detector.stats.ejections_enforced_consecutive_5xx, 1);
    assert.equal(detector.stats.ejections_detected_consecutive_5xx, 1);
    assert.equal(events.length, 1);
    assert.deepEqual(
      { ...outlierEventJson(events[0]!), timestamp: undefined },
      {
        timestamp: undefined,
        cluster_name: CLUSTER,
        upstream_url: '10.0.0.1:8080',
        action: 'EJECT',
        num_ejections: 1,
        type: 'CONSECUTIVE_5XX',
        enforced: true,
        eject_consecutive_event: {},
      },
    );
  });

  test('a success in between starts the count over', () => {
    const { hosts, fail, detector } = setup();
    fail(hosts[0]!, 4);
    detector.record(hosts[0]!, responseOutcome(200));
    fail(hosts[0]!, 4);
    assert.equal(hosts[0]!.live.outlierEjected, false);
    assert.equal(detector.hostView(hosts[0]!)!.consecutive5xx, 4);
  });

  test('connect failures and timeouts count as 503 and 504 when origins are not split', () => {
    const { hosts, detector } = setup({ consecutive5xx: 3 });
    detector.record(hosts[0]!, CONNECT_FAILURE);
    detector.record(hosts[0]!, TIMEOUT);
    detector.record(hosts[0]!, CONNECT_FAILURE);
    assert.equal(hosts[0]!.live.outlierEjected, true);
  });

  test('gateway errors (502/503/504) eject on their own count and also count as 5xx', () => {
    const { hosts, detector, fail } = setup({
      consecutive5xx: 10,
      consecutiveGatewayFailure: 3,
      enforcingConsecutiveGatewayFailure: 100,
    });
    fail(hosts[0]!, 2, 503);
    fail(hosts[0]!, 1, 500);
    fail(hosts[0]!, 2, 502);
    assert.equal(hosts[0]!.live.outlierEjected, false, 'a 500 breaks a run of gateway errors');
    fail(hosts[0]!, 1, 504);
    assert.equal(hosts[0]!.live.outlierEjected, true);
    assert.equal(detector.stats.ejections_enforced_consecutive_gateway_failure, 1);
  });

  test("with Envoy's default enforcing (gateway 0%), a gateway run is detected but the 5xx rule ejects", () => {
    const { hosts, detector, events, fail } = setup();
    fail(hosts[0]!, 5, 503);
    assert.equal(detector.stats.ejections_detected_consecutive_gateway_failure, 1);
    assert.equal(detector.stats.ejections_enforced_consecutive_gateway_failure, 0);
    assert.equal(detector.stats.ejections_enforced_consecutive_5xx, 1);
    assert.deepEqual(
      events.map((e) => [e.type, e.enforced]),
      [
        ['CONSECUTIVE_GATEWAY_FAILURE', false],
        ['CONSECUTIVE_5XX', true],
      ],
    );
  });

  test('split origins: local failures have their own count, responses reset it', () => {
    const { hosts, detector, fail } = setup({
      splitExternalLocalOriginErrors: true,
      consecutiveLocalOriginFailure: 3,
    });
    detector.record(hosts[0]!, CONNECT_FAILURE);
    detector.record(hosts[0]!, TIMEOUT);
    fail(hosts[0]!, 4, 503);
    assert.equal(detector.hostView(hosts[0]!)!.consecutiveLocalOriginFailure, 0, 'a response resets it');
    for (let i = 0; i < 3; i++) detector.record(hosts[1]!, CONNECT_FAILURE);
    assert.equal(hosts[1]!.live.outlierEjected, true);
    assert.equal(detector.stats.ejections_enforced_consecutive_local_origin_failure, 1);
    assert.equal(detector.hostView(hosts[1]!)!.consecutive5xx, 0, 'local failures are not 5xx when split');
  });

  test('enforcing 0% detects and reports but never ejects', () => {
    const { hosts, detector, events, fail } = setup({ enforcingConsecutive5xx: 0 });
    fail(hosts[0]!, 5);
    assert.equal(hosts[0]!.live.outlierEjected, false);
    assert.equal(detector.stats.ejections_detected_consecutive_5xx, 1);
    assert.equal(events[0]!.enforced, false);
  });
});

describe('ejection time', () => {
  test('grows with repeated ejections (base × n) and decays after healthy intervals', () => {
    const { clock, hosts, detector, fail, events } = setup({
      intervalMs: 10_000,
      baseEjectionTimeMs: 30_000,
    });
    const h = hosts[0]!;
    fail(h, 5);
    assert.equal(detector.hostView(h)!.ejectionDurationMs, 30_000);
    clock.advance(20_000);
    assert.equal(h.live.outlierEjected, true);
    clock.advance(10_000);
    assert.equal(h.live.outlierEjected, false, 'back after 30 s');
    fail(h, 5);
    assert.equal(detector.hostView(h)!.ejectionDurationMs, 60_000, 'second ejection in a row: 2 × base');
    clock.advance(50_000);
    assert.equal(h.live.outlierEjected, true);
    clock.advance(10_000);
    assert.equal(h.live.outlierEjected, false);
    // Two healthy intervals take the backoff from 2 back to 0.
    clock.advance(20_000);
    fail(h, 5);
    assert.equal(detector.hostView(h)!.ejectionDurationMs, 30_000);
    assert.deepEqual(
      events.map((e) => e.action),
      ['EJECT', 'UNEJECT', 'EJECT', 'UNEJECT', 'EJECT'],
    );
    assert.equal(events[4]!.numEjections, 3);
  });

  test('is capped by max_ejection_time', () => {
    const { clock, hosts, detector, fail } = setup({ baseEjectionTimeMs: 10_000, maxEjectionTimeMs: 25_000 });
    const h = hosts[0]!;
    for (let i = 0; i < 5; i++) {
      fail(h, 5);
      // Hosts come back at the first interval sweep after their time is up.
      clock.advance(Math.ceil(detector.hostView(h)!.ejectionDurationMs! / 10_000) * 10_000);
      assert.equal(h.live.outlierEjected, false);
    }
    fail(h, 5);
    assert.equal(detector.hostView(h)!.ejectionDurationMs, 25_000);
  });
});

describe('max_ejection_percent', () => {
  test('caps how many hosts are out at once; refused ejections count as overflow', () => {
    const { hosts, detector, fail } = setup({ maxEjectionPercent: 20 });
    for (const h of hosts) fail(h, 5);
    assert.equal(hosts.filter((h) => h.live.outlierEjected).length, 2);
    assert.equal(detector.stats.ejections_overflow, 8);
  });

  test('a 3-host cluster at the default 10% ejects nobody unless always_eject_one_host is set', () => {
    const strict = setup({ maxEjectionPercent: 10 }, 3);
    strict.fail(strict.hosts[0]!, 5);
    assert.equal(strict.hosts[0]!.live.outlierEjected, false);
    const lenient = setup({ maxEjectionPercent: 10, alwaysEjectOneHost: true }, 3);
    lenient.fail(lenient.hosts[0]!, 5);
    lenient.fail(lenient.hosts[1]!, 5);
    assert.equal(lenient.hosts[0]!.live.outlierEjected, true, 'one host can always be ejected');
    assert.equal(lenient.hosts[1]!.live.outlierEjected, false, 'but only one');
  });
});

test('a removed host leaves the ejection count', () => {
  const { hosts, detector, fail } = setup();
  fail(hosts[0]!, 5);
  detector.setHosts(hosts.slice(1));
  assert.equal(detector.stats.ejections_active, 0);
  assert.equal(hosts[0]!.live.outlierEjected, false);
});

test('minHealthPercent: below it the balancer panics and sends traffic to ejected hosts too', () => {
  const hosts = makeHosts(4);
  const detector = new OutlierDetector({
    cluster: CLUSTER,
    config: outlierConfig({ maxEjectionPercent: 100, consecutive5xx: 1 }),
    clock: new ManualClock(),
  });
  detector.setHosts(hosts);
  for (const h of hosts.slice(1)) detector.record(h, responseOutcome(500));
  const picked = (minHealthPercent: number) => {
    const lb = createLoadBalancer({
      policy: { type: 'ROUND_ROBIN' },
      hosts,
      healthyPanicThreshold: minHealthPercent,
      random: seededRandom(2),
    });
    return new Set(Array.from({ length: 40 }, () => lb.pick()?.key));
  };
  // Istio's default minHealthPercent 0: only the one healthy host.
  assert.deepEqual([...picked(0)], ['10.0.0.1:8080']);
  // minHealthPercent 50 and 25% healthy: panic, every host serves.
  assert.equal(picked(50).size, 4);
});

describe('config from the cluster', () => {
  test("an empty outlier_detection means Envoy's defaults", () => {
    const c = outlierConfigFromProto(create(OutlierDetectionSchema, {}))!;
    assert.equal(c.consecutive5xx, 5);
    assert.equal(c.intervalMs, 10_000);
    assert.equal(c.baseEjectionTimeMs, 30_000);
    assert.equal(c.maxEjectionPercent, 10);
    assert.equal(c.enforcingConsecutiveGatewayFailure, 0);
    assert.equal(outlierConfigFromProto(undefined), undefined);
  });

  test("Istio's circuit-breaking task settings decode as written", () => {
    // consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 3m, maxEjectionPercent: 100
    const c = outlierConfigFromProto(
      create(OutlierDetectionSchema, {
        consecutive5xx: 1,
        enforcingConsecutive5xx: 100,
        enforcingSuccessRate: 0,
        interval: { seconds: 1n, nanos: 0 },
        baseEjectionTime: { seconds: 180n, nanos: 0 },
        maxEjectionPercent: 100,
      }),
    )!;
    assert.equal(c.consecutive5xx, 1);
    assert.equal(c.baseEjectionTimeMs, 180_000);
    assert.equal(c.maxEjectionTimeMs, 300_000);
  });

  test('max_ejection_time below base_ejection_time is refused, naming the cluster', () => {
    assert.throws(
      () =>
        outlierConfigFromProto(
          create(OutlierDetectionSchema, {
            baseEjectionTime: { seconds: 60n, nanos: 0 },
            maxEjectionTime: { seconds: 10n, nanos: 0 },
          }),
          CLUSTER,
        ),
      /outlier_detection of cluster "outbound\|9080\|\|reviews.default.svc.cluster.local": max_ejection_time 10000ms is smaller than base_ejection_time 60000ms/,
    );
  });
});
