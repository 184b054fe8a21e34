// The ADS server against hostile or broken peers: junk bytes, silent streams, vanishing clients, dead links.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { create, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import type { AdsServer } from '../../src/controlplane/server/ads-server.js';
import { Snapshot } from '../../src/controlplane/server/snapshot.js';
import { DiscoveryRequestSchema } from '../../src/xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { CLUSTER_TYPE } from '../../src/xds/type-urls.js';
import { snapshotWhere, startClient, startServer, within } from './harness.js';
import { edsCluster, encode, loadAssignment } from './resources.js';

const NODE = 'sidecar~127.0.0.1~test-0.default~default.svc.cluster.local';
const SOTW_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

function smallSnapshot(): Snapshot {
  return Snapshot.create([
    encode.cluster(edsCluster('outbound|80||a.default.svc.cluster.local')),
    encode.endpoint(
      loadAssignment('outbound|80||a.default.svc.cluster.local', [{ address: '127.0.0.1', port: 1 }]),
    ),
  ]);
}

function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.byteLength);
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, 5);
  return frame;
}

const cdsRequest = () =>
  grpcFrame(
    toBinary(
      DiscoveryRequestSchema,
      create(DiscoveryRequestSchema, { node: { id: NODE }, typeUrl: CLUSTER_TYPE }),
    ),
  );

/** The gRPC status of a raw HTTP/2 stream: in the trailers, or in the headers of a trailers-only answer. */
function grpcStatusOf(stream: http2.ClientHttp2Stream): Promise<http2.IncomingHttpHeaders> {
  return new Promise((resolve) => {
    stream.on('response', (h) => {
      if (h['grpc-status'] !== undefined) resolve(h);
    });
    stream.on('trailers', resolve);
  });
}

/** Resolves once the server holds no stream, queue entry, group resolution or cache watcher. */
async function drained(server: AdsServer): Promise<void> {
  await within(
    (async () => {
      while (Object.values(server.stats()).some((n) => n !== 0)) await new Promise((r) => setImmediate(r));
    })(),
    10_000,
    `server state to drain (now ${JSON.stringify(server.stats())})`,
  );
}

/** A real client still gets config: the server survived. */
async function stillServes(port: number): Promise<void> {
  const client = startClient(port, { protocol: 'sotw' });
  try {
    await snapshotWhere(client, (s) => s.clusters.size === 1, 'a client to sync after the abuse');
  } finally {
    await client.close();
  }
}

test('garbage bytes on the gRPC port are dropped without harm', async (t) => {
  const srv = await startServer();
  t.after(() => srv.close());
  srv.cache.setSnapshot(NODE, smallSnapshot());
  for (const junk of [randomBytes(4096), Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]) {
    const socket = net.connect(srv.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.resume();
    socket.end(junk);
    await within(once(socket, 'close'), 5000, 'the server to close a junk connection');
  }
  // A valid HTTP/2 stream whose gRPC message is not a DiscoveryRequest.
  const session = http2.connect(`http://127.0.0.1:${srv.port}`);
  session.on('error', () => {});
  const stream = session.request({
    ':method': 'POST',
    ':path': SOTW_PATH,
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  stream.on('error', () => {});
  const trailers = grpcStatusOf(stream);
  stream.end(grpcFrame(randomBytes(64).fill(0xff)));
  stream.resume();
  const status = await within(trailers, 5000, 'an error status for a malformed message');
  assert.notEqual(status['grpc-status'], '0');
  session.destroy();
  await drained(srv.server);
  await stillServes(srv.port);
  await drained(srv.server);
});

test('a stream that never sends its first request is closed after the timeout, and forgotten', async (t) => {
  const srv = await startServer({ firstRequestTimeoutMs: 200 });
  t.after(() => srv.close());
  srv.cache.setSnapshot(NODE, smallSnapshot());
  const session = http2.connect(`http://127.0.0.1:${srv.port}`);
  session.on('error', () => {});
  t.after(() => session.destroy());
  const stream = session.request({
    ':method': 'POST',
    ':path': SOTW_PATH,
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  stream.on('error', () => {});
  stream.resume();
  await within(
    new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (srv.server.stats().streams === 1) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
    }),
    5000,
    'the stream to open',
  );
  const trailers = await within(grpcStatusOf(stream), 5000, 'the server to end the silent stream');
  assert.equal(trailers['grpc-status'], String(grpc.status.DEADLINE_EXCEEDED));
  assert.match(
    decodeURIComponent(String(trailers['grpc-message'])),
    /no DiscoveryRequest with a node within 200 ms/,
  );
  await drained(srv.server);
});

test('a client that disconnects in the middle of a large push leaves nothing behind', async (t) => {
  const srv = await startServer();
  t.after(() => srv.close());
  // About 10 MB of clusters: the response cannot be written before the client goes.
  const big = Array.from({ length: 4000 }, (_, i) => {
    const c = edsCluster(`outbound|80||svc-${i}.default.svc.cluster.local`);
    c.altStatName = 'x'.repeat(2500);
    return encode.cluster(c);
  });
  srv.cache.setSnapshot(NODE, Snapshot.create(big));
  for (let round = 0; round < 5; round++) {
    const session = http2.connect(`http://127.0.0.1:${srv.port}`);
    session.on('error', () => {});
    const stream = session.request({
      ':method': 'POST',
      ':path': SOTW_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stream.on('error', () => {});
    stream.write(cdsRequest());
    const [chunk] = (await within(once(stream, 'data'), 5000, 'the first bytes of the push')) as [Buffer];
    assert.ok(chunk.byteLength > 0);
    session.destroy();
  }
  await drained(srv.server);
  await srv.server.pushesIdle();
  srv.cache.setSnapshot(NODE, smallSnapshot());
  await stillServes(srv.port);
});

test('1000 connect/disconnect cycles leave no server state and no heap growth', async (t) => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const srv = await startServer();
  t.after(() => srv.close());
  srv.cache.setSnapshot(NODE, smallSnapshot());
  const target = `127.0.0.1:${srv.port}`;
  const method = SOTW_PATH;
  const request = create(DiscoveryRequestSchema, { node: { id: NODE }, typeUrl: CLUSTER_TYPE });
  const serialize = () => Buffer.from(toBinary(DiscoveryRequestSchema, request));

  const cycle = async () => {
    const client = new grpc.Client(target, grpc.credentials.createInsecure());
    const call = client.makeBidiStreamRequest(method, serialize, (b: Buffer) => b);
    call.on('error', () => {});
    call.write(request);
    await once(call, 'data');
    call.cancel();
    client.close();
  };
  const heapAfterGc = async () => {
    await drained(srv.server);
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    return process.memoryUsage().heapUsed;
  };

  for (let i = 0; i < 100; i++) await cycle(); // warm up grpc-js and V8
  const before = await heapAfterGc();
  const started = performance.now();
  for (let i = 0; i < 1000; i++) await cycle();
  const elapsed = performance.now() - started;
  const after = await heapAfterGc();
  assert.deepEqual(srv.server.stats(), { streams: 0, queued: 0, ensuring: 0, watchers: 0 });
  assert.equal(srv.server.proxyStatus().length, 0);
  assert.equal(srv.server.groupsInUse().size, 0);
  assert.equal(srv.events.filter((e) => e.kind === 'connect').length, 1100);
  assert.equal(srv.events.filter((e) => e.kind === 'disconnect').length, 1100);
  const growthMb = (after - before) / 2 ** 20;
  t.diagnostic(
    `1000 cycles in ${Math.round(elapsed)} ms; heap ${(before / 2 ** 20).toFixed(1)} -> ${(after / 2 ** 20).toFixed(1)} MB`,
  );
  assert.ok(growthMb < 8, `heap grew by ${growthMb.toFixed(1)} MB over 1000 cycles`);
});

test('keepalive notices a client whose link went dead and drops its stream', async (t) => {
  const srv = await startServer({ listen: { keepaliveTimeMs: 300, keepaliveTimeoutMs: 1000 } });
  t.after(() => srv.close());
  srv.cache.setSnapshot(NODE, smallSnapshot());
  // A loopback relay we can freeze: the client's packets stop, as when its host vanishes.
  const sockets: net.Socket[] = [];
  let frozen = false;
  const relay = net.createServer((downstream) => {
    const upstream = net.connect(srv.port, '127.0.0.1');
    sockets.push(downstream, upstream);
    for (const s of [downstream, upstream]) s.on('error', () => {});
    downstream.on('data', (d) => frozen || upstream.write(d));
    upstream.on('data', (d) => frozen || downstream.write(d));
    upstream.on('close', () => downstream.destroy());
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    relay.close();
  });
  const client = startClient((relay.address() as net.AddressInfo).port, { protocol: 'delta' });
  t.after(() => client.close());
  await within(client.synced(), 10_000, 'the sync through the relay');
  assert.equal(srv.server.proxyStatus().length, 1);

  frozen = true;
  await srv.event((e) => e.kind === 'disconnect', 'the server to drop the dead client', 5000);
  await drained(srv.server);
  assert.equal(srv.server.proxyStatus().length, 0);
  assert.equal(client.snapshot?.clusters.size, 1, 'the client, cut off, keeps its config');
});
