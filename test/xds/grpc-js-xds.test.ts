// The ADS server against gRPC's own proxyless xDS client (@grpc/grpc-js-xds): proof it speaks standard xDS.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { register } from '@grpc/grpc-js-xds';
import { Snapshot } from '../../src/controlplane/server/snapshot.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';
import { startServer, within } from './harness.js';
import { apiListener, edsCluster, encode, loadAssignment, routeConfig } from './resources.js';

register();

const METHOD = '/trellis.test.Echo/Who';
const identity = (b: Buffer) => b;
const echoService: grpc.ServiceDefinition = {
  who: {
    path: METHOD,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** A gRPC server that answers every call with its own name. */
async function echoServer(name: string): Promise<{ port: number; server: grpc.Server }> {
  const server = new grpc.Server();
  server.addService(echoService, {
    who: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb(null, Buffer.from(name)),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { port, server };
}

function call(client: grpc.Client, metadata: grpc.Metadata): Promise<string> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      METHOD,
      identity,
      identity,
      Buffer.alloc(0),
      metadata,
      { deadline: Date.now() + 10_000 },
      (e, r) => (e ? reject(e) : resolve(String(r))),
    ),
  );
}

async function tally(
  client: grpc.Client,
  n: number,
  metadata: () => grpc.Metadata,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let done = 0; done < n; done += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, n - done) }, () => call(client, metadata())),
    );
    for (const who of batch) counts.set(who, (counts.get(who) ?? 0) + 1);
  }
  return counts;
}

const V1 = 'outbound|8080|v1|echo.default.svc.cluster.local';
const V2 = 'outbound|8080|v2|echo.default.svc.cluster.local';
const NODE_ID = 'proxyless~127.0.0.1~grpc-client.default~default.svc.cluster.local';

test('grpc-js-xds routes by header and splits by weight with resources served by the ADS server', async (t) => {
  const backends = await Promise.all(['a1', 'a2', 'b1', 'b2'].map(echoServer));
  // Teardown in order: the xDS channel first, so its client does not start reconnecting to a closed server.
  let client: grpc.Client | undefined;
  t.after(async () => {
    client?.close();
    await srv.close();
    for (const b of backends) b.server.forceShutdown();
  });
  const [a1, a2, b1, b2] = backends.map((b) => ({ address: '127.0.0.1', port: b.port }));

  const srv = await startServer();
  srv.cache.setSnapshot(
    NODE_ID,
    Snapshot.create([
      encode.listener(apiListener('echo:8080', 'echo-routes')),
      encode.route(
        routeConfig(
          'echo-routes',
          ['echo:8080'],
          [
            { header: { name: 'x-canary', exact: 'true' }, to: { cluster: V2 } },
            {
              to: {
                weighted: [
                  { name: V1, weight: 80 },
                  { name: V2, weight: 20 },
                ],
              },
            },
          ],
        ),
      ),
      encode.cluster(edsCluster(V1)),
      encode.cluster(edsCluster(V2)),
      encode.endpoint(loadAssignment(V1, [a1!, a2!])),
      encode.endpoint(loadAssignment(V2, [b1!, b2!])),
    ]),
  );

  const bootstrap = {
    xds_servers: [
      {
        server_uri: `127.0.0.1:${srv.port}`,
        channel_creds: [{ type: 'insecure' }],
        server_features: ['xds_v3'],
      },
    ],
    node: { id: NODE_ID, locality: {} },
  };
  client = new grpc.Client('xds:///echo:8080', grpc.credentials.createInsecure(), {
    'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap),
  });

  const canary = () => {
    const m = new grpc.Metadata();
    m.set('x-canary', 'true');
    return m;
  };
  await within(call(client, canary()), 15_000, 'the first call through xDS');

  const withHeader = await tally(client, 200, canary);
  assert.deepEqual([...withHeader.keys()].sort(), ['b1', 'b2'], 'every call with the header reaches v2');

  // 1000 calls split 80/20: v2's share has a standard deviation of 1.3 points; allow 20% ± 6 (about 5 sigma).
  const n = 1000;
  const split = await tally(client, n, () => new grpc.Metadata());
  const v2 = (split.get('b1') ?? 0) + (split.get('b2') ?? 0);
  const v1 = (split.get('a1') ?? 0) + (split.get('a2') ?? 0);
  assert.equal(v1 + v2, n);
  assert.ok(Math.abs(v2 / n - 0.2) <= 0.06, `v2 got ${v2} of ${n} calls; expected 20% ± 6`);
  assert.ok((split.get('a1') ?? 0) > 0 && (split.get('a2') ?? 0) > 0, 'both v1 endpoints serve');

  // gRPC's client ACKed every type: the server shows it SYNCED, as istioctl would.
  const status = srv.server.proxyStatus().find((p) => p.proxyId === NODE_ID);
  assert.ok(status, 'the proxyless client appears in the sync status');
  const states = Object.fromEntries(status.types.map((x) => [x.typeUrl, x.state]));
  assert.deepEqual(states, {
    [CLUSTER_TYPE]: 'SYNCED',
    [ENDPOINT_TYPE]: 'SYNCED',
    [LISTENER_TYPE]: 'SYNCED',
    [ROUTE_TYPE]: 'SYNCED',
  });
  assert.equal(
    srv.events.filter((e) => e.kind === 'nack').length,
    0,
    `no NACKs: ${JSON.stringify(srv.events.filter((e) => e.kind === 'nack'))}`,
  );
});
