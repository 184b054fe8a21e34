// gRPC through the pipeline (h2c in, HTTP/2 cluster out): unary, streaming with trailers, retries, gRPC replies.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { TestClusters } from './clusters.js';
import { hcmConfig, type RunningPipeline, startPipeline } from './harness.js';
import { exactHeader, retryPolicy, route, simpleTable } from './routes.js';

type Json = Record<string, unknown>;
const json = {
  serialize: (v: Json) => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer) => JSON.parse(b.toString()) as Json,
};
function method(path: string, requestStream: boolean, responseStream: boolean) {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  };
}
const service = {
  echo: method('/trellis.test.Echo/Echo', false, false),
  count: method('/trellis.test.Echo/Count', false, true),
  flaky: method('/trellis.test.Echo/Flaky', false, false),
} satisfies grpc.ServiceDefinition;
const EchoClient = grpc.makeGenericClientConstructor(service, 'Echo');
type Client = InstanceType<typeof EchoClient> & Record<string, (...args: unknown[]) => unknown>;

function unary(
  client: Client,
  name: string,
  req: Json,
  md = new grpc.Metadata(),
): Promise<{ res?: Json; err?: grpc.ServiceError; trailers?: grpc.Metadata }> {
  return new Promise((resolve) => {
    let trailers: grpc.Metadata | undefined;
    const call = client[name]!(req, md, (err: grpc.ServiceError | null, res?: Json) =>
      setImmediate(() => resolve({ res, err: err ?? undefined, trailers })),
    ) as grpc.ClientUnaryCall;
    call.on('status', (s: grpc.StatusObject) => {
      trailers = s.metadata;
    });
  });
}

describe('gRPC through the pipeline', () => {
  let server: grpc.Server;
  let port: number;
  let flakyCalls = 0;
  let p: RunningPipeline;
  let client: Client;

  before(async () => {
    server = new grpc.Server();
    server.addService(service, {
      echo: (call: grpc.ServerUnaryCall<Json, Json>, cb: grpc.sendUnaryData<Json>) => {
        const md = new grpc.Metadata();
        md.set('x-trailer', 'unary');
        cb(null, { echo: call.request.text }, md);
      },
      count: (call: grpc.ServerWritableStream<Json, Json>) => {
        const n = Number(call.request.upTo);
        for (let i = 1; i <= n; i++) call.write({ i });
        const md = new grpc.Metadata();
        md.set('x-trailer', `counted ${n}`);
        call.end(md);
      },
      flaky: (_call: grpc.ServerUnaryCall<Json, Json>, cb: grpc.sendUnaryData<Json>) => {
        if (flakyCalls++ % 2 === 0) cb({ code: grpc.status.UNAVAILABLE, details: 'warming up' });
        else cb(null, { ok: true });
      },
    });
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    const clusters = new TestClusters();
    clusters.add({ name: 'grpc-echo', endpoints: [{ port }], protocol: 'http2' });
    const table = simpleTable(
      route({
        name: 'abort',
        match: { prefix: '/', headers: [exactHeader('x-fault', 'abort')] },
        fault: { abort: { grpcStatus: 8, percentage: { fraction: 1 } } },
      }),
      route({
        name: 'http-abort',
        match: { prefix: '/', headers: [exactHeader('x-fault', 'http')] },
        fault: { abort: { httpStatus: 503, percentage: { fraction: 1 } } },
      }),
      route({
        name: 'flaky',
        match: { prefix: '/trellis.test.Echo/Flaky' },
        route: { cluster: 'grpc-echo', retry: retryPolicy({ retryOn: ['unavailable'], numRetries: 1 }) },
      }),
      route({
        name: 'echo',
        match: { prefix: '/trellis.test.Echo/', grpc: true },
        route: { cluster: 'grpc-echo' },
      }),
    );
    p = await startPipeline({
      config: hcmConfig({
        routeConfig: table,
        httpFilters: [{ name: 'envoy.filters.http.fault', kind: 'fault', config: {} }],
        accessLog: [
          {
            path: '/dev/null',
            format: { kind: 'text', text: '%RESPONSE_CODE% %GRPC_STATUS% %RESPONSE_FLAGS%\n' },
          },
        ],
      }),
      clusters,
    });
    client = new EchoClient(`127.0.0.1:${p.port}`, grpc.credentials.createInsecure()) as Client;
  });

  after(async () => {
    client.close();
    await p.close();
    server.forceShutdown();
  });

  test('unary: response and trailers pass through', async () => {
    const { res, err, trailers } = await unary(client, 'echo', { text: 'hello' });
    assert.equal(err, undefined);
    assert.deepEqual(res, { echo: 'hello' });
    assert.deepEqual(trailers?.get('x-trailer'), ['unary']);
  });

  test('server streaming: every message in order, then the trailers', async () => {
    const call = client.count({ upTo: 5 }) as grpc.ClientReadableStream<Json>;
    const got: number[] = [];
    let trailer: unknown;
    call.on('status', (s: grpc.StatusObject) => {
      trailer = s.metadata.get('x-trailer')[0];
    });
    await new Promise<void>((resolve, reject) => {
      call.on('data', (m: Json) => got.push(Number(m.i)));
      call.on('end', resolve);
      call.on('error', reject);
    });
    assert.deepEqual(got, [1, 2, 3, 4, 5]);
    assert.equal(trailer, 'counted 5');
  });

  test('UNAVAILABLE in a trailers-only response is retried under `unavailable`; the server saw two calls', async () => {
    const before = flakyCalls;
    const { res, err } = await unary(client, 'flaky', {});
    assert.equal(err, undefined);
    assert.deepEqual(res, { ok: true });
    assert.equal(flakyCalls - before, 2);
  });

  test('a fault abort with a gRPC status answers gRPC-shaped (HTTP 200, grpc-status 8) and flags FI', async () => {
    const md = new grpc.Metadata();
    md.set('x-fault', 'abort');
    const { err } = await unary(client, 'echo', { text: 'x' }, md);
    assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(err?.details, 'fault filter abort');
  });

  test('an HTTP abort of a gRPC request becomes the mapped gRPC status (503 → UNAVAILABLE)', async () => {
    const md = new grpc.Metadata();
    md.set('x-fault', 'http');
    const { err } = await unary(client, 'echo', { text: 'x' }, md);
    assert.equal(err?.code, grpc.status.UNAVAILABLE);
  });

  test('no route for a gRPC method → UNIMPLEMENTED with the reason as message (NR)', async () => {
    const other = grpc.makeGenericClientConstructor(
      { nope: method('/other.Service/Nope', false, false) },
      'Other',
    );
    const c = new other(`127.0.0.1:${p.port}`, grpc.credentials.createInsecure()) as Client;
    try {
      const { err } = await unary(c, 'nope', {});
      assert.equal(err?.code, grpc.status.UNIMPLEMENTED);
      assert.match(
        String(err?.details),
        /^no route for host "127\.0\.0\.1:\d+" path "\/other\.Service\/Nope"/,
      );
    } finally {
      c.close();
    }
  });

  test('access logs and metrics carry the gRPC status, from trailers or a trailers-only head', async () => {
    await p.telemetry.waitForLines(6);
    const lines = p.telemetry.lines;
    assert.ok(lines.includes('200 0 -\n'), lines.join(''));
    assert.ok(lines.includes('200 8 FI\n'), lines.join(''));
    assert.ok(lines.includes('200 12 NR\n'), lines.join(''));
    const grpcSeries = p.telemetry.requestsTotal().filter((s) => s.labels.request_protocol === 'grpc');
    const statuses = grpcSeries
      .map((s) => `${s.labels.grpc_response_status}/${s.labels.response_flags}`)
      .sort();
    assert.deepEqual(statuses, ['0/-', '12/NR', '14/FI', '8/FI']);
  });
});
