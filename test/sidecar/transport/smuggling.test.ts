// Request smuggling vectors (PortSwigger's CL.TE / TE.CL / TE.TE / CL.0 / 0.CL / H2.CL classes, and the cases
// of Node's test-http-request-smuggling-*.js and test-http-chunked-smuggling.js) sent through the proxy.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, test } from 'node:test';
import { localReply } from '../../../src/sidecar/http/message.js';
import { HttpServer } from '../../../src/sidecar/http/server.js';
import { isUpstreamError } from '../../../src/sidecar/upstream/pool/errors.js';
import { Http1Pool } from '../../../src/sidecar/upstream/pool/h1-pool.js';
import {
  header,
  type Listening,
  listen,
  parseWithLlhttp,
  RawClient,
  type ScriptedUpstream,
  scriptedUpstream,
} from './helpers.js';

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: victim\r\n\r\n';

let upstream: ScriptedUpstream;
let pool: Http1Pool;
let server: HttpServer;
let proxy: Listening;

before(async () => {
  upstream = await scriptedUpstream((req) => {
    const body = `ok ${req.url} ${req.body.length}`;
    return `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  });
  pool = new Http1Pool({ endpoint: { host: '127.0.0.1', port: upstream.port } });
  server = new HttpServer({
    handler: async (req, ctx) => {
      try {
        return await pool.request(req, { signal: ctx.signal });
      } catch (e) {
        if (isUpstreamError(e))
          return localReply({ status: 502, body: 'bad gateway\n', reason: `${e.flag} ${e.message}` });
        throw e;
      }
    },
  });
  proxy = await listen((s) => server.serve(s));
});

after(async () => {
  server.destroy();
  pool.destroy();
  await proxy.close();
  await upstream.close();
});

function smuggledSeen(): boolean {
  return upstream.requests.some((r) => r.url.includes('smuggled'));
}

/** Refused outright from the head: 400/431, nothing reaches the upstream, the connection closes. */
const HEAD_VECTORS: [string, string, number][] = [
  [
    'CL.TE',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED',
    400,
  ],
  [
    'TE.CL',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n',
    400,
  ],
  ['TE.TE xchunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n', 400],
  ['TE.TE space before colon', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n', 400],
  [
    'TE.TE second TE header',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-encoding: x\r\n\r\n',
    400,
  ],
  ['TE.TE obs-fold line', 'POST / HTTP/1.1\r\nHost: a\r\n Transfer-Encoding: chunked\r\n\r\n', 400],
  ['TE.TE folded value', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n', 400],
  ['TE.TE bare LF before TE', 'POST / HTTP/1.1\r\nHost: a\r\nX: X\nTransfer-Encoding: chunked\r\n\r\n', 400],
  ['TE.TE bare LF in name', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\n: chunked\r\n\r\n', 400],
  [
    'TE.TE chunked, identity',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n',
    400,
  ],
  [
    'TE.TE identity, chunked',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n',
    400,
  ],
  ['TE.TE quoted', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "chunked"\r\n\r\n', 400],
  ['TE.TE NUL', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\0\r\n\r\n', 400],
  ['TE in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  [
    'duplicate Content-Length (node)',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello',
    400,
  ],
  [
    'differing Content-Length',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 44\r\n\r\n',
    400,
  ],
  ['Content-Length list', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0, 44\r\n\r\n', 400],
  ['Content-Length sign', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', 400],
  ['Content-Length hex', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n', 400],
  ['Content-Length space inside', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n', 400],
  ['bare LF request line', 'GET / HTTP/1.1\nHost: a\r\n\r\n', 400],
  ['bare CR in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\rTransfer-Encoding: chunked\r\n\r\n', 400],
  ['CTL in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x0bb\r\n\r\n', 400],
  ['space in a name', 'GET / HTTP/1.1\r\nHost: a\r\nContent Length: 1\r\n\r\n', 400],
  ['invalid request line', 'GET /a b HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['invalid version', 'GET / HTTP/1.2\r\nHost: a\r\n\r\n', 400],
  ['HTTP/0.9 style', 'GET /\r\n\r\n', 400],
  ['missing Host', 'GET / HTTP/1.1\r\n\r\n', 400],
  ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
  [
    '101 headers',
    `GET / HTTP/1.1\r\nHost: a\r\n${Array.from({ length: 101 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`,
    431,
  ],
  ['61 KiB head', `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(61 * 1024)}\r\n\r\n`, 431],
];

test('smuggling vectors in the head are refused and never reach the upstream', async (t) => {
  for (const [name, raw, status] of HEAD_VECTORS) {
    await t.test(name, async () => {
      const before = upstream.bytes();
      const client = await RawClient.open(proxy.port);
      client.write(raw + SMUGGLED);
      await client.closed;
      const [res] = parseWithLlhttp('response', client.received).messages;
      assert.equal(res?.status, status, client.received.toString().slice(0, 200));
      assert.match(header(res!.headers, 'x-trellis-reason') ?? '', /^DPE /);
      assert.equal(upstream.bytes(), before, 'the upstream received nothing');
      assert.equal(smuggledSeen(), false);
    });
  }
});

/** The head is fine, the chunked body is not: the exchange is cut, no upstream connection is reused after it. */
const BODY_VECTORS: [string, string][] = [
  ['chunk size with 0x', '0x5\r\nhello\r\n0\r\n\r\n'],
  ['space after chunk size', '5 \r\nhello\r\n0\r\n\r\n'],
  ['negative chunk size', '-1\r\nx\r\n0\r\n\r\n'],
  ['chunk size overflow', 'ffffffffffffffffff\r\nx\r\n0\r\n\r\n'],
  ['bare LF after chunk size', '5\nhello\r\n0\r\n\r\n'],
  ['bare LF in extension (node chunked smuggling)', '1;\nx\r\n0\r\n\r\n'],
  ['chunk data longer than its size', '1\r\nxx\r\n0\r\n\r\n'],
  ['oversize chunk extension', `1;a=${'x'.repeat(5000)}\r\nx\r\n0\r\n\r\n`],
  ['bare LF after last chunk', '0\n\r\n'],
];

test('malformed chunked bodies cut the exchange; the upstream never desynchronises', async (t) => {
  for (const [name, body] of BODY_VECTORS) {
    await t.test(name, async () => {
      const client = await RawClient.open(proxy.port);
      client.write(
        `POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${body}${SMUGGLED}`,
      );
      await client.closed;
      const [res] = parseWithLlhttp('response', client.received).messages;
      // Either the proxy answered 400 before any upstream response, or it closed mid-response.
      if (res?.complete) assert.equal(res.status, 400);
      assert.equal(smuggledSeen(), false);
      for (const conn of upstream.connections) {
        const parsed = parseWithLlhttp('request', conn.raw);
        assert.equal(parsed.error, undefined, `upstream saw unparseable bytes: ${parsed.error}`);
      }
    });
  }
});

/** Odd but unambiguous requests are accepted, and what reaches the upstream is framed exactly once. */
const ACCEPTED: [string, string, string, number][] = [
  [
    'tab before chunked',
    'POST /tab HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    '/tab',
    3,
  ],
  [
    'Chunked capitalised',
    'POST /cap HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    '/cap',
    3,
  ],
  ['leading zeros', 'POST /zeros HTTP/1.1\r\nHost: a\r\nContent-Length: 005\r\n\r\nhello', '/zeros', 5],
  [
    'Connection names content-length (hop-by-hop abuse)',
    'POST /hop HTTP/1.1\r\nHost: a\r\nConnection: Content-Length\r\nContent-Length: 5\r\n\r\nhello',
    '/hop',
    5,
  ],
  [
    'CL.0: GET with a body',
    'GET /get-body HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello',
    '/get-body',
    5,
  ],
];

test('accepted requests are re-framed: the upstream parses exactly the requests the proxy forwarded', async (t) => {
  for (const [name, raw, path, length] of ACCEPTED) {
    await t.test(name, async () => {
      const seenBefore = upstream.requests.length;
      const client = await RawClient.open(proxy.port);
      client.write(raw + SMUGGLED);
      const res = await client.responses(2);
      assert.equal(res[0]!.body.toString(), `ok ${path} ${length}`);
      // The trailing request was a separate, legitimate request to the proxy: it is forwarded as one.
      assert.equal(res[1]!.body.toString(), 'ok /smuggled 0');
      const forwarded = upstream.requests.slice(seenBefore);
      assert.deepEqual(
        forwarded.map((r) => [r.url, r.body.length]),
        [
          [path, length],
          ['/smuggled', 0],
        ],
      );
      for (const r of forwarded) {
        const framing = r.headers.filter(([n]) => /^(content-length|transfer-encoding)$/i.test(n));
        assert.ok(framing.length <= 1, `one framing header, got ${JSON.stringify(framing)}`);
        assert.equal(header(r.headers, 'connection'), undefined);
      }
      client.close();
    });
  }
});

test('an upstream response with ambiguous framing becomes a 502 and its bytes never reach the client', async () => {
  const bad = await scriptedUpstream(
    () =>
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nX-Injected: 1\r\n\r\n',
  );
  const badPool = new Http1Pool({ endpoint: { host: '127.0.0.1', port: bad.port } });
  const s = new HttpServer({
    handler: async (req) => {
      try {
        return await badPool.request(req);
      } catch (e) {
        if (isUpstreamError(e)) return localReply({ status: 502, reason: `${e.flag} ${e.message}` });
        throw e;
      }
    },
  });
  const l = await listen((sock) => s.serve(sock));
  const client = await RawClient.open(l.port);
  client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  const [res] = await client.responses(1);
  assert.equal(res!.status, 502);
  assert.match(
    header(res!.headers, 'x-trellis-reason') ?? '',
    /^UPE invalid response .*Content-Length and Transfer-Encoding/,
  );
  assert.doesNotMatch(client.received.toString(), /X-Injected/i);
  client.close();
  s.destroy();
  badPool.destroy();
  await l.close();
  await bad.close();
});

test('H2.CL: an HTTP/2 request whose DATA outgrows its content-length never reaches the HTTP/1.1 upstream whole', async () => {
  const before = upstream.requests.length;
  const client = http2.connect(`http://127.0.0.1:${proxy.port}`);
  client.on('error', () => {});
  const req = client.request({ ':method': 'POST', ':path': '/h2cl', 'content-length': '0' });
  req.on('error', () => {});
  const closed = new Promise<void>((resolve) => req.on('close', () => resolve()));
  req.end(SMUGGLED);
  await closed;
  client.close();
  const forwarded = upstream.requests.slice(before);
  assert.equal(
    forwarded.some((r) => r.url.includes('smuggled')),
    false,
  );
  for (const r of forwarded) assert.equal(r.body.length, 0);
  for (const conn of upstream.connections)
    assert.equal(parseWithLlhttp('request', conn.raw).error, undefined);
});
