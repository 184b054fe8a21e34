// Unit tests: the delta ADS state machine over an in-memory transport.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, fromBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { Cluster_DiscoveryType, ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import {
  DeltaDiscoveryRequestSchema,
  type DeltaDiscoveryResponse,
  DeltaDiscoveryResponseSchema,
} from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE } from '../../xds/type-urls.js';
import { AdsServer } from './ads-server.js';
import type { StreamTransport } from './ads-stream.js';
import { SnapshotCache } from './cache.js';
import { encodeResource } from './resource.js';
import { Snapshot } from './snapshot.js';

const cluster = (name: string, seconds = 1) =>
  encodeResource(
    ClusterSchema,
    create(ClusterSchema, {
      name,
      connectTimeout: { seconds: BigInt(seconds) },
      clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    }),
  );
const cla = (name: string, weight = 1) =>
  encodeResource(
    ClusterLoadAssignmentSchema,
    create(ClusterLoadAssignmentSchema, { clusterName: name, endpoints: [{ loadBalancingWeight: weight }] }),
  );

class MemoryTransport implements StreamTransport {
  readonly peer = { address: 'memory', transportSecurity: undefined, certificate: undefined };
  readonly responses: DeltaDiscoveryResponse[] = [];
  write(bytes: Uint8Array, done: () => void): void {
    this.responses.push(fromBinary(DeltaDiscoveryResponseSchema, bytes));
    queueMicrotask(done);
  }
  end(): void {}
  take(): DeltaDiscoveryResponse[] {
    return this.responses.splice(0);
  }
}

const node = { id: 'sidecar~10.0.0.2~b.default~default.svc.cluster.local' };
const req = (init: MessageInitShape<typeof DeltaDiscoveryRequestSchema>) =>
  create(DeltaDiscoveryRequestSchema, init);
const sent = (r: DeltaDiscoveryResponse) => r.resources.map((x) => x.name);

function harness() {
  const cache = new SnapshotCache();
  const server = new AdsServer({ cache });
  const transport = new MemoryTransport();
  const stream = server.openStream('delta', transport);
  const settle = async () => {
    await new Promise((r) => setImmediate(r));
    await server.pushesIdle();
  };
  return { cache, server, transport, stream, settle };
}

test('delta: a wildcard subscription gets everything, then only what changed, and removals by name', async () => {
  const h = harness();
  h.cache.setSnapshot(node.id, Snapshot.create([cluster('a'), cluster('b'), cluster('c')]));
  h.stream.receive(req({ node, typeUrl: CLUSTER_TYPE }));
  await h.settle();
  const first = h.transport.take()[0]!;
  assert.deepEqual(sent(first), ['a', 'b', 'c']);
  assert.equal(first.resources[0]!.version, cluster('a').version, 'resource versions are content hashes');
  h.stream.receive(req({ typeUrl: CLUSTER_TYPE, responseNonce: first.nonce }));

  h.cache.setSnapshot(node.id, Snapshot.create([cluster('a', 9), cluster('c'), cluster('d')]));
  await h.settle();
  const second = h.transport.take()[0]!;
  assert.deepEqual(sent(second), ['a', 'd']);
  assert.deepEqual(second.removedResources, ['b']);
  h.stream.receive(req({ typeUrl: CLUSTER_TYPE, responseNonce: second.nonce }));
  await h.settle();
  assert.equal(h.server.proxyStatus()[0]!.types[0]!.state, 'SYNCED');
});

test('delta: a reconnect with initial_resource_versions gets only what differs', async () => {
  const h = harness();
  h.cache.setSnapshot(node.id, Snapshot.create([cluster('a'), cluster('b', 2), cluster('c')]));
  h.stream.receive(
    req({
      node,
      typeUrl: CLUSTER_TYPE,
      initialResourceVersions: { a: cluster('a').version, b: cluster('b').version, gone: 'v0' },
    }),
  );
  await h.settle();
  const r = h.transport.take()[0]!;
  assert.deepEqual(sent(r).sort(), ['b', 'c']);
  assert.deepEqual(r.removedResources, ['gone']);
});

test('delta: subscribing to a name that does not exist is answered in removed_resources', async () => {
  const h = harness();
  h.cache.setSnapshot(node.id, Snapshot.create([cla('a')]));
  h.stream.receive(req({ node, typeUrl: ENDPOINT_TYPE, resourceNamesSubscribe: ['a', 'missing'] }));
  await h.settle();
  const r = h.transport.take()[0]!;
  assert.deepEqual(sent(r), ['a']);
  assert.deepEqual(r.removedResources, ['missing']);
  h.stream.receive(req({ typeUrl: ENDPOINT_TYPE, responseNonce: r.nonce }));

  // It springs into existence later: the server remembers the subscription and sends it.
  h.cache.setSnapshot(node.id, Snapshot.create([cla('a'), cla('missing')]));
  await h.settle();
  assert.deepEqual(sent(h.transport.take()[0]!), ['missing']);
});

test('delta: unsubscribed names are no longer pushed; an endpoint change for others is', async () => {
  const h = harness();
  h.cache.setSnapshot(node.id, Snapshot.create([cla('a'), cla('b')]));
  h.stream.receive(req({ node, typeUrl: ENDPOINT_TYPE, resourceNamesSubscribe: ['a', 'b'] }));
  await h.settle();
  const r = h.transport.take()[0]!;
  h.stream.receive(req({ typeUrl: ENDPOINT_TYPE, responseNonce: r.nonce, resourceNamesUnsubscribe: ['b'] }));
  h.cache.setSnapshot(node.id, Snapshot.create([cla('a', 2), cla('b', 2)]));
  await h.settle();
  const push = h.transport.take();
  assert.equal(push.length, 1);
  assert.deepEqual(sent(push[0]!), ['a']);
  assert.deepEqual(push[0]!.removedResources, []);
});

test('delta: a NACK keeps the proxy on its version; a pipelined older ACK does not mark it synced', async () => {
  const h = harness();
  h.cache.setSnapshot(node.id, Snapshot.create([cluster('a')]));
  h.stream.receive(req({ node, typeUrl: CLUSTER_TYPE }));
  await h.settle();
  const r1 = h.transport.take()[0]!;
  h.cache.setSnapshot(node.id, Snapshot.create([cluster('a', 3)]));
  await h.settle();
  const r2 = h.transport.take()[0]!;
  h.stream.receive(req({ typeUrl: CLUSTER_TYPE, responseNonce: r1.nonce }));
  let cds = h.server.proxyStatus()[0]!.types[0]!;
  assert.equal(cds.state, 'STALE');
  assert.equal(cds.acked?.version, r1.systemVersionInfo);
  h.stream.receive(
    req({ typeUrl: CLUSTER_TYPE, responseNonce: r2.nonce, errorDetail: { code: 3, message: 'bad timeout' } }),
  );
  await h.settle();
  assert.equal(h.transport.take().length, 0, 'no resend after a NACK');
  cds = h.server.proxyStatus()[0]!.types[0]!;
  assert.equal(cds.lastNack?.message, 'bad timeout');
  assert.equal(cds.lastNack?.version, r2.systemVersionInfo);
});
