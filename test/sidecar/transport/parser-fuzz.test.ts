// Property-based fuzzing of the HTTP/1.1 parser, differential against llhttp (the parser inside node:http).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ParsedRequestHead } from '../../../src/sidecar/http/h1/head.js';
import { H1Parser } from '../../../src/sidecar/http/h1/parser.js';
import { type LlhttpMessage, llhttpBinding, parseWithLlhttp } from './helpers.js';

/** Runs per property; raise it for a longer campaign (TRELLIS_FUZZ_RUNS=50000 npm run test:only -- parser-fuzz). */
const RUNS = Number(process.env.TRELLIS_FUZZ_RUNS ?? 1000);

const skip =
  llhttpBinding() === undefined
    ? "this Node does not expose llhttp through process.binding('http_parser')"
    : false;

interface OurMessage {
  head: ParsedRequestHead;
  body: Buffer;
  trailers: [string, string][];
  complete: boolean;
}

/** Our parser fed `bytes` cut at `cuts`, resumed after each request as the server does. */
function ours(bytes: Buffer, cuts: number[]): { messages: OurMessage[]; error: string | undefined } {
  const messages: OurMessage[] = [];
  const parser = new H1Parser('request', {
    onRequestHead: (head) => messages.push({ head, body: Buffer.alloc(0), trailers: [], complete: false }),
    onBody: (chunk) => {
      const m = messages.at(-1)!;
      m.body = Buffer.concat([m.body, chunk]);
    },
    onMessageEnd: (trailers) => {
      const m = messages.at(-1)!;
      m.complete = true;
      if (trailers) m.trailers = [...trailers];
    },
  });
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut < from || cut > bytes.length) continue;
    let ok = parser.execute(bytes.subarray(from, cut));
    from = cut;
    while (ok && parser.paused) {
      const last = messages.at(-1);
      // Like the server: stop after a message that ends the connection or switches protocols.
      if (
        last &&
        (!last.head.keepAlive || last.head.upgrade !== undefined || last.head.method === 'CONNECT')
      ) {
        return { messages, error: undefined };
      }
      ok = parser.resume();
    }
    if (!ok) return { messages, error: parser.error?.message };
  }
  return { messages, error: undefined };
}

const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
  'te',
  'expect',
]);

/** llhttp's view of a request, reduced to what our header list keeps. */
function comparable(m: LlhttpMessage) {
  const listed = new Set<string>();
  for (const [n, v] of m.headers) {
    if (n.toLowerCase() === 'connection') for (const t of v.split(',')) listed.add(t.trim().toLowerCase());
  }
  return {
    method: m.method,
    target: m.url,
    headers: m.headers
      .map(([n, v]) => [n.toLowerCase(), v] as [string, string])
      .filter(([n]) => !HOP.has(n) && !listed.has(n)),
    // An absolute-form or CONNECT target carries the authority itself; Host is then ignored (RFC 9112 §3.2.2).
    host:
      /^[a-z]+:\/\//i.test(m.url) || m.method === 'CONNECT'
        ? undefined
        : m.headers.find(([n]) => n.toLowerCase() === 'host')?.[1] || undefined,
    body: m.body.toString('latin1'),
  };
}

function mine(m: OurMessage) {
  return {
    method: m.head.method,
    target: m.head.target,
    headers: [...m.head.headers].filter(([n]) => n !== 'te' && n !== 'expect'),
    host: m.head.absoluteForm || m.head.method === 'CONNECT' ? undefined : m.head.authority || undefined,
    body: m.body.toString('latin1'),
  };
}

// --- generators: valid HTTP/1.1 with the mutations smuggling attacks are made of ---

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');
const junkByte = fc.oneof(
  fc.constantFrom(0, 9, 10, 13, 32, 34, 44, 58, 59, 127, 128, 255),
  fc.integer({ min: 0, max: 255 }),
);
const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const maybeJunk = (base: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 8, arbitrary: base },
    {
      weight: 1,
      arbitrary: fc
        .tuple(base, fc.nat(16), fc.array(junkByte, { minLength: 1, maxLength: 3 }))
        .map(([s, at, junk]) => s.slice(0, at) + latin1(Uint8Array.from(junk)) + s.slice(at)),
    },
  );

const method = maybeJunk(
  fc.oneof(
    {
      weight: 12,
      arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'PROPFIND'),
    },
    { weight: 1, arbitrary: fc.constantFrom('CONNECT', 'get', 'FOO', 'QUERY') },
  ),
);
const target = maybeJunk(
  fc.oneof(
    {
      weight: 12,
      arbitrary: fc.constantFrom('/', '/a/b?c=d', '/x%20y', '/p;q', 'http://svc:9080/p', 'https://h/'),
    },
    { weight: 1, arbitrary: fc.constantFrom('*', 'http://a@b/', 'svc:443', '//x', '/é', 'http://', 'x') },
  ),
);
const version = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('HTTP/1.1', 'HTTP/1.0') },
  { weight: 1, arbitrary: fc.constantFrom('HTTP/1.2', 'HTTP/2.0', 'http/1.1', 'HTTP/1.1 ') },
);
const eol = fc.oneof(
  { weight: 40, arbitrary: fc.constant('\r\n') },
  { weight: 1, arbitrary: fc.constantFrom('\n', '\r', '\r\r\n') },
);
const host = fc.tuple(
  fc.constantFrom('Host', 'host', 'HOST'),
  maybeJunk(fc.constantFrom('svc', 'svc:9080', '127.0.0.1', '[::1]:80', 'reviews.default.svc.cluster.local')),
);
const contentLength = fc.constantFrom(
  '0',
  '3',
  '5',
  '05',
  ' 5',
  '5 ',
  '+5',
  '5,5',
  '-1',
  '',
  'x',
  '99999999999999999999',
);
const transferEncoding = fc.constantFrom(
  'chunked',
  'Chunked',
  'gzip',
  'chunked, gzip',
  'gzip, chunked',
  'chunked ',
  'xchunked',
);
const extraHeader = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(token, fc.stringMatching(/^[ -~]{0,16}$/)) },
  { weight: 2, arbitrary: fc.tuple(maybeJunk(token), maybeJunk(fc.stringMatching(/^[ -~]{0,16}$/))) },
  {
    weight: 2,
    arbitrary: fc.tuple(
      fc.constantFrom('Connection', 'Upgrade', 'Expect', 'TE', 'Keep-Alive', 'Set-Cookie'),
      fc.constantFrom(
        'close',
        'keep-alive',
        'upgrade',
        'x-foo, close',
        'websocket',
        '100-continue',
        'trailers',
        'a=1',
      ),
    ),
  },
  { weight: 1, arbitrary: host },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constantFrom('Content-Length', 'content-length', 'Content-Length '),
      contentLength,
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom('Transfer-Encoding', 'transfer-encoding'), transferEncoding),
  },
);
const chunkedBody = fc
  .tuple(
    fc.array(
      fc.tuple(
        fc.stringMatching(/^[a-z]{1,8}$/),
        fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom('', ';a=b', ';a="q"', ';a;b=c') },
          { weight: 1, arbitrary: fc.constantFrom('; a', ';', ' ', ';a=') },
        ),
        eol,
      ),
      { maxLength: 3 },
    ),
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('', 'X-T: 1\r\n') },
      { weight: 1, arbitrary: fc.constantFrom('Content-Length: 9\r\n', 'bad line\r\n') },
    ),
    eol,
  )
  .map(
    ([chunks, trailer, end]) =>
      chunks.map(([data, ext, e]) => `${data.length.toString(16)}${ext}${e}${data}\r\n`).join('') +
      `0\r\n${trailer}${end}`,
  );
/** Framing headers with a matching body most of the time; contradictory combinations the rest. */
const framed = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ headers: [] as [string, string][], body: '' }) },
  {
    weight: 3,
    arbitrary: fc
      .stringMatching(/^[a-z]{0,10}$/)
      .map((b) => ({ headers: [['Content-Length', String(b.length)]] as [string, string][], body: b })),
  },
  {
    weight: 3,
    arbitrary: chunkedBody.map((b) => ({
      headers: [['Transfer-Encoding', 'chunked']] as [string, string][],
      body: b,
    })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.array(
          fc.oneof(
            fc.tuple(fc.constant('Content-Length'), contentLength),
            fc.tuple(fc.constant('Transfer-Encoding'), transferEncoding),
          ),
          { minLength: 1, maxLength: 2 },
        ),
        fc.oneof(fc.stringMatching(/^[a-z]{0,10}$/), chunkedBody),
      )
      .map(([headers, body]) => ({ headers, body })),
  },
);

const message = fc
  .tuple(
    method,
    target,
    version,
    fc.option(host, { freq: 10 }),
    fc.array(extraHeader, { maxLength: 4 }),
    framed,
    eol,
  )
  .chain(([m, t, v, h, extra, f, end]) =>
    fc
      .shuffledSubarray([...(h ? [h] : []), ...extra, ...f.headers], {
        minLength: (h ? 1 : 0) + extra.length + f.headers.length,
      })
      .chain((headers) =>
        fc
          .array(eol, { minLength: headers.length, maxLength: headers.length })
          .map(
            (eols) =>
              `${m} ${t} ${v}\r\n${headers.map(([n, val], i) => `${n}: ${val}${eols[i]}`).join('')}${end}${f.body}`,
          ),
      ),
  );

const stream = fc
  .tuple(fc.array(message, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(600), { maxLength: 4 }))
  .map(([messages, cuts]) => ({
    bytes: Buffer.from(messages.join(''), 'latin1'),
    cuts: cuts.sort((a, b) => a - b),
  }));

test('the parser never throws on arbitrary bytes in arbitrary splits', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 1500 }),
      fc.array(fc.nat(1500), { maxLength: 6 }),
      fc.boolean(),
      (bytes, cuts, response) => {
        const parser = new H1Parser(response ? 'response' : 'request', {
          onRequestHead: () => {},
          onResponseHead: () => {},
          onBody: () => {},
          onMessageEnd: () => {},
        });
        const buf = Buffer.from(bytes);
        let from = 0;
        for (const cut of [...cuts.sort((a, b) => a - b), buf.length]) {
          if (cut < from || cut > buf.length) continue;
          if (!parser.execute(buf.subarray(from, cut))) break;
          from = cut;
          while (parser.paused && parser.resume()) if (parser.idle) break;
        }
        parser.finish();
      },
    ),
    { numRuns: RUNS },
  );
});

test('differential: whatever the parser accepts, llhttp accepts and reads the same way', { skip }, (t) => {
  let accepted = 0;
  let refused = 0;
  fc.assert(
    fc.property(stream, ({ bytes, cuts }) => {
      const a = ours(bytes, cuts);
      const b = parseWithLlhttp('request', bytes);
      const whole = ours(bytes, []);
      // Split invariance: socket chunking never changes the outcome.
      assert.deepEqual(a.messages.map(mine), whole.messages.map(mine));
      assert.equal(a.error === undefined, whole.error === undefined);
      for (let i = 0; i < a.messages.length; i++) {
        const m = a.messages[i]!;
        if (!m.complete) continue;
        accepted++;
        const theirs = b.messages[i];
        assert.ok(
          theirs?.complete,
          `we accepted message ${i} that llhttp refused (${b.error}): ${JSON.stringify(bytes.toString('latin1'))}`,
        );
        assert.deepEqual(mine(m), comparable(theirs), JSON.stringify(bytes.toString('latin1')));
        assert.deepEqual(
          m.trailers,
          theirs.trailers.map(([n, v]) => [n.toLowerCase(), v]).filter(([n]) => n !== 'content-length'),
        );
      }
      if (a.error !== undefined) refused++;
    }),
    { numRuns: RUNS },
  );
  t.diagnostic(`${accepted} messages accepted and checked against llhttp; ${refused} streams refused`);
  // The generator must exercise both sides, or the property proves little.
  assert.ok(accepted > RUNS / 10, `only ${accepted} messages were accepted`);
  assert.ok(refused > RUNS / 10, `only ${refused} streams were refused`);
});
