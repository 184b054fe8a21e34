// Header edits from the engines: Envoy's order, and values that are not valid headers never reach the wire.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeaderList } from '../../headers.js';
import { addHeaders, applyHeaderEdits, headerListOf } from './header-edits.js';

test('removes, then sets (every value replaced), then appends', () => {
  const headers = new HeaderList({ 'x-jwt': 'Bearer t', 'x-user': ['forged', 'again'], 'x-tag': 'a' });
  applyHeaderEdits(headers, {
    remove: ['x-jwt'],
    set: [{ name: 'x-user', value: 'alice' }],
    append: [{ name: 'x-tag', value: 'b' }],
  });
  assert.deepEqual(
    [...headers],
    [
      ['x-user', 'alice'],
      ['x-tag', 'a'],
      ['x-tag', 'b'],
    ],
  );
});

test('a claim or service value holding CR/LF, or a bad header name, is dropped instead of written', () => {
  const headers = new HeaderList();
  applyHeaderEdits(headers, {
    remove: [],
    set: [
      { name: 'x-claim', value: 'ok\r\nx-injected: 1' },
      { name: 'bad name', value: 'v' },
      { name: 'x-good', value: 'v' },
    ],
    append: [{ name: 'x-more', value: 'a\nb' }],
  });
  assert.deepEqual([...headers], [['x-good', 'v']]);
  const reply = headerListOf([
    { name: 'www-authenticate', value: 'Bearer realm="x"' },
    { name: 'x-evil', value: '\u0000' },
  ]);
  assert.deepEqual([...reply], [['www-authenticate', 'Bearer realm="x"']]);
  const response = new HeaderList({ 'x-check': 'one' });
  addHeaders(response, [
    { name: 'x-check', value: 'two' },
    { name: 'x-bad', value: 'a\rb' },
  ]);
  assert.deepEqual(response.getAll('x-check'), ['one', 'two']);
  assert.equal(response.has('x-bad'), false);
});
