// Tests of proxy selection from HTTP_PROXY / HTTPS_PROXY / NO_PROXY.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bypassesProxy, proxyFor } from './proxy-env.js';

const url = (u: string) => new URL(u);

test('http:// URLs use http_proxy (lowercase first), https:// URLs use https_proxy, nothing else is proxied', () => {
  assert.equal(
    proxyFor(url('http://reviews:9080/r'), { HTTP_PROXY: 'http://127.0.0.1:15080' })?.host,
    '127.0.0.1:15080',
  );
  assert.equal(
    proxyFor(url('http://reviews:9080/r'), { http_proxy: '127.0.0.2:1', HTTP_PROXY: '127.0.0.3:1' })?.host,
    '127.0.0.2:1',
    'a bare host:port is an http proxy, and the lowercase variable wins',
  );
  assert.equal(
    proxyFor(url('https://x.example/'), { HTTP_PROXY: 'http://p:1' }),
    undefined,
    'HTTP_PROXY is not for https',
  );
  assert.equal(proxyFor(url('https://x.example/'), { HTTPS_PROXY: 'http://p:1' })?.host, 'p:1');
  assert.equal(proxyFor(url('http://x/'), { HTTP_PROXY: '  ' }), undefined);
  assert.throws(() => proxyFor(url('http://x/'), { HTTP_PROXY: 'socks5://p:1' }), /only http:\/\/ proxies/);
});

test('NO_PROXY: exact hosts, domain suffixes, *, ports, IPv4 CIDRs and IPv6 literals', () => {
  const cases: [string, string, boolean][] = [
    ['http://reviews:9080/', 'reviews', true],
    ['http://reviews.default.svc.cluster.local/', '.cluster.local', true],
    ['http://reviews.default.svc.cluster.local/', 'cluster.local', true],
    ['http://notcluster.local/', 'cluster.local', false],
    ['http://anything/', '*', true],
    ['http://reviews:9080/', 'reviews:9080', true],
    ['http://reviews:9081/', 'reviews:9080', false],
    ['http://example.com/', 'example.com:80', true],
    ['http://10.1.2.3/', '10.0.0.0/8', true],
    ['http://11.1.2.3/', '10.0.0.0/8', false],
    ['http://[::1]:8080/', '::1', true],
    ['http://[::1]:8080/', '[::1]:8080', true],
    ['http://details/', 'reviews, ratings details', true],
    ['http://details/', '', false],
  ];
  for (const [u, noProxy, expected] of cases)
    assert.equal(bypassesProxy(url(u), noProxy), expected, `${u} vs "${noProxy}"`);
  assert.equal(
    proxyFor(url('http://127.0.0.1:8000/'), { HTTP_PROXY: 'p:1', NO_PROXY: '127.0.0.0/8' }),
    undefined,
  );
});
