// Websockets through the pipeline: the upgrade is routed, answered 101, and the tunnel carries frames both ways.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, test } from 'node:test';
import { TestClusters } from './clusters.js';
import { hcmConfig, startPipeline } from './harness.js';
import { route, simpleTable } from './routes.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

let backend: http.Server;
let port: number;
const upgrades: http.IncomingHttpHeaders[] = [];

before(async () => {
  backend = http.createServer((_req, res) => res.end('plain'));
  backend.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
    upgrades.push(req.headers);
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}${GUID}`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    // A raw echo is enough: the proxy must carry bytes, not understand frames.
    socket.on('data', (d: Buffer) => socket.write(d));
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  port = (backend.address() as AddressInfo).port;
});

after(() => {
  backend.closeAllConnections();
  backend.close();
});

test('a websocket upgrade is routed to its cluster and tunnelled both ways', async () => {
  const clusters = new TestClusters();
  clusters.add({ name: 'chat', endpoints: [{ port }] });
  const p = await startPipeline({
    config: hcmConfig({
      routeConfig: simpleTable(
        route({ match: { prefix: '/chat' }, route: { cluster: 'chat', timeoutMs: 200 } }),
      ),
    }),
    clusters,
  });
  const socket = net.connect(p.port, '127.0.0.1');
  try {
    let received = Buffer.alloc(0);
    const waitFor = (pred: (b: Buffer) => boolean) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pred(received)) {
            socket.off('data', onData);
            resolve();
          }
        };
        const onData = (d: Buffer) => {
          received = Buffer.concat([received, d]);
          check();
        };
        socket.on('data', onData);
        socket.once('close', () => reject(new Error(`closed after ${received.toString()}`)));
        check();
      });
    const key = randomBytes(16).toString('base64');
    socket.write(
      `GET /chat/room HTTP/1.1\r\nHost: chat\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`,
    );
    await waitFor((b) => b.includes('\r\n\r\n'));
    const head = received.toString();
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, /\r\nupgrade: websocket\r\n/i);
    assert.equal(upgrades.at(-1)!['x-forwarded-proto'], 'http');
    received = Buffer.alloc(0);
    // the route timeout (200 ms) must not cut a tunnel that outlives it
    await new Promise<void>((resolve) => setTimeout(resolve, 300));
    socket.write('ping through the tunnel');
    await waitFor((b) => b.toString() === 'ping through the tunnel');
  } finally {
    socket.destroy();
    await p.close();
  }
});
