// Server and client against each other over loopback gRPC, for both SotW and delta ADS.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Snapshot } from '../../src/controlplane/server/snapshot.js';
import { silentLogger } from '../../src/shared/log.js';
import { protoDecoders } from '../../src/sidecar/xds-client/proto-decoders.js';
import type { ProtoResources, XdsDecoders } from '../../src/sidecar/xds-client/types.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';
import { snapshotWhere, startClient, startServer, type TestServer, within } from './harness.js';
import { edsCluster, encode, httpListener, loadAssignment, routeConfig } from './resources.js';

const NODE = 'sidecar~127.0.0.1~test-0.default~default.svc.cluster.local';
const REVIEWS = 'outbound|9080||reviews.default.svc.cluster.local';
const RATINGS = 'outbound|9080||ratings.default.svc.cluster.local';

interface Mesh {
  clusters?: string[];
  endpoints?: Record<string, number[]>;
  listeners?: { port: number; route: string }[];
  routes?: { name: string; cluster: string }[];
}

function meshSnapshot(m: Mesh = {}): Snapshot {
  const clusters = m.clusters ?? [REVIEWS, RATINGS];
  const endpoints = m.endpoints ?? { [REVIEWS]: [9081, 9082], [RATINGS]: [9083] };
  const listeners = m.listeners ?? [{ port: 9080, route: '9080' }];
  const routes = m.routes ?? [{ name: '9080', cluster: REVIEWS }];
  return Snapshot.create([
    ...clusters.map((c) => encode.cluster(edsCluster(c))),
    ...Object.entries(endpoints).map(([c, ports]) =>
      encode.endpoint(
        loadAssignment(
          c,
          ports.map((port) => ({ address: '127.0.0.1', port })),
        ),
      ),
    ),
    ...listeners.map((l) => encode.listener(httpListener(l.port, l.route))),
    ...routes.map((r) => encode.route(routeConfig(r.name, ['*'], [{ to: { cluster: r.cluster } }]))),
  ]);
}

const ports = (s: { endpoints: ReadonlyMap<string, ProtoResources['endpoint']> }, cluster: string) =>
  s.endpoints
    .get(cluster)
    ?.endpoints.flatMap((l) =>
      l.lbEndpoints.map((e) =>
        e.hostIdentifier.case === 'endpoint' &&
        e.hostIdentifier.value.address?.address.case === 'socketAddress'
          ? e.hostIdentifier.value.address.address.value.portSpecifier.value
          : undefined,
      ),
    );

function acksOf(srv: TestServer, typeUrl: string, version: string) {
  return srv.event(
    (e) => e.kind === 'ack' && e.typeUrl === typeUrl && e.version === version,
    `an ACK of ${typeUrl} ${version}`,
  );
}

for (const protocol of ['sotw', 'delta'] as const) {
  test(`${protocol}: initial sync, update, endpoint-only update, removal`, async (t) => {
    const srv = await startServer();
    t.after(() => srv.close());
    srv.cache.setSnapshot(NODE, meshSnapshot());
    const client = startClient(srv.port, { protocol });
    t.after(() => client.close());

    const first = await within(client.synced(), 10_000, 'the initial sync');
    assert.deepEqual([...first.clusters.keys()].sort(), [RATINGS, REVIEWS]);
    assert.deepEqual(ports(first, REVIEWS), [9081, 9082]);
    assert.deepEqual([...first.listeners.keys()], ['0.0.0.0_9080']);
    assert.deepEqual([...first.routes.keys()], ['9080']);
    const s1 = srv.cache.getSnapshot(NODE)!;
    for (const type of [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE])
      await acksOf(srv, type, s1.version(type));
    const status = srv.server.proxyStatus();
    assert.equal(status.length, 1);
    assert.equal(status[0]!.protocol, protocol);
    assert.deepEqual(
      status[0]!.types.map((x) => x.state),
      ['SYNCED', 'SYNCED', 'SYNCED', 'SYNCED'],
    );
    assert.deepEqual(client.ackedVersions(), {
      listener: s1.version(LISTENER_TYPE),
      route: s1.version(ROUTE_TYPE),
      cluster: s1.version(CLUSTER_TYPE),
      endpoint: s1.version(ENDPOINT_TYPE),
    });

    // A route change reaches the client.
    srv.cache.setSnapshot(NODE, meshSnapshot({ routes: [{ name: '9080', cluster: RATINGS }] }));
    const routed = await snapshotWhere(
      client,
      (s) => {
        const action = s.routes.get('9080')?.virtualHosts[0]?.routes[0]?.action;
        return action?.case === 'route' && action.value.clusterSpecifier.value === RATINGS;
      },
      'the new route',
    );
    assert.equal(routed.clusters, first.clusters, 'unchanged kinds are shared between snapshots');

    // An endpoint-only change sends only EDS.
    const pushesBefore = (type: string) => srv.metrics.value('pilot_xds_pushes', { type });
    const before = {
      cds: pushesBefore('cds'),
      lds: pushesBefore('lds'),
      rds: pushesBefore('rds'),
      eds: pushesBefore('eds'),
    };
    const s3 = meshSnapshot({
      routes: [{ name: '9080', cluster: RATINGS }],
      endpoints: { [REVIEWS]: [9081, 9082, 9084], [RATINGS]: [9083] },
    });
    srv.cache.setSnapshot(NODE, s3);
    const moved = await snapshotWhere(client, (s) => ports(s, REVIEWS)?.length === 3, 'the new endpoint');
    assert.deepEqual(ports(moved, REVIEWS), [9081, 9082, 9084]);
    await acksOf(srv, ENDPOINT_TYPE, s3.version(ENDPOINT_TYPE));
    assert.equal(pushesBefore('eds'), before.eds + 1);
    assert.deepEqual(
      { cds: pushesBefore('cds'), lds: pushesBefore('lds'), rds: pushesBefore('rds') },
      { cds: before.cds, lds: before.lds, rds: before.rds },
      'no CDS, LDS or RDS push for an endpoint change',
    );
    assert.equal(moved.listeners, routed.listeners);
    assert.equal(moved.clusters, routed.clusters);

    // Removing a cluster (and its endpoints) removes it from the client.
    srv.cache.setSnapshot(
      NODE,
      meshSnapshot({
        clusters: [REVIEWS],
        endpoints: { [REVIEWS]: [9081] },
        routes: [{ name: '9080', cluster: REVIEWS }],
      }),
    );
    const removed = await snapshotWhere(client, (s) => !s.clusters.has(RATINGS), 'the removal of ratings');
    assert.deepEqual([...removed.clusters.keys()], [REVIEWS]);
    assert.deepEqual([...removed.endpoints.keys()], [REVIEWS], 'endpoints nobody references are dropped');
  });

  test(`${protocol}: a NACK keeps the old config serving; the next good config is applied`, async (t) => {
    const srv = await startServer();
    t.after(() => srv.close());
    srv.cache.setSnapshot(NODE, meshSnapshot());
    const decoders: XdsDecoders<ProtoResources> = {
      ...protoDecoders,
      cluster: (c) => {
        if (c.name.includes('bad'))
          throw new Error('lb_policy MAGLEV needs maglev_lb_config; connect_timeout is 0');
        return c;
      },
    };
    const client = startClient(srv.port, { protocol, decoders });
    t.after(() => client.close());
    const good = await within(client.synced(), 10_000, 'the initial sync');

    const bad = meshSnapshot({ clusters: [REVIEWS, RATINGS, 'outbound|80||bad.default.svc.cluster.local'] });
    srv.cache.setSnapshot(NODE, bad);
    const nack = await srv.event((e) => e.kind === 'nack', 'a NACK');
    assert.equal(nack.kind === 'nack' && nack.version, bad.version(CLUSTER_TYPE));
    assert.match(
      nack.kind === 'nack' ? nack.message : '',
      /cluster "outbound\|80\|\|bad.default.svc.cluster.local": lb_policy MAGLEV needs maglev_lb_config; connect_timeout is 0/,
    );
    assert.equal(client.snapshot, good, 'the previous snapshot keeps serving');
    assert.equal(client.lastNack()?.version, bad.version(CLUSTER_TYPE));
    const cds = srv.server.proxyStatus()[0]!.types.find((x) => x.typeUrl === CLUSTER_TYPE)!;
    assert.equal(cds.state, 'STALE');
    const firstCdsAck = srv.events.find((e) => e.kind === 'ack' && e.typeUrl === CLUSTER_TYPE);
    assert.equal(cds.acked?.version, firstCdsAck?.kind === 'ack' ? firstCdsAck.version : undefined);
    assert.equal(srv.metrics.value('pilot_total_xds_rejects', { type: 'cds' }), 1);

    // The good cluster's endpoints are there too: over SotW a missing one would only time out (15 s).
    const fixed = meshSnapshot({
      clusters: [REVIEWS, RATINGS, 'outbound|80||good.default.svc.cluster.local'],
      endpoints: {
        [REVIEWS]: [9081],
        [RATINGS]: [9083],
        'outbound|80||good.default.svc.cluster.local': [9085],
      },
    });
    srv.cache.setSnapshot(NODE, fixed);
    await snapshotWhere(
      client,
      (s) => s.clusters.has('outbound|80||good.default.svc.cluster.local'),
      'the fix',
    );
    await acksOf(srv, CLUSTER_TYPE, fixed.version(CLUSTER_TYPE));
    assert.equal(srv.server.proxyStatus()[0]!.types.find((x) => x.typeUrl === CLUSTER_TYPE)!.state, 'SYNCED');
    assert.equal(
      srv.metrics.value('pilot_total_xds_rejects', { type: 'cds' }),
      1,
      'the bad config was not resent',
    );
  });

  test(`${protocol}: a listener whose route config is missing is held back until it arrives`, async (t) => {
    const srv = await startServer();
    t.after(() => srv.close());
    srv.cache.setSnapshot(NODE, meshSnapshot());
    const client = startClient(srv.port, { protocol });
    t.after(() => client.close());
    await within(client.synced(), 10_000, 'the initial sync');

    // A new listener on 9090 names route config "9090", which the snapshot lacks; the 9080 listener now
    // also moves to a route config that does not exist yet.
    const listeners = [
      { port: 9080, route: '9080-v2' },
      { port: 9090, route: '9090' },
    ];
    const partial = meshSnapshot({ listeners });
    srv.cache.setSnapshot(NODE, partial);
    await acksOf(srv, LISTENER_TYPE, partial.version(LISTENER_TYPE));
    const held = client.snapshot!;
    assert.deepEqual([...held.listeners.keys()], ['0.0.0.0_9080'], 'the new listener is not applied');
    const l9080 = held.listeners.get('0.0.0.0_9080')!;
    assert.equal(client.resources('listener').find((r) => r.name === '0.0.0.0_9090')?.state, 'warming');
    assert.ok(l9080, 'the old 9080 listener keeps serving while its new version warms');

    srv.cache.setSnapshot(
      NODE,
      meshSnapshot({
        listeners,
        routes: [
          { name: '9080-v2', cluster: REVIEWS },
          { name: '9090', cluster: RATINGS },
        ],
      }),
    );
    const warm = await snapshotWhere(client, (s) => s.listeners.has('0.0.0.0_9090'), 'the listener to warm');
    assert.deepEqual([...warm.routes.keys()].sort(), ['9080-v2', '9090']);
    assert.notEqual(warm.listeners.get('0.0.0.0_9080'), l9080, 'the updated 9080 listener replaced the old');
  });

  test(`${protocol}: while the server is down the last snapshot serves; a restarted server is resynced`, async (t) => {
    const srv = await startServer();
    srv.cache.setSnapshot(NODE, meshSnapshot());
    const client = startClient(srv.port, { protocol });
    t.after(() => client.close());
    const before = await within(client.synced(), 10_000, 'the initial sync');

    await srv.close();
    // Until the client notices, it still counts as connected; either way the snapshot must not change.
    assert.equal(client.snapshot, before);

    const again = await startServer({ listen: { port: srv.port } });
    t.after(() => again.close());
    again.cache.setSnapshot(
      NODE,
      meshSnapshot({
        endpoints: { [REVIEWS]: [9091], [RATINGS]: [9083] },
        routes: [{ name: '9080', cluster: RATINGS }],
      }),
    );
    const routesTo = (s: typeof before) => {
      const action = s.routes.get('9080')?.virtualHosts[0]?.routes[0]?.action;
      return action?.case === 'route' ? action.value.clusterSpecifier.value : undefined;
    };
    const after = await snapshotWhere(
      client,
      (s) => ports(s, REVIEWS)?.[0] === 9091 && routesTo(s) === RATINGS,
      "the restarted server's config",
    );
    assert.equal(client.connected, true);
    assert.ok(client.status().reconnects >= 1);
    assert.deepEqual([...after.clusters.keys()].sort(), [RATINGS, REVIEWS]);
  });
}

test('the client keeps serving while no server is reachable, and syncs when one appears', async (t) => {
  const srv = await startServer();
  const port = srv.port;
  srv.cache.setSnapshot(NODE, meshSnapshot());
  // The client logs each ended stream; count them to know reconnect attempts failed.
  let ends = 0;
  let onEnd: () => void = () => {};
  const logger = {
    ...silentLogger,
    info: (msg: string) => {
      if (msg.startsWith('xDS stream ended')) {
        ends++;
        onEnd();
      }
    },
  };
  const client = startClient(port, { protocol: 'delta', logger });
  t.after(() => client.close());
  const served = await within(client.synced(), 10_000, 'the initial sync');
  await srv.close();
  // Several reconnect attempts fail (connection refused) while the snapshot stays.
  const target = ends + 4;
  await within(
    new Promise<void>((resolve) => {
      onEnd = () => {
        if (ends >= target) resolve();
      };
    }),
    10_000,
    'several failed reconnects',
  );
  assert.equal(client.snapshot, served);
  assert.equal(client.connected, false);
  const again = await startServer({ listen: { port } });
  t.after(() => again.close());
  again.cache.setSnapshot(NODE, meshSnapshot({ clusters: [REVIEWS], endpoints: { [REVIEWS]: [1] } }));
  await snapshotWhere(client, (s) => !s.clusters.has(RATINGS), 'the resync');
});

test('delta: a reconnect with an unchanged config transfers no resources and keeps the same snapshot', async (t) => {
  const srv = await startServer();
  const snapshot = meshSnapshot();
  srv.cache.setSnapshot(NODE, snapshot);
  const client = startClient(srv.port, { protocol: 'delta' });
  t.after(() => client.close());
  const before = await within(client.synced(), 10_000, 'the initial sync');
  await srv.close();

  const again = await startServer({ listen: { port: srv.port } });
  t.after(() => again.close());
  again.cache.setSnapshot(NODE, snapshot);
  for (const type of [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE])
    await acksOf(again, type, snapshot.version(type));
  assert.equal(client.snapshot, before, 'nothing new to apply');
  for (const type of ['cds', 'eds', 'lds', 'rds']) {
    const h = again.metrics.histogram('pilot_xds_config_size_bytes', { type });
    assert.ok(
      h && h.count === 1 && h.sum < 200,
      `${type}: an empty answer, not a resend (${JSON.stringify(h)})`,
    );
  }
});

test('a delta client falls back to SotW when the server does not implement delta', async (t) => {
  const srv = await startServer({ protocols: ['sotw'] });
  t.after(() => srv.close());
  srv.cache.setSnapshot(NODE, meshSnapshot());
  const client = startClient(srv.port, { protocol: 'delta' });
  t.after(() => client.close());
  const synced = await within(client.synced(), 10_000, 'the sync after falling back');
  assert.equal(client.protocol, 'sotw');
  assert.equal(synced.clusters.size, 2);
  assert.equal(srv.server.proxyStatus()[0]?.protocol, 'sotw');
});
