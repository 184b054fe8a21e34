// The HTTP/1.1 parser: valid messages in any split, every refusal with its reason, limits, responses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ParsedRequestHead, ParsedResponseHead } from './head.js';
import { type H1Limits, H1Parser } from './parser.js';

interface Message {
  head: ParsedRequestHead | ParsedResponseHead;
  body: string;
  trailers: [string, string][] | undefined;
  complete: boolean;
}

/** Feeds `input` cut at `cuts`, resuming after each request as a server would; returns messages and error. */
function parse(
  kind: 'request' | 'response',
  input: string,
  cuts: number[] = [],
  opts: { limits?: Partial<H1Limits>; headResponse?: boolean; eof?: boolean } = {},
) {
  const messages: Message[] = [];
  const parser = new H1Parser(
    kind,
    {
      onRequestHead: (head) => messages.push({ head, body: '', trailers: undefined, complete: false }),
      onResponseHead: (head) => messages.push({ head, body: '', trailers: undefined, complete: false }),
      onBody: (chunk) => {
        messages.at(-1)!.body += chunk.toString('latin1');
      },
      onMessageEnd: (trailers) => {
        const m = messages.at(-1)!;
        m.complete = true;
        m.trailers = trailers ? [...trailers] : undefined;
      },
    },
    opts.limits,
  );
  parser.expectNoBody = opts.headResponse ?? false;
  const bytes = Buffer.from(input, 'latin1');
  let from = 0;
  let ok = true;
  for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]) {
    ok = parser.execute(bytes.subarray(from, cut));
    while (ok && parser.paused && kind === 'request') ok = parser.resume();
    from = cut;
    if (!ok) break;
  }
  if (ok && opts.eof) parser.finish();
  return { messages, error: parser.error, parser };
}

function summary(r: ReturnType<typeof parse>) {
  return {
    error: r.error?.message,
    messages: r.messages.map((m) => ({
      ...('method' in m.head
        ? { method: m.head.method, authority: m.head.authority, path: m.head.path }
        : { status: m.head.status }),
      headers: [...m.head.headers],
      body: m.body,
      trailers: m.trailers,
      complete: m.complete,
    })),
  };
}

const VALID_REQUESTS: [string, string][] = [
  ['plain GET', 'GET /a?b=c HTTP/1.1\r\nHost: svc:9080\r\nAccept: */*\r\n\r\n'],
  ['Content-Length body', 'POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello'],
  [
    'chunked with extensions and trailers',
    'POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;name=val;q="a\\"b"\r\nhello\r\n1\r\n!\r\n0\r\nX-Checksum: 42\r\n\r\n',
  ],
  ['two pipelined requests', 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['HTTP/1.0 without Host', 'GET / HTTP/1.0\r\n\r\n'],
  ['empty value and OWS', 'GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Pad: \t v \t\r\n\r\n'],
  ['leading CRLF before the request line', '\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n'],
];

test('valid requests parse the same whatever the socket chunks were', () => {
  for (const [name, input] of VALID_REQUESTS) {
    const whole = summary(parse('request', input));
    assert.equal(whole.error, undefined, `${name}: ${whole.error}`);
    assert.ok(
      whole.messages.every((m) => m.complete),
      `${name}: incomplete`,
    );
    for (let cut = 1; cut < input.length; cut++) {
      assert.deepEqual(summary(parse('request', input, [cut])), whole, `${name} cut at ${cut}`);
    }
    for (let i = 0; i < 20; i++) {
      const cuts = Array.from({ length: 4 }, () => Math.floor(Math.random() * input.length));
      assert.deepEqual(summary(parse('request', input, cuts)), whole, `${name} cut at ${cuts}`);
    }
  }
});

test('a request head becomes method, authority, path and lower-case headers without hop-by-hop fields', () => {
  const r = parse(
    'request',
    'GET /x HTTP/1.1\r\nHost: reviews:9080\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: 5\r\nTE: trailers\r\nSet-Cookie: a\r\nset-cookie: b\r\n\r\n',
  );
  const head = r.messages[0]!.head as ParsedRequestHead;
  assert.equal(head.method, 'GET');
  assert.equal(head.authority, 'reviews:9080');
  assert.equal(head.keepAlive, true);
  assert.deepEqual(
    [...head.headers],
    [
      ['te', 'trailers'],
      ['set-cookie', 'a'],
      ['set-cookie', 'b'],
    ],
  );
});

test('absolute-form targets are split into authority and path and flagged', () => {
  const r = parse('request', 'GET http://reviews:9080/reviews/0?x=1 HTTP/1.1\r\nHost: ignored\r\n\r\n');
  const head = r.messages[0]!.head as ParsedRequestHead;
  assert.equal(head.absoluteForm, true);
  assert.equal(head.authority, 'reviews:9080');
  assert.equal(head.path, '/reviews/0?x=1');
  assert.equal(head.targetScheme, 'http');
  const bare = parse('request', 'GET http://reviews HTTP/1.1\r\nHost: x\r\n\r\n').messages[0]!
    .head as ParsedRequestHead;
  assert.equal(bare.path, '/');
});

test('keep-alive follows the version and Connection; upgrade needs Connection: upgrade', () => {
  const head = (s: string) => parse('request', s).messages[0]!.head as ParsedRequestHead;
  assert.equal(head('GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n').keepAlive, false);
  assert.equal(head('GET / HTTP/1.0\r\n\r\n').keepAlive, false);
  assert.equal(head('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').keepAlive, true);
  assert.equal(
    head('GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n').upgrade,
    'websocket',
  );
  assert.equal(head('GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n').upgrade, undefined);
  assert.equal(
    head('PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n').expectContinue,
    true,
  );
});

/** Each must be refused with this status; the reason must mention the fragment. */
const REFUSED: [string, string, number, RegExp][] = [
  [
    'CL + TE',
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n',
    400,
    /Content-Length together with Transfer-Encoding/,
  ],
  [
    'TE + CL',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n',
    400,
    /together/,
  ],
  [
    'duplicate CL, same value',
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx',
    400,
    /more than one Content-Length/,
  ],
  [
    'duplicate CL, different values',
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy',
    400,
    /Content-Length/,
  ],
  ['CL list', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 1\r\n\r\nx', 400, /Content-Length/],
  ['CL sign', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\nx', 400, /Content-Length/],
  [
    'TE not chunked',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n',
    400,
    /Transfer-Encoding/,
  ],
  [
    'TE chunked not alone',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n',
    400,
    /Transfer-Encoding/,
  ],
  [
    'TE twice',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n',
    400,
    /more than one Transfer-Encoding/,
  ],
  ['TE in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, /HTTP\/1.0/],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n 2\r\n\r\n', 400, /obs-fold/],
  ['bare LF', 'GET / HTTP/1.1\nHost: h\n\n', 400, /bare LF/],
  ['bare LF inside the headers', 'GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n', 400, /bare LF/],
  ['bare CR', 'GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n', 400, /control character/],
  ['NUL in a value', 'GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n', 400, /control character/],
  ['DEL in a value', 'GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fb\r\n\r\n', 400, /control character/],
  [
    'space before colon',
    'GET / HTTP/1.1\r\nHost: h\r\nContent-Length : 1\r\n\r\nx',
    400,
    /whitespace between field name and colon/,
  ],
  ['invalid name character', 'GET / HTTP/1.1\r\nHost: h\r\nX(Y): 1\r\n\r\n', 400, /token/],
  ['unknown method', 'FOO / HTTP/1.1\r\nHost: h\r\n\r\n', 400, /unknown method/],
  ['lower-case method', 'get / HTTP/1.1\r\nHost: h\r\n\r\n', 400, /unknown method/],
  ['double space', 'GET  / HTTP/1.1\r\nHost: h\r\n\r\n', 400, /target/],
  ['trailing space', 'GET / HTTP/1.1 \r\nHost: h\r\n\r\n', 400, /junk after/],
  ['HTTP/1.2', 'GET / HTTP/1.2\r\nHost: h\r\n\r\n', 400, /HTTP\/1.1 or HTTP\/1.0/],
  ['HTTP/2.0 over HTTP/1', 'GET / HTTP/2.0\r\nHost: h\r\n\r\n', 400, /HTTP\/1.1 or HTTP\/1.0/],
  ['raw UTF-8 in target', 'GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n', 400, /target/],
  ['no Host in HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n', 400, /without a Host/],
  ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, /more than one Host/],
  ['Host with userinfo', 'GET / HTTP/1.1\r\nHost: a@b\r\n\r\n', 400, /Host header/],
  ['not origin-form', 'GET x HTTP/1.1\r\nHost: h\r\n\r\n', 400, /expected \/path/],
  [
    'chunk size not hex',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n',
    400,
    /chunk size/,
  ],
  [
    'chunk size 0x',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n',
    400,
    /chunk size/,
  ],
  [
    'space after chunk size',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n',
    400,
    /chunk size/,
  ],
  [
    'chunk size overflow',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n',
    400,
    /hex digits|too large/,
  ],
  [
    'bare LF after chunk size',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n',
    400,
    /chunk size/,
  ],
  [
    'bare LF in a chunk extension',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;a\nGET /smuggled HTTP/1.1\r\n',
    400,
    /chunk extension/,
  ],
  [
    'whitespace in a chunk extension',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1; a=b\r\nx\r\n0\r\n\r\n',
    400,
    /chunk extension/,
  ],
  [
    'chunk data without CRLF',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n',
    400,
    /CRLF/,
  ],
  [
    'bare LF in trailers',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\n\r\n',
    400,
    /bare LF/,
  ],
];

test('ambiguous or malformed requests are refused with 400 and the reason', () => {
  for (const [name, input, status, reason] of REFUSED) {
    const r = parse('request', input);
    assert.ok(r.error, `${name}: accepted`);
    assert.equal(r.error.status, status, `${name}: status`);
    assert.match(r.error.message, reason, name);
    // Refused before the head is delivered when the head itself is the problem.
    if (!/chunk|trailers/.test(name)) assert.equal(r.messages.length, 0, `${name}: a head was delivered`);
  }
});

test('oversize heads get 431: more than 100 headers, or more than 60 KiB', () => {
  let many = 'GET / HTTP/1.1\r\nHost: h\r\n';
  for (let i = 0; i < 100; i++) many += `X-${i}: v\r\n`;
  let r = parse('request', `${many}\r\n`);
  assert.equal(r.error?.status, 431);
  assert.match(r.error!.message, /more than 100 fields/);
  r = parse('request', `GET / HTTP/1.1\r\nHost: h\r\nX-Big: ${'a'.repeat(61 * 1024)}\r\n\r\n`);
  assert.equal(r.error?.status, 431);
  // The limit trips while the head is still arriving: no need to wait for its end.
  r = parse('request', `GET / HTTP/1.1\r\nHost: h\r\nX-Big: ${'a'.repeat(61 * 1024)}`, [100, 30000]);
  assert.equal(r.error?.status, 431);
  r = parse('request', `GET / HTTP/1.1\r\nHost: h\r\nX-Big: ${'a'.repeat(1000)}\r\n\r\n`, [], {
    limits: { maxHeadBytes: 512 },
  });
  assert.equal(r.error?.status, 431);
});

test('a chunk-size line longer than the limit is refused (slow-drip extensions)', () => {
  const r = parse(
    'request',
    `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;x=${'a'.repeat(5000)}\r\n`,
  );
  assert.match(r.error!.message, /chunk-size line over 4096 bytes/);
});

test('responses: bodies by Content-Length, chunked, close-delimited, and none for HEAD/204/304', () => {
  let r = parse('response', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc');
  assert.equal(r.messages[0]!.body, 'abc');
  r = parse(
    'response',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\ngrpc-status: 0\r\n\r\n',
  );
  assert.deepEqual(r.messages[0]!.trailers, [['grpc-status', '0']]);
  r = parse('response', 'HTTP/1.0 200 OK\r\n\r\nuntil close', [], { eof: true });
  assert.equal(r.messages[0]!.body, 'until close');
  assert.equal(r.messages[0]!.complete, true);
  assert.equal((r.messages[0]!.head as ParsedResponseHead).keepAlive, false);
  r = parse('response', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', [], { headResponse: true });
  assert.equal(r.messages[0]!.complete, true);
  assert.equal(r.messages[0]!.body, '');
  for (const status of [204, 304]) {
    r = parse('response', `HTTP/1.1 ${status} X\r\nContent-Length: 10\r\n\r\n`);
    assert.equal(r.messages[0]!.complete, true, `${status}`);
  }
});

test('responses: 100 Continue is skipped, 101 stops HTTP parsing and leaves the tunnel bytes', () => {
  let r = parse('response', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n');
  assert.equal(r.messages.length, 1);
  assert.equal((r.messages[0]!.head as ParsedResponseHead).status, 201);
  r = parse(
    'response',
    'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello',
  );
  assert.equal((r.messages[0]!.head as ParsedResponseHead).upgrade, 'websocket');
  assert.equal(r.parser.upgraded, true);
  assert.equal(r.parser.takeRemainder()?.toString('latin1'), '\x81\x05hello');
});

test('responses with ambiguous framing are refused', () => {
  assert.ok(
    parse('response', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n').error,
  );
  assert.ok(parse('response', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n').error);
  assert.ok(parse('response', 'HTTP/1.1 2000 OK\r\n\r\n').error);
  assert.ok(parse('response', 'HTTP/1.1 200 OK\nContent-Length: 0\n\n').error);
});

test('a request cut short is not complete; the parser reports it at EOF', () => {
  const r = parse('request', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc');
  assert.equal(r.messages[0]!.complete, false);
  assert.equal(r.parser.finish(), false);
});
