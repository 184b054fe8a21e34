import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRateLimitConfig } from './config.js';
import { ISTIO_TASK_CONFIG } from './examples.js';
import { findLimit } from './limits.js';

const parse = (text: string) => parseRateLimitConfig([{ name: 'config.yaml', text }]);
const entries = (...kv: [string, string][]) => ({ entries: kv.map(([key, value]) => ({ key, value })) });

test("Istio's task config: a value match wins, the bare key catches the rest", () => {
  const config = parse(ISTIO_TASK_CONFIG);
  assert.equal(findLimit(config, 'ratelimit', entries(['PATH', '/productpage']))?.requestsPerUnit, 1);
  assert.equal(findLimit(config, 'ratelimit', entries(['PATH', 'api']))?.requestsPerUnit, 2);
  const other = findLimit(config, 'ratelimit', entries(['PATH', '/reviews']));
  assert.equal(other?.requestsPerUnit, 100);
  assert.equal(other?.fullKey, 'ratelimit.PATH');
  assert.equal(findLimit(config, 'other-domain', entries(['PATH', 'api'])), undefined);
});

test('nested descriptors match only at the depth of the last entry; wildcards match prefixes', () => {
  const config = parse(`
domain: edge
descriptors:
  - key: remote_address
    rate_limit: { unit: second, requests_per_unit: 10 }
    descriptors:
      - key: path
        value: "/login*"
        rate_limit: { unit: minute, requests_per_unit: 5 }
  - key: client
    value: internal
    rate_limit: { unlimited: true }
  - key: plan
    value: gold
    shadow_mode: true
    detailed_metric: true
    rate_limit: { unit: hour, requests_per_unit: 1000, name: gold }
`);
  assert.equal(findLimit(config, 'edge', entries(['remote_address', '1.2.3.4']))?.requestsPerUnit, 10);
  assert.equal(
    findLimit(config, 'edge', entries(['remote_address', '1.2.3.4'], ['path', '/login/form']))
      ?.requestsPerUnit,
    5,
  );
  assert.equal(
    findLimit(config, 'edge', entries(['remote_address', '1.2.3.4'], ['path', '/home'])),
    undefined,
  );
  assert.equal(findLimit(config, 'edge', entries(['client', 'internal']))?.unlimited, true);
  const gold = findLimit(config, 'edge', entries(['plan', 'gold']))!;
  assert.equal(gold.shadowMode, true);
  assert.equal(gold.fullKey, 'edge.plan_gold_gold', 'detailed_metric keys stats by value');
  assert.equal(findLimit(config, 'edge', entries(['client', 'internal'], ['extra', 'x'])), undefined);
});

test('a limit override in the request wins over the config', () => {
  const config = parse(ISTIO_TASK_CONFIG);
  const rule = findLimit(config, 'ratelimit', {
    ...entries(['PATH', 'api']),
    limit: { requestsPerUnit: 7, unit: 1 } as never,
  });
  assert.equal(rule?.requestsPerUnit, 7);
  assert.equal(rule?.unit, 'second');
});

test('config errors name the file, the path and the problem', () => {
  assert.throws(
    () =>
      parse('domain: d\ndescriptors:\n  - key: a\n    rate_limit: {unit: fortnight, requests_per_unit: 1}'),
    /config.yaml: descriptors\[0\].rate_limit.unit: "fortnight" is not one of second, minute, hour, day, month, year/,
  );
  assert.throws(
    () => parse('domain: d\ndescriptors:\n  - key: a\n    value: b\n  - key: a\n    value: b'),
    /descriptors\[1\]: duplicate descriptor "a_b" under "d"/,
  );
  assert.throws(
    () => parse('domain: d\ndescriptors:\n  - key: a\n    rate_limt: {}'),
    /descriptors\[0\]: unknown key "rate_limt"/,
  );
  assert.throws(() => parse('descriptors: []'), /"domain" must be a non-empty string/);
  assert.throws(
    () => parse('domain: d\ndescriptors:\n  - key: a\n    rate_limit: {unlimited: true, unit: second}'),
    /an unlimited limit must not set unit/,
  );
  assert.throws(
    () =>
      parseRateLimitConfig([
        { name: 'a.yaml', text: 'domain: d' },
        { name: 'b.yaml', text: 'domain: d' },
      ]),
    /b.yaml: duplicate domain "d"/,
  );
});
