// Size-based log rotation.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RotatingLog } from './log-file.js';

test('logs rotate by size and keep a fixed number of old files', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'log-')), 'app.log');
  const log = new RotatingLog({ path, maxBytes: 10, keep: 2 });
  for (const line of ['aaaa\n', 'bbbb\n', 'cccc\n', 'dddd\n', 'eeee\n', 'ffff\n', 'gggg\n']) log.write(line);
  log.close();
  assert.equal(readFileSync(path, 'utf8'), 'gggg\n');
  assert.equal(readFileSync(`${path}.1`, 'utf8'), 'eeee\nffff\n');
  assert.equal(readFileSync(`${path}.2`, 'utf8'), 'cccc\ndddd\n');
  assert.equal(existsSync(`${path}.3`), false);
});

test('a reopened log appends to what is there', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'log-')), 'app.log');
  const a = new RotatingLog({ path });
  a.write('one\n');
  a.close();
  const b = new RotatingLog({ path });
  b.write(Buffer.from('two\n'));
  b.close();
  assert.equal(readFileSync(path, 'utf8'), 'one\ntwo\n');
});
