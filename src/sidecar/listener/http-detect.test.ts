// http_inspector: request lines and the h2c preface are recognised, everything else is told apart early.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectHttp } from './http-detect.js';

const b = (s: string) => Buffer.from(s, 'latin1');

test('HTTP/1.0, HTTP/1.1 and the h2c preface', () => {
  assert.equal(detectHttp(b('GET /x HTTP/1.1\r\nHost: a\r\n\r\n')), 'http/1.1');
  assert.equal(detectHttp(b('POST /upload?x=1 HTTP/1.0\r\n')), 'http/1.0');
  assert.equal(detectHttp(b('OPTIONS * HTTP/1.1\r\n')), 'http/1.1');
  assert.equal(detectHttp(b('CONNECT reviews:9080 HTTP/1.1\r\n')), 'http/1.1');
  assert.equal(detectHttp(b('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')), 'h2c');
});

test('waits while the bytes could still become a request line or the preface', () => {
  for (const s of [
    'G',
    'GE',
    'GET',
    'GET ',
    'GET /a',
    'GET /a HTTP/1.',
    'P',
    'PR',
    'PRO',
    'PRI * HTTP/2.0\r\n',
    'PROPFIND /',
  ]) {
    assert.equal(detectHttp(b(s)), 'incomplete', JSON.stringify(s));
  }
});

test('not HTTP as soon as that is certain: binary, lower-case methods, other versions, controls', () => {
  for (const s of [
    '\x16\x03\x01',
    'get / HTTP/1.1\r\n',
    'HELLO world\r\n',
    'GET / HTTP/2.0\r\n',
    'GET /\x01',
    'SSH-2.0',
    'x',
  ]) {
    assert.equal(detectHttp(b(s)), 'not-http', JSON.stringify(s));
  }
});
