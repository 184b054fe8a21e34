// Listener filters on real sockets: decisions, bytes handed on untouched (FIN included), and the timeout.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { ManualClock, systemClock } from '../../shared/clock.js';
import { inspect } from './inspect.js';

let server: net.Server;
let port = 0;
const accepted: ((s: net.Socket) => void)[] = [];
const sockets: net.Socket[] = [];

before(async () => {
  server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s);
    accepted.shift()?.(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as net.AddressInfo).port;
});
after(() => {
  for (const s of sockets) s.destroy();
  server.close();
});

function nextSocket(): Promise<net.Socket> {
  return new Promise((resolve) => accepted.push(resolve));
}

/** Everything the next owner of the socket reads, until the client's FIN. */
function readAll(s: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      out += d;
    });
    s.on('end', () => resolve(out));
    s.resume();
  });
}

test('an HTTP request is recognised and reaches the next owner whole, FIN included', async () => {
  const got = nextSocket();
  const client = net.connect(port, '127.0.0.1');
  const request = 'GET /a HTTP/1.1\r\nhost: x\r\n\r\n';
  client.end(request);
  const s = await got;
  const found = await inspect(s, { tls: true, http: true, timeoutMs: 1000, clock: systemClock });
  assert.deepEqual(found, { timedOut: false, http: 'http/1.1', applicationProtocols: ['http/1.1'] });
  assert.equal(await readAll(s), request);
  client.destroy();
});

test('a TLS ClientHello gives SNI and ALPN, and a TLS server can still complete the handshake', async () => {
  const got = nextSocket();
  const client = tls.connect({
    port,
    host: '127.0.0.1',
    servername: 'web.example',
    ALPNProtocols: ['h2'],
    rejectUnauthorized: false,
  });
  client.on('error', () => {});
  const s = await got;
  const found = await inspect(s, { tls: true, http: true, timeoutMs: 1000, clock: systemClock });
  assert.equal(found?.transportProtocol, 'tls');
  assert.equal(found?.serverName, 'web.example');
  assert.deepEqual(found?.applicationProtocols, ['h2']);
  // The hello is still in the socket: the next owner reads it from the first byte.
  const first = await new Promise<Buffer>((resolve) => s.once('data', resolve));
  assert.equal(first[0], 0x16);
  client.destroy();
  s.destroy();
});

test('a silent client (server-first protocol) is handed on at the timeout, with nothing consumed', async () => {
  const clock = new ManualClock();
  const got = nextSocket();
  const client = net.connect(port, '127.0.0.1');
  const s = await got;
  const pending = inspect(s, { tls: true, http: true, timeoutMs: 100, clock });
  clock.advance(99);
  const early = await Promise.race([pending, new Promise((r) => setImmediate(() => r('waiting')))]);
  assert.equal(early, 'waiting');
  clock.advance(1);
  assert.deepEqual(await pending, { timedOut: true });
  s.write('220 hello\r\n');
  const [banner] = await once(client, 'data');
  assert.equal(banner.toString(), '220 hello\r\n');
  client.destroy();
  s.destroy();
});

test('a client that leaves before anything is decided gives undefined', async () => {
  const got = nextSocket();
  const client = net.connect(port, '127.0.0.1');
  const s = await got;
  const pending = inspect(s, { tls: true, http: true, timeoutMs: 5000, clock: systemClock });
  client.end('GE');
  assert.equal(await pending, undefined);
  assert.ok(s.destroyed);
});

test('raw bytes are decided at once when they cannot be TLS or HTTP', async () => {
  const got = nextSocket();
  const client = net.connect(port, '127.0.0.1');
  client.write('\x00\x01binary');
  const s = await got;
  assert.deepEqual(await inspect(s, { tls: true, http: true, timeoutMs: 5000, clock: systemClock }), {
    timedOut: false,
    http: 'not-http',
  });
  client.end();
  assert.equal(await readAll(s), '\x00\x01binary');
});
