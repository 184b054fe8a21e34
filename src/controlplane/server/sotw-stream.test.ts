// Unit tests: the SotW ADS state machine over an in-memory transport.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, fromBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { Cluster_DiscoveryType, ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import {
  DiscoveryRequestSchema,
  type DiscoveryResponse,
  DiscoveryResponseSchema,
} from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds/type-urls.js';
import { AdsServer } from './ads-server.js';
import type { AdsStream, StreamTransport } from './ads-stream.js';
import { SnapshotCache } from './cache.js';
import { MemoryMetrics } from './metrics.js';
import { encodeResource } from './resource.js';
import { Snapshot } from './snapshot.js';

const edsCluster = (name: string, seconds = 1) =>
  encodeResource(
    ClusterSchema,
    create(ClusterSchema, {
      name,
      connectTimeout: { seconds: BigInt(seconds) },
      clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
      edsClusterConfig: {
        serviceName: name,
        edsConfig: { configSourceSpecifier: { case: 'ads', value: {} } },
      },
    }),
  );
const cla = (name: string, weight = 1) =>
  encodeResource(
    ClusterLoadAssignmentSchema,
    create(ClusterLoadAssignmentSchema, { clusterName: name, endpoints: [{ loadBalancingWeight: weight }] }),
  );
const listener = (name: string) => encodeResource(ListenerSchema, create(ListenerSchema, { name }));
const route = (name: string, vhost = 'default') =>
  encodeResource(
    RouteConfigurationSchema,
    create(RouteConfigurationSchema, { name, virtualHosts: [{ name: vhost }] }),
  );

class MemoryTransport implements StreamTransport {
  readonly peer = { address: 'memory', transportSecurity: undefined, certificate: undefined };
  readonly responses: DiscoveryResponse[] = [];
  readonly raw: Uint8Array[] = [];
  ended: { code: number; details: string } | null | undefined;
  write(bytes: Uint8Array, done: () => void): void {
    this.raw.push(bytes);
    this.responses.push(fromBinary(DiscoveryResponseSchema, bytes));
    queueMicrotask(done);
  }
  end(status?: { code: number; details: string }): void {
    this.ended = status ?? null;
  }
  take(): DiscoveryResponse[] {
    return this.responses.splice(0);
  }
}

function harness(opts: { ensureSnapshot?: (group: string) => Promise<void> } = {}) {
  const cache = new SnapshotCache();
  const metrics = new MemoryMetrics();
  const server = new AdsServer({
    cache,
    metrics,
    ensureSnapshot: opts.ensureSnapshot ? (_p, g) => opts.ensureSnapshot!(g) : undefined,
  });
  const open = () => {
    const transport = new MemoryTransport();
    const stream = server.openStream('sotw', transport);
    return { transport, stream };
  };
  const settle = async () => {
    await new Promise((r) => setImmediate(r));
    await server.pushesIdle();
  };
  return { cache, server, metrics, open, settle };
}

const req = (init: MessageInitShape<typeof DiscoveryRequestSchema>) => create(DiscoveryRequestSchema, init);
const node = { id: 'sidecar~10.0.0.1~a.default~default.svc.cluster.local', cluster: 'a.default' };
const names = (r: DiscoveryResponse) =>
  r.resources.map((any) => {
    const m = fromBinary(
      any.typeUrl === ENDPOINT_TYPE ? ClusterLoadAssignmentSchema : (ClusterSchema as never),
      any.value,
    ) as { name?: string; clusterName?: string };
    return m.name ?? m.clusterName;
  });

function ack(stream: AdsStream, r: DiscoveryResponse, resourceNames: string[] = []) {
  stream.receive(
    req({ typeUrl: r.typeUrl, versionInfo: r.versionInfo, responseNonce: r.nonce, resourceNames }),
  );
}

test('an initial wildcard CDS request gets every cluster, and its ACK makes the proxy SYNCED', async () => {
  const h = harness();
  h.cache.setSnapshot(node.id, Snapshot.create([edsCluster('a'), edsCluster('b')]));
  const { transport, stream } = h.open();
  stream.receive(req({ node, typeUrl: CLUSTER_TYPE }));
  await h.settle();
  const [cds, ...rest] = transport.take();
  assert.equal(rest.length, 0);
  assert.equal(cds!.typeUrl, CLUSTER_TYPE);
  assert.deepEqual(names(cds!), ['a', 'b']);
  assert.equal(h.server.proxyStatus()[0]!.types[0]!.state, 'STALE (Never Acknowledged)');
  ack(stream, cds!);
  await h.settle();
  assert.equal(transport.take().length, 0, 'an ACK is not answered');
  const status = h.server.proxyStatus()[0]!;
  assert.equal(status.proxyId, node.id);
  assert.equal(status.types[0]!.state, 'SYNCED');
  assert.equal(status.types[0]!.acked?.version, cds!.versionInfo);
});

test('a push goes out in warming order (CDS, EDS, LDS, RDS) and an endpoint-only change sends only EDS', async () => {
  const h = harness();
  const s1 = Snapshot.create([
    edsCluster('a'),
    edsCluster('b'),
    cla('a'),
    cla('b'),
    listener('l'),
    route('r'),
  ]);
  h.cache.setSnapshot(node.id, s1);
  const { transport, stream } = h.open();
  // Subscribe in the "wrong" order on purpose.
  stream.receive(req({ node, typeUrl: ROUTE_TYPE, resourceNames: ['r'] }));
  stream.receive(req({ typeUrl: LISTENER_TYPE }));
  stream.receive(req({ typeUrl: ENDPOINT_TYPE, resourceNames: ['a', 'b'] }));
  stream.receive(req({ typeUrl: CLUSTER_TYPE }));
  await h.settle();
  const initial = transport.take();
  for (const r of initial)
    ack(stream, r, r.typeUrl === ROUTE_TYPE ? ['r'] : r.typeUrl === ENDPOINT_TYPE ? ['a', 'b'] : []);
  await h.settle();

  h.cache.setSnapshot(
    node.id,
    Snapshot.create([
      edsCluster('a', 2),
      edsCluster('b'),
      cla('a'),
      cla('b'),
      listener('l2'),
      route('r', 'x'),
    ]),
  );
  await h.settle();
  const push = transport.take();
  assert.deepEqual(
    push.map((r) => r.typeUrl),
    [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE],
  );
  assert.deepEqual(names(push[0]!), ['a', 'b'], 'CDS carries the complete set');
  assert.deepEqual(
    names(push[1]!),
    ['a'],
    'the changed cluster gets its endpoints again so it can finish warming',
  );
  for (const r of push)
    ack(stream, r, r.typeUrl === ROUTE_TYPE ? ['r'] : r.typeUrl === ENDPOINT_TYPE ? ['a', 'b'] : []);
  await h.settle();
  assert.equal(h.metrics.histogram('pilot_proxy_convergence_time')?.count, 1);

  h.cache.setSnapshot(
    node.id,
    Snapshot.create([
      edsCluster('a', 2),
      edsCluster('b'),
      cla('a'),
      cla('b', 7),
      listener('l2'),
      route('r', 'x'),
    ]),
  );
  await h.settle();
  const eds = transport.take();
  assert.deepEqual(
    eds.map((r) => r.typeUrl),
    [ENDPOINT_TYPE],
  );
  assert.deepEqual(names(eds[0]!), ['b'], 'only the changed ClusterLoadAssignment is sent');
  assert.equal(h.metrics.value('pilot_xds_pushes', { type: 'eds' }), 3);
  assert.equal(h.metrics.value('pilot_xds_pushes', { type: 'cds' }), 2);
});

test('a NACK is recorded, nothing is resent, and the next snapshot is sent normally', async () => {
  const h = harness();
  h.cache.setSnapshot(node.id, Snapshot.create([edsCluster('a')]));
  const { transport, stream } = h.open();
  stream.receive(req({ node, typeUrl: CLUSTER_TYPE }));
  await h.settle();
  const good = transport.take()[0]!;
  ack(stream, good);
  h.cache.setSnapshot(node.id, Snapshot.create([edsCluster('a'), edsCluster('bad')]));
  await h.settle();
  const bad = transport.take()[0]!;
  stream.receive(
    req({
      typeUrl: CLUSTER_TYPE,
      versionInfo: good.versionInfo,
      responseNonce: bad.nonce,
      errorDetail: { code: 3, message: 'cluster "bad": unsupported lb_policy' },
    }),
  );
  await h.settle();
  assert.equal(transport.take().length, 0, 'no resend loop after a NACK');
  let cds = h.server.proxyStatus()[0]!.types[0]!;
  assert.equal(cds.state, 'STALE');
  assert.equal(cds.acked?.version, good.versionInfo, 'the proxy stays on its last good version');
  assert.deepEqual(
    { version: cds.lastNack?.version, message: cds.lastNack?.message },
    { version: bad.versionInfo, message: 'cluster "bad": unsupported lb_policy' },
  );
  assert.equal(h.metrics.value('pilot_total_xds_rejects', { type: 'cds' }), 1);

  h.cache.setSnapshot(node.id, Snapshot.create([edsCluster('a'), edsCluster('fixed')]));
  await h.settle();
  const fixed = transport.take()[0]!;
  assert.deepEqual(names(fixed), ['a', 'fixed']);
  ack(stream, fixed);
  await h.settle();
  cds = h.server.proxyStatus()[0]!.types[0]!;
  assert.equal(cds.state, 'SYNCED');
  assert.equal(cds.lastNack?.message, 'cluster "bad": unsupported lb_policy', 'the last NACK stays visible');
});

test('a request with a stale nonce is ignored', async () => {
  const h = harness();
  h.cache.setSnapshot(node.id, Snapshot.create([edsCluster('a')]));
  const { transport, stream } = h.open();
  stream.receive(req({ node, typeUrl: CLUSTER_TYPE }));
  await h.settle();
  const first = transport.take()[0]!;
  h.cache.setSnapshot(node.id, Snapshot.create([edsCluster('a'), edsCluster('b')]));
  await h.settle();
  const second = transport.take()[0]!;
  // The client's ACK of the first response arrives after the second was sent; it even "NACKs" it.
  stream.receive(
    req({ typeUrl: CLUSTER_TYPE, responseNonce: first.nonce, errorDetail: { code: 3, message: 'late' } }),
  );
  await h.settle();
  assert.equal(transport.take().length, 0);
  const cds = h.server.proxyStatus()[0]!.types[0]!;
  assert.equal(cds.lastNack, undefined, 'a stale NACK is not recorded');
  assert.equal(cds.sent?.nonce, second.nonce);
  assert.equal(h.metrics.value('pilot_xds_expired_nonce', { type: 'cds' }), 1);
});

test('named subscriptions: LDS answers are complete for the names, EDS answers only new or changed names', async () => {
  const h = harness();
  h.cache.setSnapshot(
    node.id,
    Snapshot.create([listener('x:80'), listener('y:80'), listener('z:80'), cla('a'), cla('b'), cla('c')]),
  );
  const { transport, stream } = h.open();
  stream.receive(req({ node, typeUrl: LISTENER_TYPE, resourceNames: ['y:80'] }));
  // gRPC's client re-requests with more names before the first answer (both without nonce).
  stream.receive(req({ typeUrl: LISTENER_TYPE, resourceNames: ['x:80', 'y:80'] }));
  stream.receive(req({ typeUrl: ENDPOINT_TYPE, resourceNames: ['a'] }));
  await h.settle();
  const [eds, lds, ...none] = transport.take();
  assert.equal(none.length, 0, 'the two LDS requests read together get one answer');
  assert.deepEqual(names(lds!), ['x:80', 'y:80']);
  assert.deepEqual(names(eds!), ['a']);
  ack(stream, eds!, ['a', 'c']);
  await h.settle();
  const more = transport.take();
  assert.equal(more.length, 1);
  assert.deepEqual(names(more[0]!), ['c'], 'a newly requested EDS name is sent, the held one is not');
});

test('legacy wildcard: empty names stay "*", but after naming resources an empty list unsubscribes', async () => {
  const h = harness();
  h.cache.setSnapshot(node.id, Snapshot.create([cla('a'), cla('b')]));
  const { transport, stream } = h.open();
  stream.receive(req({ node, typeUrl: ENDPOINT_TYPE }));
  await h.settle();
  const all = transport.take()[0]!;
  assert.deepEqual(names(all), ['a', 'b']);
  ack(stream, all, ['a']);
  await h.settle();
  const named = transport.take();
  assert.deepEqual(names(named[0]!), ['a'], 'an explicitly requested name is (re)sent');
  ack(stream, named[0]!, []);
  await h.settle();
  h.cache.setSnapshot(node.id, Snapshot.create([cla('a', 2), cla('b', 2)]));
  await h.settle();
  assert.equal(transport.take().length, 0, 'nothing is sent to a client subscribed to nothing');
  const eds = h.server.proxyStatus()[0]!.types[0]!;
  assert.deepEqual(eds.subscribed, []);
});

test('a removed cluster disappears from the next complete CDS response', async () => {
  const h = harness();
  h.cache.setSnapshot(node.id, Snapshot.create([edsCluster('a'), edsCluster('b')]));
  const { transport, stream } = h.open();
  stream.receive(req({ node, typeUrl: CLUSTER_TYPE }));
  await h.settle();
  ack(stream, transport.take()[0]!);
  h.cache.setSnapshot(node.id, Snapshot.create([edsCluster('b')]));
  await h.settle();
  assert.deepEqual(names(transport.take()[0]!), ['b']);
});

test('proxies of one group share a snapshot computed once, lazily, on first connect', async () => {
  let computed = 0;
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let connected: () => void = () => {};
  const allConnected = new Promise<void>((r) => {
    connected = r;
  });
  let connects = 0;
  const cache = new SnapshotCache();
  const server = new AdsServer({
    cache,
    resolveGroup: (p) => String(p.node.metadata.NAMESPACE),
    ensureSnapshot: async (_p, group) => {
      computed++;
      await gate;
      cache.setSnapshot(group, Snapshot.create([edsCluster(`for-${group}`)]));
    },
    onEvent: (e) => {
      if (e.kind === 'connect' && ++connects === 3) connected();
    },
  });
  const streams = [1, 2, 3].map((i) => {
    const transport = new MemoryTransport();
    const stream = server.openStream('sotw', transport);
    stream.receive(req({ node: { id: `p${i}`, metadata: { NAMESPACE: 'shop' } }, typeUrl: CLUSTER_TYPE }));
    return transport;
  });
  // All three wait on the one computation, which is still running.
  await new Promise((r) => setImmediate(r));
  assert.equal(computed, 1);
  assert.ok(streams.every((t) => t.responses.length === 0));
  release();
  await allConnected;
  await new Promise((r) => setImmediate(r));
  await server.pushesIdle();
  assert.equal(computed, 1);
  for (const t of streams) assert.deepEqual(names(t.take()[0]!), ['for-shop']);
  assert.deepEqual(
    server.proxyStatus().map((p) => p.group),
    ['shop', 'shop', 'shop'],
  );
});

test('a stream whose first request has no node is refused with a message saying so', async () => {
  const h = harness();
  const { transport, stream } = h.open();
  stream.receive(req({ typeUrl: CLUSTER_TYPE }));
  assert.equal(transport.ended?.code, 3);
  assert.match(transport.ended?.details ?? '', /first request on an ADS stream must carry the node/);
  assert.equal(h.server.stats().streams, 0);
});

test('wildcard clients of one group get the very same response bytes, built once', async () => {
  const h = harness();
  h.cache.setSnapshot(node.id, Snapshot.create([edsCluster('a'), edsCluster('b')]));
  const a = h.open();
  const b = h.open();
  a.stream.receive(req({ node, typeUrl: CLUSTER_TYPE }));
  b.stream.receive(req({ node: { ...node, id: node.id }, typeUrl: CLUSTER_TYPE }));
  await h.settle();
  assert.equal(a.transport.raw[0], b.transport.raw[0], 'one buffer serves both streams');
  const [ra] = a.transport.take();
  const [rb] = b.transport.take();
  assert.equal(ra!.nonce, rb!.nonce);
  ack(a.stream, ra!);
  await h.settle();
  assert.deepEqual(
    h.server.proxyStatus().map((p) => p.types[0]!.state),
    ['SYNCED', 'STALE (Never Acknowledged)'],
    'ACKs are still per stream',
  );
});

test('endpoints are resent with an updated cluster for Envoy, not for the Trellis sidecar', async () => {
  for (const [userAgentName, resent] of [
    ['envoy', true],
    ['trellis', false],
  ] as const) {
    const h = harness();
    const n = { ...node, userAgentName };
    h.cache.setSnapshot(node.id, Snapshot.create([edsCluster('a'), cla('a')]));
    const { transport, stream } = h.open();
    stream.receive(req({ node: n, typeUrl: CLUSTER_TYPE }));
    stream.receive(req({ typeUrl: ENDPOINT_TYPE, resourceNames: ['a'] }));
    await h.settle();
    for (const r of transport.take()) ack(stream, r, r.typeUrl === ENDPOINT_TYPE ? ['a'] : []);
    h.cache.setSnapshot(node.id, Snapshot.create([edsCluster('a', 7), cla('a')]));
    await h.settle();
    assert.deepEqual(
      transport.take().map((r) => r.typeUrl),
      resent ? [CLUSTER_TYPE, ENDPOINT_TYPE] : [CLUSTER_TYPE],
      userAgentName,
    );
  }
});
