// Retry decisions: every retry_on condition against responses and failures, and the x-envoy-* request overrides.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileHeaderMatcher } from '../../../config/match/header-matcher.js';
import type { RetryPolicyConfig } from '../../../config/model.js';
import { stringMatch } from '../../../config/string-match.js';
import { HeaderList } from '../../headers.js';
import { effectiveRetryPolicy, retriableFailure, retriableResponse } from './retry-policy.js';

function config(retryOn: string[], extra: Partial<RetryPolicyConfig> = {}): RetryPolicyConfig {
  return {
    retryOn: new Set(retryOn),
    numRetries: 2,
    retriableStatusCodes: new Set(),
    previousHosts: false,
    hostSelectionRetryMaxAttempts: 1,
    backoffBaseMs: 0,
    backoffMaxMs: 0,
    retriableHeaders: [],
    ...extra,
  };
}

const policy = (retryOn: string[], extra: Partial<RetryPolicyConfig> = {}) =>
  effectiveRetryPolicy(config(retryOn, extra), undefined, new HeaderList(), false)!;
const res = (h: Record<string, string> = {}) => new HeaderList(h);

test('5xx retries every 5xx; gateway-error only 502/503/504; retriable-4xx only 409', () => {
  assert.deepEqual(
    [500, 501, 503, 409, 404].map((s) => retriableResponse(policy(['5xx']), s, res())),
    [true, true, true, false, false],
  );
  assert.deepEqual(
    [500, 502, 503, 504].map((s) => retriableResponse(policy(['gateway-error']), s, res())),
    [false, true, true, true],
  );
  assert.deepEqual(
    [409, 400, 503].map((s) => retriableResponse(policy(['retriable-4xx']), s, res())),
    [true, false, false],
  );
});

test('retriable-status-codes uses the policy list; retriable-headers matches response headers', () => {
  const codes = policy(['retriable-status-codes'], { retriableStatusCodes: new Set([418, 503]) });
  assert.deepEqual(
    [418, 503, 500].map((s) => retriableResponse(codes, s, res())),
    [true, true, false],
  );
  const headers = policy(['retriable-headers'], {
    retriableHeaders: [
      compileHeaderMatcher({
        name: 'x-retry',
        kind: 'string',
        match: stringMatch('exact', 'yes'),
        invert: false,
        treatMissingAsEmpty: false,
      }),
    ],
  });
  assert.equal(retriableResponse(headers, 200, res({ 'x-retry': 'yes' })), true);
  assert.equal(retriableResponse(headers, 200, res({ 'x-retry': 'no' })), false);
});

test('gRPC conditions read grpc-status from the response head only', () => {
  const p = policy(['cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable']);
  assert.deepEqual(
    [1, 4, 13, 8, 14, 2, 0].map((g) => retriableResponse(p, 200, res({ 'grpc-status': String(g) }))),
    [true, true, true, true, true, false, false],
  );
  assert.equal(retriableResponse(policy(['unavailable']), 200, res({ 'grpc-status': '4' })), false);
});

test('never retried: x-envoy-overloaded, and x-envoy-ratelimited unless envoy-ratelimited', () => {
  assert.equal(retriableResponse(policy(['5xx']), 503, res({ 'x-envoy-overloaded': 'true' })), false);
  assert.equal(retriableResponse(policy(['5xx']), 429, res({ 'x-envoy-ratelimited': 'true' })), false);
  assert.equal(
    retriableResponse(policy(['envoy-ratelimited']), 429, res({ 'x-envoy-ratelimited': 'true' })),
    true,
  );
});

test('failures: resets and per-try timeouts under 5xx/gateway-error/reset; each narrow condition only its own', () => {
  for (const broad of ['5xx', 'gateway-error', 'reset']) {
    for (const kind of ['connect-failure', 'reset', 'refused-stream', 'timeout'] as const) {
      assert.equal(retriableFailure(policy([broad]), kind), true, `${broad}/${kind}`);
    }
    assert.equal(retriableFailure(policy([broad]), 'overflow'), false);
  }
  assert.deepEqual(
    (['connect-failure', 'reset', 'refused-stream', 'timeout'] as const).map((k) =>
      retriableFailure(policy(['connect-failure']), k),
    ),
    [true, false, false, false],
  );
  assert.deepEqual(
    (['connect-failure', 'reset', 'refused-stream', 'timeout'] as const).map((k) =>
      retriableFailure(policy(['refused-stream']), k),
    ),
    [false, false, true, false],
  );
});

test('trusted x-envoy-retry-on / -max-retries / -retriable-status-codes build or extend the policy, and are consumed', () => {
  const headers = new HeaderList({
    'x-envoy-retry-on': '5xx,retriable-status-codes',
    'x-envoy-max-retries': '4',
    'x-envoy-retriable-status-codes': '409',
  });
  const p = effectiveRetryPolicy(undefined, undefined, headers, true)!;
  assert.equal(p.numRetries, 4);
  assert.equal(retriableResponse(p, 409, res()), true);
  assert.equal(headers.size, 0);
  // untrusted: ignored (the request steps removed them anyway)
  assert.equal(
    effectiveRetryPolicy(undefined, undefined, new HeaderList({ 'x-envoy-retry-on': '5xx' }), false),
    undefined,
  );
  // the route's policy wins over the virtual host's, whole
  const route = config(['connect-failure'], { numRetries: 1 });
  const vhost = config(['5xx'], { numRetries: 3 });
  const chosen = effectiveRetryPolicy(route, vhost, new HeaderList(), false)!;
  assert.equal(chosen.numRetries, 1);
  assert.equal(retriableResponse(chosen, 503, res()), false);
});
