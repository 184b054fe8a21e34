// Tests of fetch's curl-style command line and -w templates.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFetchArgs, UsageError } from './fetch-args.js';
import { formatWriteOut } from './write-out.js';

const noFiles = (p: string) => {
  throw new Error(`unexpected read of ${p}`);
};

test('the curl lines of the Istio tasks parse as curl reads them', () => {
  const a = parseFetchArgs(
    ['httpbin.foo:8000/ip', '-s', '-o', '/dev/null', '-w', '%{http_code}\\n'],
    noFiles,
  );
  assert.equal(a.url, 'http://httpbin.foo:8000/ip');
  assert.deepEqual([a.silent, a.output, a.writeOut], [true, '/dev/null', '%{http_code}\\n']);
  const b = parseFetchArgs(['-sSI', '-HHost:httpbin.example.com', 'http://127.0.0.1:80/status/200'], noFiles);
  assert.deepEqual([b.silent, b.showError, b.head], [true, true, true]);
  assert.deepEqual(b.headers, [['Host', 'httpbin.example.com']]);
  const c = parseFetchArgs(
    ['-sSo', 'out.txt', '-XPOST', '--max-time=2.5', '-H', 'x-token: admin', 'http://x/'],
    noFiles,
  );
  assert.deepEqual([c.output, c.method, c.maxTimeMs], ['out.txt', 'POST', 2500]);
  assert.deepEqual(c.headers, [['x-token', 'admin']]);
});

test('-d joins repeated data with & and reads @files', () => {
  const a = parseFetchArgs(['-d', 'a=1', '-d', '@body.txt', 'http://x/'], (p) => `from ${p}`);
  assert.equal(a.data, 'a=1&from body.txt');
});

test('bad command lines are usage errors that say what is wrong', () => {
  assert.throws(
    () => parseFetchArgs(['-Z', 'http://x/'], noFiles),
    (e: unknown) => e instanceof UsageError && /-Z/.test(e.message),
  );
  assert.throws(() => parseFetchArgs(['-H'], noFiles), /requires parameter/);
  assert.throws(() => parseFetchArgs(['-H', 'novalue', 'http://x/'], noFiles), /bad header/);
  assert.throws(() => parseFetchArgs([], noFiles), /no URL/);
});

test('-w expands variables and escapes; no response prints 000', () => {
  const values = {
    httpCode: 0,
    timeTotalSeconds: 0.5,
    sizeDownload: 12,
    sizeHeader: 40,
    contentType: 'text/plain',
    urlEffective: 'http://x/',
    httpVersion: '1.1',
    exitCode: 7,
    errorMessage: 'refused',
  };
  assert.equal(formatWriteOut('%{http_code}\\n', values), '000\n');
  assert.equal(
    formatWriteOut('%{response_code} %{size_download} %{exitcode} 100%%', { ...values, httpCode: 503 }),
    '503 12 7 100%',
  );
  assert.equal(formatWriteOut('%{time_total}', values), '0.500000');
});
