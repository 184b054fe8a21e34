import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { isTrellisError } from '../../shared/errors.js';
import type { RequestRecord } from '../record.js';
import { ISTIO_JSON_FORMAT, ISTIO_TEXT_FORMAT, TRELLIS_JSON_FORMAT } from './formats.js';
import { compileJsonFormat, compileTextFormat } from './formatter.js';
import { AccessLogger } from './logger.js';
import { AccessLogSink } from './sink.js';

// The curl -> httpbin request of istio.io tasks/observability/logs/access-log, as the client sidecar saw it.
const TEAPOT: RequestRecord = {
  startTime: Date.parse('2020-11-25T21:26:18.409Z'),
  durationMs: 4.6,
  protocol: 'HTTP/1.1',
  method: 'GET',
  path: '/status/418',
  authority: 'httpbin:8000',
  requestHeaders: {
    'user-agent': 'curl/7.73.0-DEV',
    'x-request-id': '84961386-6d84-929d-98bd-c5aee93b5c88',
  },
  responseHeaders: { 'x-envoy-upstream-service-time': '4' },
  responseCode: 418,
  responseFlags: '-',
  responseCodeDetails: 'via_upstream',
  bytesReceived: 0,
  bytesSent: 135,
  upstreamHost: '10.44.1.27:80',
  upstreamCluster: 'outbound|8000||httpbin.foo.svc.cluster.local',
  upstreamLocalAddress: '10.44.1.23:37652',
  downstreamLocalAddress: '10.0.45.184:8000',
  downstreamRemoteAddress: '10.44.1.23:46520',
  routeName: 'default',
};

test("Istio's default TEXT format reproduces the line from Istio's access-log task", () => {
  const line = compileTextFormat(ISTIO_TEXT_FORMAT)(TEAPOT);
  assert.equal(
    line,
    '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" ' +
      '"curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" ' +
      'outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default\n',
  );
});

test('JSON format uses Istio default keys, keeps numbers typed and missing values null', () => {
  const obj = JSON.parse(compileJsonFormat(ISTIO_JSON_FORMAT)(TEAPOT));
  assert.deepEqual(Object.keys(obj), Object.keys(ISTIO_JSON_FORMAT));
  assert.equal(obj.start_time, '2020-11-25T21:26:18.409Z');
  assert.equal(obj.response_code, 418);
  assert.equal(obj.bytes_sent, 135);
  assert.equal(obj.duration, 4);
  assert.equal(obj.path, '/status/418');
  assert.equal(obj.upstream_service_time, '4');
  assert.equal(obj.x_forwarded_for, null);
  assert.equal(obj.upstream_cluster, 'outbound|8000||httpbin.foo.svc.cluster.local');
  const withTrace = JSON.parse(
    compileJsonFormat(TRELLIS_JSON_FORMAT)({
      ...TEAPOT,
      traceId: '0af7651916cd43dd8448eb211c80319c',
      downstreamPeerUriSan: 'spiffe://cluster.local/ns/foo/sa/curl',
    }),
  );
  assert.equal(withTrace.trace_id, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(withTrace.downstream_peer_uri_san, 'spiffe://cluster.local/ns/foo/sa/curl');
});

test('operators: header alternatives, truncation, query stripping, custom time format, %% and TCP records', () => {
  const rec: RequestRecord = {
    ...TEAPOT,
    path: '/api/v1/products?secret=1',
    requestHeaders: { ...TEAPOT.requestHeaders, 'x-envoy-original-path': '/orig?q=2' },
  };
  const f = compileTextFormat(
    '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %REQ_WITHOUT_QUERY(:PATH)% %REQ(USER-AGENT):4% ' +
      '%START_TIME(%Y/%m/%d %H:%M:%S.%3f)% 100%% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %RESP(nope)%',
  );
  assert.equal(f(rec), '/orig?q=2 /api/v1/products curl 2020/11/25 21:26:18.409 100% 10.44.1.23 -');
  const tcp: RequestRecord = {
    startTime: TEAPOT.startTime,
    durationMs: 1200,
    responseCode: 0,
    responseFlags: '',
    bytesReceived: 12,
    bytesSent: 34,
    upstreamCluster: 'outbound|9000||tcp-echo.default.svc.cluster.local',
  };
  assert.equal(
    compileTextFormat(ISTIO_TEXT_FORMAT)(tcp),
    '[2020-11-25T21:26:18.409Z] "- - -" 0 - - - "-" 12 34 1200 - "-" "-" "-" "-" "-" ' +
      'outbound|9000||tcp-echo.default.svc.cluster.local - - - - -\n',
  );
});

test('an unknown operator is rejected when the format is compiled, naming it', () => {
  assert.throws(
    () => compileTextFormat('%START_TIME% %NOT_A_THING%'),
    (e) => isTrellisError(e, 'ACCESSLOG_FORMAT') && /%NOT_A_THING%/.test(e.message),
  );
  assert.throws(() => compileTextFormat('%REQ(a?b?c)%'), /NAME or NAME\?ALTERNATIVE/);
});

test('the file sink appends every line in order, in batches, and close flushes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-accesslog-'));
  try {
    const path = join(dir, 'access.log');
    const sink = new AccessLogSink({ destination: { path } });
    const logger = new AccessLogger({ sink, format: '%REQ(X-REQUEST-ID)% %RESPONSE_CODE%' });
    for (let i = 0; i < 1000; i++) {
      logger.log({ ...TEAPOT, requestHeaders: { 'x-request-id': `id-${i}` } });
    }
    await sink.close();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 1000);
    assert.equal(lines[0], 'id-0 418');
    assert.equal(lines[999], 'id-999 418');
    assert.deepEqual(sink.stats(), { written: 1000, dropped: 0, bufferedBytes: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a slow destination never blocks writes: the bounded queue drops and counts', async () => {
  const chunks: string[] = [];
  let release: (() => void) | undefined;
  const slow = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      release = cb; // the "disk" answers only when the test says so
    },
  });
  const sink = new AccessLogSink({ destination: { stream: slow }, maxBufferedBytes: 100 });
  const line = `${'x'.repeat(19)}\n`; // 20 bytes
  for (let i = 0; i < 5; i++) assert.equal(sink.write(line), true);
  await new Promise((r) => setImmediate(r)); // first batch goes out and hangs
  assert.equal(chunks.length, 1);
  assert.equal(sink.write(line), false, 'in-flight bytes count against the bound');
  release!();
  await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 5; i++) sink.write(line);
  assert.equal(sink.write(line), false);
  const flushed = sink.flush();
  await new Promise((r) => setImmediate(r));
  release!();
  await flushed;
  assert.deepEqual(sink.stats(), { written: 10, dropped: 2, bufferedBytes: 0 });
  assert.equal(chunks.join('').length, 200);
});
