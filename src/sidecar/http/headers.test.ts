// HeaderList and hop-by-hop handling: order, multi-values, injection refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeaderList } from './headers.js';
import { isHopByHop, removeHopByHop } from './hop-by-hop.js';

test('repeated headers stay separate entries in order, and names are case-insensitive', () => {
  const h = new HeaderList([
    ['Set-Cookie', 'a=1'],
    ['Content-Type', 'text/plain'],
    ['set-cookie', 'b=2'],
  ]);
  assert.equal(h.size, 3);
  assert.deepEqual(h.getAll('SET-COOKIE'), ['a=1', 'b=2']);
  assert.equal(h.get('set-cookie'), 'a=1');
  assert.equal(h.getJoined('Set-Cookie'), 'a=1, b=2');
  assert.deepEqual(
    [...h],
    [
      ['set-cookie', 'a=1'],
      ['content-type', 'text/plain'],
      ['set-cookie', 'b=2'],
    ],
  );
  assert.deepEqual({ ...h.toRecord() }, { 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/plain' });
});

test('set replaces every value in place; remove drops all of them', () => {
  const h = new HeaderList({ a: ['1', '2'], b: '3' });
  h.set('A', 'x');
  assert.deepEqual(
    [...h],
    [
      ['a', 'x'],
      ['b', '3'],
    ],
  );
  h.add('a', 'y');
  assert.equal(h.remove('a'), 2);
  assert.equal(h.has('a'), false);
  assert.deepEqual([...h], [['b', '3']]);
  h.set('c', '4');
  assert.equal(h.nameAt(1), 'c');
});

test('a filter cannot inject CR/LF, NUL or an invalid name (response splitting)', () => {
  const h = new HeaderList();
  assert.throws(() => h.set('x-a', 'v\r\nx-evil: 1'), { code: 'HTTP_INVALID_HEADER', message: /x-a/ });
  assert.throws(() => h.add('x-a', 'v\0'), { code: 'HTTP_INVALID_HEADER' });
  assert.throws(() => h.add('bad name', 'v'), { code: 'HTTP_INVALID_HEADER', message: /bad name/ });
  assert.throws(() => h.add('', 'v'), { code: 'HTTP_INVALID_HEADER' });
  h.add('x-ok', 'tab\tand obs-text \u00e9');
  assert.equal(h.get('x-ok'), 'tab\tand obs-text \u00e9');
});

test('hop-by-hop headers and the names Connection lists are removed; te: trailers survives', () => {
  const h = new HeaderList([
    ['connection', 'keep-alive, x-secret'],
    ['keep-alive', 'timeout=5'],
    ['x-secret', 'token'],
    ['transfer-encoding', 'chunked'],
    ['upgrade', 'websocket'],
    ['proxy-connection', 'keep-alive'],
    ['te', 'trailers'],
    ['x-kept', '1'],
  ]);
  removeHopByHop(h);
  assert.deepEqual(
    [...h],
    [
      ['x-kept', '1'],
      ['te', 'trailers'],
    ],
  );
  assert.equal(isHopByHop('te', 'trailers'), false);
  assert.equal(isHopByHop('te', 'gzip'), true);
  assert.equal(isHopByHop('content-type'), false);
});
