// Interned header names: case-insensitive byte matching never confuses a name with another.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headerName } from './names.js';

const name = (raw: string) => headerName(Buffer.from(raw, 'latin1'), 0, raw.length);

test('known names are matched case-insensitively and come back interned', () => {
  assert.equal(name('Content-Length'), 'content-length');
  assert.equal(name('CONTENT-LENGTH'), 'content-length');
  assert.equal(name('X-B3-SpanId'), 'x-b3-spanid');
  assert.equal(name('TE'), 'te');
});

test('names that only look alike are not folded onto a known one', () => {
  assert.equal(name('Content_Length'), 'content_length');
  assert.equal(name('Hos~'), 'hos~');
  assert.equal(name('X-Custom'), 'x-custom');
  assert.equal(name('Content-Lengtx'), 'content-lengtx');
});
