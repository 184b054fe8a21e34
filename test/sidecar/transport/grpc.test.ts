// gRPC (grpc-js client and server) through a proxy built from the transport, h2 in and h2 out.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { HttpServer } from '../../../src/sidecar/http/server.js';
import { Http2Pool } from '../../../src/sidecar/upstream/pool/h2-pool.js';
import { type Listening, listen } from './helpers.js';

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
  sum: method('/trellis.test.Echo/Sum', true, false),
  chat: method('/trellis.test.Echo/Chat', true, true),
  fail: method('/trellis.test.Echo/Fail', false, false),
} satisfies grpc.ServiceDefinition;

const EchoClient = grpc.makeGenericClientConstructor(service, 'Echo');
type Client = InstanceType<typeof EchoClient> & Record<string, (...args: unknown[]) => unknown>;

let server: grpc.Server;
let pool: Http2Pool;
let proxyServer: HttpServer;
let proxy: Listening;
let client: Client;

function trailer(value: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('x-trailer', value);
  return md;
}

before(async () => {
  server = new grpc.Server();
  server.addService(service, {
    echo: (call: grpc.ServerUnaryCall<Json, Json>, cb: grpc.sendUnaryData<Json>) => {
      cb(null, { echo: call.request.text, via: call.metadata.get('x-client')[0] }, trailer('unary'));
    },
    count: (call: grpc.ServerWritableStream<Json, Json>) => {
      const n = Number(call.request.upTo);
      for (let i = 1; i <= n; i++) call.write({ i });
      call.end(trailer(`counted ${n}`));
    },
    sum: (call: grpc.ServerReadableStream<Json, Json>, cb: grpc.sendUnaryData<Json>) => {
      let total = 0;
      call.on('data', (m: Json) => (total += Number(m.n)));
      call.on('end', () => cb(null, { total }, trailer('summed')));
    },
    chat: (call: grpc.ServerDuplexStream<Json, Json>) => {
      call.on('data', (m: Json) => call.write({ reply: `re: ${m.text}` }));
      call.on('end', () => call.end(trailer('chatted')));
    },
    fail: (_call: grpc.ServerUnaryCall<Json, Json>, cb: grpc.sendUnaryData<Json>) => {
      cb({ code: grpc.status.NOT_FOUND, details: 'no such thing', metadata: trailer('failed') });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  pool = new Http2Pool({ endpoint: { host: '127.0.0.1', port } });
  proxyServer = new HttpServer({ handler: (req, ctx) => pool.request(req, { signal: ctx.signal }) });
  proxy = await listen((socket) => proxyServer.serve(socket));
  client = new EchoClient(`127.0.0.1:${proxy.port}`, grpc.credentials.createInsecure()) as Client;
});

after(async () => {
  client.close();
  proxyServer.destroy();
  pool.destroy();
  await proxy.close();
  server.forceShutdown();
});

function statusOf(
  call: grpc.ClientUnaryCall | grpc.ClientReadableStream<Json> | grpc.ClientDuplexStream<Json, Json>,
) {
  return new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
}

test('gRPC unary through an h2→h2 proxy: message, request metadata, trailing metadata', async () => {
  const md = new grpc.Metadata();
  md.set('x-client', 'test');
  let reply: Json | undefined;
  const call = client.echo({ text: 'hi' }, md, (err: grpc.ServiceError | null, res: Json) => {
    assert.equal(err, null);
    reply = res;
  }) as grpc.ClientUnaryCall;
  const status = await statusOf(call);
  assert.equal(status.code, grpc.status.OK);
  assert.deepEqual(reply, { echo: 'hi', via: 'test' });
  assert.deepEqual(status.metadata.get('x-trailer'), ['unary']);
});

test('gRPC server streaming keeps every message and the trailers', async () => {
  const call = client.count({ upTo: 50 }) as grpc.ClientReadableStream<Json>;
  const got: number[] = [];
  call.on('data', (m: Json) => got.push(Number(m.i)));
  const status = await statusOf(call);
  assert.equal(status.code, grpc.status.OK);
  assert.deepEqual(
    got,
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  assert.deepEqual(status.metadata.get('x-trailer'), ['counted 50']);
});

test('gRPC client streaming and bidirectional streaming', async () => {
  let sum: Json | undefined;
  const up = client.sum((err: grpc.ServiceError | null, res: Json) => {
    assert.equal(err, null);
    sum = res;
  }) as grpc.ClientWritableStream<Json>;
  const upStatus = new Promise<grpc.StatusObject>((resolve) => up.on('status', resolve));
  for (let n = 1; n <= 100; n++) up.write({ n });
  up.end();
  assert.equal((await upStatus).code, grpc.status.OK);
  assert.deepEqual(sum, { total: 5050 });

  const chat = client.chat() as grpc.ClientDuplexStream<Json, Json>;
  const replies: string[] = [];
  const status = statusOf(chat);
  const next = () =>
    new Promise<void>((resolve) =>
      chat.once('data', (m: Json) => {
        replies.push(String(m.reply));
        resolve();
      }),
    );
  for (const text of ['one', 'two', 'three']) {
    const got = next();
    chat.write({ text });
    await got; // each reply arrives before the next message is sent: the proxy does not buffer the stream
  }
  chat.end();
  const s = await status;
  assert.equal(s.code, grpc.status.OK);
  assert.deepEqual(replies, ['re: one', 're: two', 're: three']);
  assert.deepEqual(s.metadata.get('x-trailer'), ['chatted']);
});

test('a gRPC error (trailers-only response) keeps its status, message and metadata', async () => {
  let error: grpc.ServiceError | undefined;
  const call = client.fail({}, (err: grpc.ServiceError | null) => {
    error = err ?? undefined;
  }) as grpc.ClientUnaryCall;
  const status = await statusOf(call);
  assert.equal(status.code, grpc.status.NOT_FOUND);
  assert.equal(status.details, 'no such thing');
  assert.deepEqual(status.metadata.get('x-trailer'), ['failed']);
  assert.equal(error?.code, grpc.status.NOT_FOUND);
});
