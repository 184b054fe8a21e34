// Route matching: paths without query strings, case folding, regexes, headers, query parameters, gRPC.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { oneHostRoutes, request, routeTableFromJson } from '../testing/resources.js';
import { findRoute } from './route.js';

/** Decodes the routes and returns the name of the first one that matches, or undefined (404). */
function routeFor(routes: unknown[], path: string, headers: Record<string, string | string[]> = {}) {
  const table = routeTableFromJson(oneHostRoutes(routes));
  const vh = table.findVirtualHost('svc')!;
  return findRoute(vh, request(path, headers))?.name;
}

const to = { cluster: 'c' };

test('path matching ignores the query string and fragment, as Envoy does', () => {
  const routes = [
    { name: 'exact', match: { path: '/productpage' }, route: to },
    { name: 'prefix', match: { prefix: '/static' }, route: to },
  ];
  assert.equal(routeFor(routes, '/productpage?u=normal'), 'exact');
  assert.equal(routeFor(routes, '/productpage#top'), 'exact');
  assert.equal(routeFor(routes, '/productpage/x'), undefined);
  assert.equal(routeFor(routes, '/productpagex'), undefined);
  assert.equal(routeFor(routes, '/static/app.js?v=1'), 'prefix');
  // A prefix is tested on the path only: "?" in the query does not extend it.
  assert.equal(routeFor([{ name: 'q', match: { prefix: '/a?b' }, route: to }], '/a?b=1'), undefined);
});

test('the first matching route wins, even when a later one is more specific', () => {
  const routes = [
    { name: 'all', match: { prefix: '/' }, route: to },
    { name: 'api', match: { prefix: '/api' }, route: to },
  ];
  assert.equal(routeFor(routes, '/api/v1'), 'all');
});

test('case_sensitive: false folds ASCII case for prefix and exact paths, never for regexes', () => {
  const routes = [
    { name: 'api', match: { prefix: '/API/', caseSensitive: false }, route: to },
    { name: 'login', match: { path: '/Login', caseSensitive: false }, route: to },
    { name: 're', match: { safeRegex: { regex: '/Items/[0-9]+' }, caseSensitive: false }, route: to },
  ];
  assert.equal(routeFor(routes, '/api/users'), 'api');
  assert.equal(routeFor(routes, '/Api/users'), 'api');
  assert.equal(routeFor(routes, '/LOGIN'), 'login');
  assert.equal(routeFor(routes, '/Items/12'), 're');
  assert.equal(routeFor(routes, '/items/12'), undefined);
  // ASCII folding only: the Kelvin sign does not fold to "k" as JavaScript's toLowerCase would.
  assert.equal(
    routeFor([{ name: 'k', match: { prefix: '/k', caseSensitive: false }, route: to }], '/\u212A'),
    undefined,
  );
});

test('safe_regex must match the whole path (without the query string)', () => {
  const routes = [{ name: 'items', match: { safeRegex: { regex: '/items/[0-9]+' } }, route: to }];
  assert.equal(routeFor(routes, '/items/42'), 'items');
  assert.equal(routeFor(routes, '/items/42?sort=asc'), 'items');
  assert.equal(routeFor(routes, '/items/42/reviews'), undefined);
  assert.equal(routeFor(routes, '/v1/items/42'), undefined);
});

test('path_separated_prefix matches the prefix itself or the prefix followed by "/"', () => {
  const routes = [{ name: 'api', match: { pathSeparatedPrefix: '/api' }, route: to }];
  assert.equal(routeFor(routes, '/api'), 'api');
  assert.equal(routeFor(routes, '/api?x=1'), 'api');
  assert.equal(routeFor(routes, '/api/v1'), 'api');
  assert.equal(routeFor(routes, '/apiv1'), undefined);
});

test('header matchers: string match, presence, absence, invert, range and missing-as-empty', () => {
  const routes = [
    {
      name: 'jason',
      match: { prefix: '/', headers: [{ name: 'end-user', stringMatch: { exact: 'jason' } }] },
      route: to,
    },
    {
      name: 'present',
      match: { prefix: '/', headers: [{ name: 'x-present', presentMatch: true }] },
      route: to,
    },
    {
      name: 'absent',
      match: { prefix: '/', headers: [{ name: 'x-absent', presentMatch: false }] },
      route: to,
    },
  ];
  assert.equal(routeFor(routes, '/', { 'end-user': 'jason' }), 'jason');
  assert.equal(routeFor(routes, '/', { 'end-user': 'Jason', 'x-present': '' }), 'present');
  assert.equal(routeFor(routes, '/', { 'x-absent': '1' }), undefined);
  assert.equal(routeFor(routes, '/', {}), 'absent');

  const inverted = [
    {
      name: 'not-debug',
      match: { prefix: '/', headers: [{ name: 'x-debug', stringMatch: { exact: '1' }, invertMatch: true }] },
      route: to,
    },
  ];
  assert.equal(routeFor(inverted, '/', { 'x-debug': '1' }), undefined);
  assert.equal(routeFor(inverted, '/', { 'x-debug': '0' }), 'not-debug');
  // A missing header fails a value matcher even when inverted (Envoy's rule for absent headers).
  assert.equal(routeFor(inverted, '/', {}), undefined);
  const missingAsEmpty = [
    {
      name: 'm',
      match: {
        prefix: '/',
        headers: [
          {
            name: 'x-debug',
            stringMatch: { exact: '1' },
            invertMatch: true,
            treatMissingHeaderAsEmpty: true,
          },
        ],
      },
      route: to,
    },
  ];
  assert.equal(routeFor(missingAsEmpty, '/', {}), 'm');

  const range = [
    {
      name: 'r',
      match: { prefix: '/', headers: [{ name: 'x-version', rangeMatch: { start: '1', end: '11' } }] },
      route: to,
    },
  ];
  assert.equal(routeFor(range, '/', { 'x-version': '10' }), 'r');
  assert.equal(routeFor(range, '/', { 'x-version': '11' }), undefined);
  assert.equal(routeFor(range, '/', { 'x-version': '1.5' }), undefined);
});

test('a repeated header is matched as its values joined with ",", so a second value cannot slip past', () => {
  const routes = [
    {
      name: 'jason',
      match: { prefix: '/', headers: [{ name: 'end-user', stringMatch: { exact: 'jason' } }] },
      route: to,
    },
  ];
  assert.equal(routeFor(routes, '/', { 'end-user': ['jason', 'mallory'] }), undefined);
  const prefix = [
    {
      name: 'p',
      match: { prefix: '/', headers: [{ name: 'end-user', stringMatch: { prefix: 'jason' } }] },
      route: to,
    },
  ];
  assert.equal(routeFor(prefix, '/', { 'end-user': ['jason', 'mallory'] }), 'p');
});

test('query parameters: raw (not percent-decoded) values, the first of a repeated key, presence', () => {
  const routes = [
    {
      name: 'en',
      match: { prefix: '/', queryParameters: [{ name: 'lang', stringMatch: { exact: 'en' } }] },
      route: to,
    },
    {
      name: 'beta',
      match: { prefix: '/', queryParameters: [{ name: 'beta', presentMatch: true }] },
      route: to,
    },
  ];
  assert.equal(routeFor(routes, '/?lang=en'), 'en');
  assert.equal(routeFor(routes, '/?lang=fr&lang=en'), undefined);
  assert.equal(routeFor(routes, '/?lang=en&lang=fr'), 'en');
  assert.equal(routeFor(routes, '/?lang=%65n'), undefined);
  assert.equal(routeFor(routes, '/?beta'), 'beta');
  assert.equal(routeFor(routes, '/?beta=&x=1'), 'beta');
  assert.equal(routeFor(routes, '/'), undefined);
});

test('grpc: true matches only gRPC content types', () => {
  const routes = [{ name: 'grpc', match: { prefix: '/', grpc: {} }, route: to }];
  assert.equal(routeFor(routes, '/pkg.Svc/Call', { 'content-type': 'application/grpc' }), 'grpc');
  assert.equal(routeFor(routes, '/pkg.Svc/Call', { 'content-type': 'application/grpc+proto' }), 'grpc');
  assert.equal(routeFor(routes, '/pkg.Svc/Call', { 'content-type': 'application/grpc-web' }), undefined);
  assert.equal(routeFor(routes, '/pkg.Svc/Call', { 'content-type': 'application/json' }), undefined);
  assert.equal(routeFor(routes, '/pkg.Svc/Call'), undefined);
});

test('pseudo-headers :method and :authority are matched like any header (Istio method/authority matches)', () => {
  const routes = [
    {
      name: 'post-login',
      match: {
        path: '/login',
        headers: [
          { name: ':method', stringMatch: { exact: 'POST' } },
          { name: ':authority', stringMatch: { prefix: 'web' } },
        ],
      },
      route: to,
    },
  ];
  assert.equal(routeFor(routes, '/login', { ':method': 'POST', ':authority': 'web:80' }), 'post-login');
  assert.equal(routeFor(routes, '/login', { ':method': 'GET', ':authority': 'web:80' }), undefined);
});
