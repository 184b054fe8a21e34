// The ClientHello reader on hellos Node's own TLS client writes: SNI, ALPN, any split, several records.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import { parseClientHello } from './client-hello.js';

/** The exact bytes a TLS client sends first, captured on a plain TCP server. */
async function captureHello(opts: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const got = new Promise<Buffer>((resolve) =>
    server.once('connection', (s) => {
      const chunks: Buffer[] = [];
      s.on('data', (d: Buffer) => {
        chunks.push(d);
        const all = Buffer.concat(chunks);
        if (all.length >= 5 && all.length >= 5 + all.readUInt16BE(3)) {
          resolve(all);
          s.destroy();
        }
      });
    }),
  );
  const client = tls.connect({
    ...opts,
    host: '127.0.0.1',
    port: (server.address() as net.AddressInfo).port,
  });
  client.on('error', () => {});
  const hello = await got;
  client.destroy();
  server.close();
  return hello;
}

test('SNI and ALPN come out of a real ClientHello', async () => {
  const hello = await captureHello({
    servername: 'Reviews.Default.svc.cluster.local',
    ALPNProtocols: ['istio-http/1.1', 'istio'],
  });
  assert.deepEqual(parseClientHello(hello), {
    kind: 'tls',
    serverName: 'reviews.default.svc.cluster.local',
    alpn: ['istio-http/1.1', 'istio'],
  });
});

test('a hello without SNI or ALPN is still TLS', async () => {
  const hello = await captureHello({});
  assert.deepEqual(parseClientHello(hello), { kind: 'tls', alpn: [] });
});

test('every prefix of a hello is incomplete, never a wrong answer', async () => {
  const hello = await captureHello({ servername: 'a.example', ALPNProtocols: ['h2'] });
  for (let n = 1; n < hello.length; n++) {
    assert.deepEqual(parseClientHello(hello.subarray(0, n)), { kind: 'incomplete' }, `prefix of ${n} bytes`);
  }
});

test('a handshake split over two TLS records is joined', async () => {
  const hello = await captureHello({ servername: 'split.example', ALPNProtocols: ['h2', 'http/1.1'] });
  const body = hello.subarray(5);
  const cut = 40;
  const record = (b: Buffer) =>
    Buffer.concat([Buffer.from([0x16, 0x03, 0x01, b.length >> 8, b.length & 0xff]), b]);
  const twoRecords = Buffer.concat([record(body.subarray(0, cut)), record(body.subarray(cut))]);
  assert.deepEqual(parseClientHello(twoRecords.subarray(0, 5 + cut + 3)), { kind: 'incomplete' });
  assert.deepEqual(parseClientHello(twoRecords), {
    kind: 'tls',
    serverName: 'split.example',
    alpn: ['h2', 'http/1.1'],
  });
});

test('plaintext protocols are not TLS from their first byte', () => {
  for (const text of ['GET / HTTP/1.1\r\n', 'PRI * HTTP/2.0', 'SSH-2.0-OpenSSH', '\x00\x00']) {
    assert.deepEqual(parseClientHello(Buffer.from(text, 'latin1')), { kind: 'not-tls' }, text);
  }
  // A handshake record that is not a ClientHello (a ServerHello), or an impossible record version.
  assert.deepEqual(parseClientHello(Buffer.from([0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00])), {
    kind: 'not-tls',
  });
  assert.deepEqual(parseClientHello(Buffer.from([0x16, 0x09, 0x01])), { kind: 'not-tls' });
});
