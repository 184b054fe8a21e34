// Websocket upgrades through the proxy: 101, then a spliced tunnel; declined upgrades stay HTTP.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, test } from 'node:test';
import { header, RawClient, startProxy } from './helpers.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** One unmasked (server) or masked (client) text frame, payload < 126 bytes. */
function frame(text: string, masked: boolean): Buffer {
  const payload = Buffer.from(text);
  if (!masked) return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
  const mask = randomBytes(4);
  const out = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, out]);
}

/** Decodes one frame (short payloads), unmasking if needed. */
function unframe(buf: Buffer): { text: string; size: number } | undefined {
  if (buf.length < 2) return undefined;
  const masked = (buf[1]! & 0x80) !== 0;
  const len = buf[1]! & 0x7f;
  const start = masked ? 6 : 2;
  if (buf.length < start + len) return undefined;
  const payload = Buffer.from(buf.subarray(start, start + len));
  if (masked) for (let i = 0; i < len; i++) payload[i]! ^= buf[2 + (i % 4)]!;
  return { text: payload.toString(), size: start + len };
}

let backend: http.Server;
let backendPort: number;
const upgradeHeaders: http.IncomingHttpHeaders[] = [];

before(async () => {
  backend = http.createServer((req, res) => res.end(`plain ${req.url}`));
  backend.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    upgradeHeaders.push(req.headers);
    if (req.url === '/decline') {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}${GUID}`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    let buf = head;
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (let f = unframe(buf); f !== undefined; f = unframe(buf)) {
        buf = buf.subarray(f.size);
        socket.write(frame(`echo: ${f.text}`, false));
      }
    };
    socket.on('data', onData);
    if (head.length > 0) onData(Buffer.alloc(0));
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  backendPort = (backend.address() as AddressInfo).port;
});

after(() => {
  backend.closeAllConnections();
  backend.close();
});

test('a websocket upgrade goes through the proxy and the two sockets are spliced into a tunnel', async () => {
  const proxy = await startProxy(backendPort);
  const client = await RawClient.open(proxy.port);
  const key = randomBytes(16).toString('base64');
  // The first frame rides in the same packet as the upgrade request: it must reach the backend after the 101.
  client.write(
    Buffer.concat([
      Buffer.from(
        `GET /chat HTTP/1.1\r\nHost: chat\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`,
      ),
      frame('early', true),
    ]),
  );
  await client.until(
    (b) => b.includes('\r\n\r\n') && unframe(b.subarray(b.indexOf('\r\n\r\n') + 4)) !== undefined,
  );
  const headEnd = client.received.indexOf('\r\n\r\n') + 4;
  const head = client.received.subarray(0, headEnd).toString();
  assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.match(head, /\r\nupgrade: websocket\r\n/i);
  const expected = createHash('sha1').update(`${key}${GUID}`).digest('base64');
  assert.match(head, new RegExp(`sec-websocket-accept: ${expected.replace(/[+/=]/g, '\\$&')}`, 'i'));
  assert.equal(unframe(client.received.subarray(headEnd))?.text, 'echo: early');

  client.received = Buffer.alloc(0);
  client.write(frame('second', true));
  await client.until((b) => unframe(b) !== undefined);
  assert.equal(unframe(client.received)?.text, 'echo: second');

  const seen = upgradeHeaders.at(-1)!;
  assert.equal(seen.upgrade, 'websocket');
  assert.match(String(seen.connection), /upgrade/i);
  assert.equal(seen['sec-websocket-key'], key);
  assert.equal(proxy.pool.stats.idle + proxy.pool.stats.active, 0, 'the tunnelled connection left the pool');
  client.close();
  await proxy.close();
});

test('a declined upgrade is an ordinary response', async () => {
  const proxy = await startProxy(backendPort);
  const client = await RawClient.open(proxy.port);
  client.write('GET /decline HTTP/1.1\r\nHost: chat\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  const [res] = await client.responses(1);
  assert.equal(res!.status, 403);
  assert.equal(header(res!.headers, 'upgrade'), undefined);
  client.close();
  await proxy.close();
});
