import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  extractContext,
  formatTraceparent,
  injectContext,
  parseB3Multi,
  parseB3Single,
  parseTraceparent,
} from './context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

test('W3C traceparent round-trips and invalid values are ignored', () => {
  const tp = `00-${TRACE}-${SPAN}-01`;
  const ctx = parseTraceparent(tp)!;
  assert.deepEqual(ctx, { traceId: TRACE, spanId: SPAN, sampled: true });
  assert.equal(formatTraceparent(ctx), tp);
  assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-00`)!.sampled, false);
  for (const bad of [
    `ff-${TRACE}-${SPAN}-01`,
    `00-${'0'.repeat(32)}-${SPAN}-01`,
    `00-${TRACE}-${'0'.repeat(16)}-01`,
    `00-${TRACE}-${SPAN}-01-extra`,
    `00-${TRACE.slice(1)}-${SPAN}-01`,
    'garbage',
  ]) {
    assert.equal(parseTraceparent(bad), undefined, bad);
  }
  // Future versions may append fields; the first four still parse.
  assert.equal(parseTraceparent(`cc-${TRACE}-${SPAN}-01-what-ever`)!.traceId, TRACE);
});

test('B3 multi and single headers parse, pad 64-bit trace ids, and carry debug and parent', () => {
  const multi = parseB3Multi({
    'x-b3-traceid': 'a3ce929d0e0e4736',
    'x-b3-spanid': SPAN,
    'x-b3-parentspanid': '05e3ac9a4f6e3b90',
    'x-b3-sampled': '1',
  }).context!;
  assert.deepEqual(multi, {
    traceId: `0000000000000000a3ce929d0e0e4736`,
    spanId: SPAN,
    parentSpanId: '05e3ac9a4f6e3b90',
    sampled: true,
  });
  assert.equal(parseB3Multi({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN }).context!.sampled, undefined);
  assert.equal(
    parseB3Multi({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' }).context!.debug,
    true,
  );
  assert.deepEqual(parseB3Multi({ 'x-b3-sampled': '0' }), { samplingOnly: false });
  const single = parseB3Single(`${TRACE}-${SPAN}-d-05e3ac9a4f6e3b90`).context!;
  assert.equal(single.debug, true);
  assert.equal(single.sampled, true);
  assert.equal(single.parentSpanId, '05e3ac9a4f6e3b90');
  assert.deepEqual(parseB3Single('0'), { samplingOnly: false });
  assert.deepEqual(parseB3Single(`${TRACE}-zz`), {});
});

test('precedence: traceparent, then b3, then x-b3-*; malformed headers fall through', () => {
  const other = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  const headers = {
    traceparent: `00-${TRACE}-${SPAN}-01`,
    tracestate: 'congo=t61rcWkgMzE',
    b3: `${other}-${SPAN}-1`,
    'x-b3-traceid': 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
    'x-b3-spanid': SPAN,
  };
  const w = extractContext(headers);
  assert.equal(w.format, 'w3c');
  assert.equal(w.context!.traceId, TRACE);
  assert.equal(w.context!.tracestate, 'congo=t61rcWkgMzE');
  assert.equal(extractContext({ ...headers, traceparent: 'broken' }).context!.traceId, other);
  assert.equal(extractContext({ ...headers, traceparent: 'broken', b3: 'x' }).format, 'b3multi');
  assert.deepEqual(extractContext({}), {});
});

test('inject writes each chosen format and a reader gets the same context back', () => {
  const ctx = {
    traceId: TRACE,
    spanId: SPAN,
    parentSpanId: '05e3ac9a4f6e3b90',
    sampled: false,
    tracestate: 'a=b',
  };
  const h: Record<string, string | string[] | undefined> = { 'x-b3-parentspanid': 'stale' };
  injectContext(ctx, h, ['w3c', 'b3multi', 'b3single']);
  assert.equal(h.traceparent, `00-${TRACE}-${SPAN}-00`);
  assert.equal(h.tracestate, 'a=b');
  assert.equal(h['x-b3-sampled'], '0');
  assert.equal(h['x-b3-parentspanid'], '05e3ac9a4f6e3b90');
  assert.equal(h.b3, `${TRACE}-${SPAN}-0-05e3ac9a4f6e3b90`);
  for (const only of ['w3c', 'b3multi', 'b3single'] as const) {
    const hh: Record<string, string | string[] | undefined> = {};
    injectContext(ctx, hh, [only]);
    const back = extractContext(hh).context!;
    assert.equal(back.traceId, TRACE, only);
    assert.equal(back.spanId, SPAN, only);
    assert.equal(back.sampled, false, only);
  }
});
