// Response flags: Envoy's print order and the empty value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FLAG, flagBit, flagsString } from './flags.js';

test('flags print in Envoy order whatever order they were set in, `-` when none', () => {
  assert.equal(flagsString(0), '-');
  assert.equal(flagsString(FLAG.URX | FLAG.UF), 'UF,URX');
  assert.equal(flagsString(FLAG.DC | FLAG.UT | FLAG.DI), 'UT,DI,DC');
  assert.equal(flagsString(flagBit('NR')), 'NR');
});

test('an unknown flag is dropped rather than thrown', () => {
  assert.equal(flagBit('ZZ'), 0);
});
