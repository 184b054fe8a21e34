import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RENEWAL, renewalDelayMs } from './renewal.js';

const notBefore = new Date('2026-01-01T00:00:00Z');
const notAfter = new Date('2026-01-02T00:00:00Z');
const DAY = 86_400_000;

test('a 24 h certificate renews after 12 h, give or take 1% of its life', () => {
  const at = (random: number) =>
    renewalDelayMs({
      notBefore,
      notAfter,
      now: notBefore.getTime(),
      policy: DEFAULT_RENEWAL,
      random: () => random,
    });
  assert.equal(at(0.5), DAY / 2);
  assert.equal(at(0), DAY * 0.49);
  assert.equal(Math.round(at(0.9999999)), DAY * 0.51);
});

test('the delay counts from now, and is zero once the renewal time has passed', () => {
  const policy = DEFAULT_RENEWAL;
  const random = () => 0.5;
  assert.equal(
    renewalDelayMs({ notBefore, notAfter, now: notBefore.getTime() + DAY / 4, policy, random }),
    DAY / 4,
  );
  assert.equal(renewalDelayMs({ notBefore, notAfter, now: notAfter.getTime(), policy, random }), 0);
});

test('a short certificate (seconds) keeps the same proportions', () => {
  const start = new Date(1_000_000);
  const end = new Date(1_004_000);
  assert.equal(
    renewalDelayMs({
      notBefore: start,
      notAfter: end,
      now: 1_000_000,
      policy: DEFAULT_RENEWAL,
      random: () => 0.5,
    }),
    2000,
  );
});
