// Startup progress on terminals and in logs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressPrinter } from './progress.js';

function sink(isTTY: boolean): { out: { write(s: string): boolean; isTTY: boolean }; text: () => string } {
  let text = '';
  const write = (s: string): boolean => {
    text += s;
    return true;
  };
  return { out: { isTTY, write }, text: () => text };
}

test('on a terminal the pod count is rewritten in place; other lines stay', () => {
  const prev = process.env.TERM;
  process.env.TERM = 'xterm';
  const s = sink(true);
  const p = new ProgressPrinter(s.out);
  p.print({ stage: 'control-plane', text: 'control plane up' });
  p.print({ stage: 'pods', text: 'pods ready: 0 of 2' });
  p.print({ stage: 'pods', text: 'pods ready: 2 of 2' });
  p.done();
  process.env.TERM = prev;
  assert.equal(s.text(), 'control plane up\n\r\x1b[Kpods ready: 0 of 2\r\x1b[Kpods ready: 2 of 2\n');
});

test('in logs and pipes every step is a plain line', () => {
  const s = sink(false);
  const p = new ProgressPrinter(s.out);
  p.print({ stage: 'pods', text: 'pods ready: 0 of 2' });
  p.print({ stage: 'pods', text: 'pods ready: 2 of 2' });
  p.done();
  assert.equal(s.text(), 'pods ready: 0 of 2\npods ready: 2 of 2\n');
});
