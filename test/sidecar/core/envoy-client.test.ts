// An Envoy client sidecar talking to a Trellis server sidecar: Istio's clusters offer ALPN `istio-h2` (not
// `h2`) for HTTP/2 and `istio-http/1.1` for HTTP/1.1, so the server must find the protocol from the bytes.

import assert from 'node:assert/strict';
import type http from 'node:http';
import http2 from 'node:http2';
import { after, before, test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { meshClient, meshConnect, startGrpcApp } from './apps.js';
import { closeServer, TestMesh as Mesh, startHttpApp, type TestMesh, type TestPod } from './harness.js';

let mesh: TestMesh;
let grpcPod: TestPod;
let web: TestPod;
let grpcServer: grpc.Server;
let app: http.Server;

before(async () => {
  mesh = await Mesh.start({ prefix: '127.35' });
  mesh.addService('grpc', [{ name: 'grpc', port: 50051 }]);
  mesh.addService('web', [{ name: 'http', port: 9080 }]);
  grpcPod = await mesh.startPod({ name: 'grpc-0', app: 'grpc', ports: [{ name: 'grpc', port: 50051 }] });
  web = await mesh.startPod({ name: 'web-0', app: 'web', ports: [{ name: 'http', port: 9080 }] });
  grpcServer = await startGrpcApp(grpcPod.appIp, 50051, 'grpc-0');
  app = await startHttpApp(web.appIp, 9080, 'web');
  await Promise.all([grpcPod.sidecar!.whenReady(), web.sidecar!.whenReady()]);
});

after(async () => {
  grpcServer.forceShutdown();
  await closeServer(app);
  await mesh.stop();
});

/** One gRPC unary call (JSON-encoded Echo) over an HTTP/2 session on the given socket. */
function grpcEcho(
  socket: import('node:tls').TLSSocket,
  text: string,
): Promise<{ status: string; body: unknown }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect('https://grpc.default.svc.cluster.local:50051', {
      createConnection: () => socket,
    });
    session.on('error', reject);
    const payload = Buffer.from(JSON.stringify({ text }));
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, payload.length]), payload]);
    const stream = session.request({
      ':method': 'POST',
      ':path': '/trellis.test.Echo/Echo',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('trailers', (t) => {
      const data = Buffer.concat(chunks);
      session.close();
      resolve({
        status: String(t['grpc-status']),
        body: data.length > 5 ? JSON.parse(data.subarray(5).toString()) : undefined,
      });
    });
    stream.on('error', reject);
    stream.end(frame);
  });
}

test('HTTP/2 with ALPN istio-h2 (an Envoy client) reaches a gRPC app through the server sidecar', async () => {
  const m = await meshClient(mesh.cp, 'sleep');
  try {
    const socket = await meshConnect(m.tls, {
      host: grpcPod.ip,
      port: 50051,
      alpn: ['istio-h2', 'istio'],
      allowed: ['spiffe://cluster.local/ns/default/sa/grpc'],
    });
    assert.equal(socket.alpnProtocol, 'istio-h2');
    assert.deepEqual(await grpcEcho(socket, 'from envoy'), {
      status: '0',
      body: { echo: 'from envoy', server: 'grpc-0' },
    });
  } finally {
    m.stop();
  }
});

test('HTTP/1.1 with ALPN istio-http/1.1 is still served as HTTP/1.1', async () => {
  const m = await meshClient(mesh.cp, 'sleep');
  try {
    const socket = await meshConnect(m.tls, {
      host: web.ip,
      port: 9080,
      alpn: ['istio-http/1.1', 'istio'],
      allowed: ['spiffe://cluster.local/ns/default/sa/web'],
    });
    assert.equal(socket.alpnProtocol, 'istio-http/1.1');
    socket.write('GET /h1 HTTP/1.1\r\nhost: web\r\nconnection: close\r\n\r\n');
    let out = '';
    socket.setEncoding('latin1');
    for await (const chunk of socket) out += chunk;
    assert.match(out, /^HTTP\/1.1 200/);
    assert.match(out, /"url":"\/h1"/);
  } finally {
    m.stop();
  }
});
