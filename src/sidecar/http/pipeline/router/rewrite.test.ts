// Path rewrites and the shadow authority of mirrored requests.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouteActionConfig, RouteMatch } from '../../../config/model.js';
import { rewritePath, shadowAuthority } from './rewrite.js';

const match = (kind: RouteMatch['path']['kind'], value: string): RouteMatch => ({
  path: { kind, value },
  caseSensitive: false,
  headers: [],
  queryParameters: [],
  grpcOnly: false,
});
const action = (a: Partial<RouteActionConfig>) => a as RouteActionConfig;

test('prefix_rewrite swaps the matched prefix (matched case-insensitively) and keeps the query', () => {
  assert.equal(
    rewritePath('/API/v1/x?q=1', match('prefix', '/api/'), action({ prefixRewrite: '/' })),
    '/v1/x?q=1',
  );
  assert.equal(
    rewritePath('/exact?q', match('exact', '/exact'), action({ prefixRewrite: '/other' })),
    '/other?q',
  );
  assert.equal(rewritePath('/x', match('prefix', '/'), action({})), undefined);
});

test('regex_rewrite replaces every match in the path, never in the query', () => {
  const a = action({ regexRewrite: { pattern: /o/, substitution: '0' } });
  assert.equal(rewritePath('/foo/boo?o=o', match('prefix', '/'), a), '/f00/b00?o=o');
});

test('-shadow goes before the port, IPv6 literals included', () => {
  assert.equal(shadowAuthority('httpbin:8000'), 'httpbin-shadow:8000');
  assert.equal(shadowAuthority('cluster-1'), 'cluster-1-shadow');
  assert.equal(shadowAuthority('[::1]:80'), '[::1]-shadow:80');
});
