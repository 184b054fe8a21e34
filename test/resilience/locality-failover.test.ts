import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { ManualClock } from '../../src/shared/clock.js';
import { assignLocalityPriorities } from '../../src/shared/locality-priority.js';
import { Host, parseLocality } from '../../src/sidecar/upstream/lb/host.js';
import { createLoadBalancer } from '../../src/sidecar/upstream/lb/load-balancer.js';
import type { LoadBalancer } from '../../src/sidecar/upstream/lb/types.js';
import { outlierConfig } from '../../src/sidecar/upstream/outlier/config.js';
import { OutlierDetector } from '../../src/sidecar/upstream/outlier/detector.js';
import { CONNECT_FAILURE, RESET, responseOutcome } from '../../src/sidecar/upstream/outlier/outcome.js';

/** helloworld in four localities, as in Istio's locality failover task. */
const LOCALITIES = ['region1/zone1', 'region1/zone2', 'region2/zone3', 'region3/zone4'];
const servers = new Map<string, Server>();
let hosts: Host[];

before(async () => {
  for (const locality of LOCALITIES) {
    const server = createServer((_req, res) =>
      res.end(`Hello version: ${locality}, instance: helloworld-${locality}`),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.set(locality, server);
  }
  // The control plane's part: priorities for a client in region1/zone1 with `failover: region1 → region2`.
  const placements = assignLocalityPriorities({
    client: { locality: 'region1/zone1' },
    endpoints: LOCALITIES.map((locality) => ({ locality })),
    setting: { enabled: true, failover: [{ from: 'region1', to: 'region2' }] },
    outlierDetection: true,
  });
  hosts = LOCALITIES.map(
    (locality, i) =>
      new Host({
        address: '127.0.0.1',
        port: (servers.get(locality)!.address() as { port: number }).port,
        locality: parseLocality(locality),
        priority: placements[i]!.priority,
      }),
  );
});

after(() => {
  for (const s of servers.values()) {
    s.closeAllConnections();
    s.close();
  }
});

test('traffic stays local, then fails over zone → region → the failover region → the rest, one ejection at a time', async () => {
  // outlierDetection {consecutive5xx: 1, interval: 1s, baseEjectionTime: 1m}; maxEjectionPercent 100 so
  // that three of four hosts may be out at once (at Envoy's default 10% none of four could be).
  const clock = new ManualClock();
  // Istio sets healthy_panic_threshold to minHealthPercent (0) whenever outlier detection is on.
  const build = () =>
    createLoadBalancer({ policy: { type: 'ROUND_ROBIN' }, hosts, healthyPanicThreshold: 0 });
  let lb: LoadBalancer = build();
  const detector = new OutlierDetector({
    cluster: 'outbound|5000||helloworld.sample.svc.cluster.local',
    config: outlierConfig({
      consecutive5xx: 1,
      intervalMs: 1000,
      baseEjectionTimeMs: 60_000,
      maxEjectionPercent: 100,
    }),
    clock,
    onEvent: () => {
      lb = build();
    },
  });
  detector.setHosts(hosts);
  detector.start();

  const call = async (): Promise<string> => {
    const host = lb.pick();
    if (!host) return 'no healthy upstream';
    try {
      const res = await fetch(`http://${host.key}/hello`);
      const body = await res.text();
      detector.record(host, responseOutcome(res.status));
      return body.replace(/, instance: .*/, '');
    } catch (e) {
      const code = (e as { cause?: { code?: string } }).cause?.code;
      detector.record(host, code === 'ECONNREFUSED' ? CONNECT_FAILURE : RESET);
      return 'upstream connect error';
    }
  };
  const drain = async (locality: string) => {
    const server = servers.get(locality)!;
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  };

  const seen: string[] = [];
  for (let i = 0; i < 3; i++) seen.push(await call());
  for (const locality of LOCALITIES.slice(0, 3)) {
    await drain(locality);
    seen.push(await call());
    for (let i = 0; i < 3; i++) seen.push(await call());
  }
  assert.deepEqual(seen, [
    ...Array(3).fill('Hello version: region1/zone1'),
    'upstream connect error',
    ...Array(3).fill('Hello version: region1/zone2'),
    'upstream connect error',
    ...Array(3).fill('Hello version: region2/zone3'),
    'upstream connect error',
    ...Array(3).fill('Hello version: region3/zone4'),
  ]);
  assert.equal(detector.stats.ejections_active, 3);
  detector.stop();
});
