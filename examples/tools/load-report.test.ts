// Tests of load's fortio-style flags and summary.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGoDuration } from './go-duration.js';
import { parseLoadArgs } from './load-args.js';
import { codeCounts, formatCodeLine, formatTextReport, percentile } from './load-report.js';
import type { LoadResult } from './load-runner.js';

test('code lines read exactly like fortio’s, including -1 for calls without a response', () => {
  assert.equal(formatCodeLine(200, 11, 30), 'Code 200 : 11 (36.7 %)');
  assert.equal(formatCodeLine(503, 19, 30), 'Code 503 : 19 (63.3 %)');
  assert.equal(formatCodeLine(-1, 3, 20), 'Code  -1 : 3 (15.0 %)');
});

test('percentiles interpolate between ranks', () => {
  const sorted = [1, 2, 3, 4, 5];
  assert.equal(percentile(sorted, 50), 3);
  assert.equal(percentile(sorted, 75), 4);
  assert.equal(percentile(sorted, 90), 4.6);
  assert.equal(percentile([], 50), 0);
});

test('the report lists codes in order and names the run', () => {
  const call = (code: number) => ({ code, durationMs: 2, headerBytes: 10, bodyBytes: 5, error: undefined });
  const result: LoadResult = {
    startedAt: new Date(0),
    elapsedMs: 100,
    calls: [call(503), call(200), call(200), call(-1)],
    socketsPerConnection: [2, 1],
  };
  assert.deepEqual(codeCounts(result), [
    [-1, 1],
    [200, 2],
    [503, 1],
  ]);
  const args = parseLoadArgs(['-c', '2', '-qps', '0', '-n', '4', 'http://httpbin:8000/get']);
  const text = formatTextReport(args, result);
  assert.match(text, /for exactly 4 calls \(2 per thread \+ 0\)/);
  assert.match(text, /Sockets used: 3 \(for perfect keepalive, would be 2\)/);
  assert.ok(
    text.indexOf('Code  -1') < text.indexOf('Code 200') &&
      text.indexOf('Code 200') < text.indexOf('Code 503'),
  );
  assert.match(text, /All done 4 calls \(plus 0 warmup\) 2 ms avg, 40\.0 qps/);
});

test('fortio’s flags: defaults, single or double dash, durations', () => {
  const d = parseLoadArgs(['httpbin:8000/get']);
  assert.deepEqual(
    [d.url, d.concurrency, d.qps, d.calls, d.durationMs],
    ['http://httpbin:8000/get', 4, 8, undefined, 5000],
  );
  const a = parseLoadArgs([
    '--c=3',
    '-qps',
    '-1',
    '-t',
    '1m30s',
    '-timeout',
    '500ms',
    '-loglevel',
    'Warning',
    'http://x/',
  ]);
  assert.deepEqual([a.concurrency, a.qps, a.durationMs, a.timeoutMs], [3, 0, 90_000, 500]);
  assert.equal(parseGoDuration('2'), 2000);
  assert.equal(parseGoDuration('1.5s'), 1500);
  assert.equal(parseGoDuration('5 s'), undefined);
  assert.throws(() => parseLoadArgs(['-bogus', 'http://x/']), /not defined: -bogus/);
});
