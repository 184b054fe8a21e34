// Redirect Location values as Envoy writes them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RedirectConfig, RouteMatch } from '../../../config/model.js';
import { createRequest } from '../../message.js';
import { redirectLocation } from './redirect.js';

const prefix = (value: string): RouteMatch => ({
  path: { kind: 'prefix', value },
  caseSensitive: true,
  headers: [],
  queryParameters: [],
  grpcOnly: false,
});
const redirect = (r: Partial<RedirectConfig>): RedirectConfig => ({
  kind: 'redirect',
  status: 301,
  stripQuery: false,
  ...r,
});
const req = (authority: string, path: string, scheme = 'http') =>
  createRequest({ method: 'GET', authority, path, scheme });

test('https redirect drops the default port of the old scheme and keeps the path and query', () => {
  assert.equal(
    redirectLocation(req('shop.example:80', '/cart?id=1'), prefix('/'), redirect({ scheme: 'https' })),
    'https://shop.example/cart?id=1',
  );
  assert.equal(
    redirectLocation(req('shop.example:8080', '/'), prefix('/'), redirect({ scheme: 'https' })),
    'https://shop.example:8080/',
  );
});

test('host and port redirects; a prefix rewrite swaps the matched prefix', () => {
  assert.equal(
    redirectLocation(
      req('old:9080', '/v1/items/7'),
      prefix('/v1/'),
      redirect({ host: 'new', port: 9443, prefixRewrite: '/v2/' }),
    ),
    'http://new:9443/v2/items/7',
  );
});

test('path_redirect replaces the path; its own query wins; strip_query drops the rest', () => {
  assert.equal(redirectLocation(req('h', '/a?x=1'), prefix('/'), redirect({ path: '/b' })), 'http://h/b?x=1');
  assert.equal(
    redirectLocation(req('h', '/a?x=1'), prefix('/'), redirect({ path: '/b?y=2' })),
    'http://h/b?y=2',
  );
  assert.equal(
    redirectLocation(req('h', '/a?x=1'), prefix('/'), redirect({ stripQuery: true })),
    'http://h/a',
  );
});
