// Virtual host lookup: Envoy's domain order, wildcards, case and ports.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { routeTableFromJson } from '../testing/resources.js';

function table(hosts: Record<string, string[]>, extra: Record<string, boolean> = {}) {
  return routeTableFromJson({
    name: 'domains',
    virtualHosts: Object.entries(hosts).map(([name, domains]) => ({
      name,
      domains,
      routes: [{ match: { prefix: '/' }, route: { cluster: name } }],
    })),
    ...extra,
  });
}

test("Envoy's domain order: exact, then the longest *.suffix, then the longest prefix.*, then *", () => {
  const t = table({
    exact: ['api.foo.com'],
    'suffix-short': ['*.com'],
    'suffix-long': ['*.foo.com'],
    prefix: ['api.*'],
    'prefix-long': ['api.foo.*'],
    fallback: ['*'],
  });
  const vh = (authority: string) => t.findVirtualHost(authority)?.name;
  assert.equal(vh('api.foo.com'), 'exact');
  assert.equal(vh('www.foo.com'), 'suffix-long');
  assert.equal(vh('a.b.foo.com'), 'suffix-long');
  assert.equal(vh('www.bar.com'), 'suffix-short');
  // Suffix wildcards beat prefix wildcards, whatever their lengths.
  assert.equal(vh('api.bar.com'), 'suffix-short');
  assert.equal(vh('api.foo.org'), 'prefix-long');
  assert.equal(vh('api.bar.org'), 'prefix');
  assert.equal(vh('elsewhere.org'), 'fallback');
});

test('a wildcard never matches the empty string, and domains compare without ASCII case', () => {
  const t = table({ wild: ['*.foo.com'], pre: ['foo.*'] });
  assert.equal(t.findVirtualHost('.foo.com'), undefined);
  assert.equal(t.findVirtualHost('foo.'), undefined);
  assert.equal(t.findVirtualHost('WWW.Foo.COM')?.name, 'wild');
  assert.equal(t.findVirtualHost('FOO.bar')?.name, 'pre');
});

test('an authority with a port matches the domain with that port first, then the domain without it', () => {
  const t = table({ withPort: ['reviews:9080'], bare: ['reviews', 'ratings'], fallback: ['*'] });
  assert.equal(t.findVirtualHost('reviews:9080')?.name, 'withPort');
  // A port no domain lists (a NodePort, a remapped gateway port) is compared without it.
  assert.equal(t.findVirtualHost('reviews:31380')?.name, 'bare');
  assert.equal(t.findVirtualHost('ratings:9080')?.name, 'bare');
  assert.equal(t.findVirtualHost('details:9080')?.name, 'fallback');
  // IPv6 literals: the port follows the bracket; a bare IPv6 address has no port.
  const v6 = table({ v6: ['[fd00::1]'], fallback: ['*'] });
  assert.equal(v6.findVirtualHost('[fd00::1]:8080')?.name, 'v6');
  assert.equal(v6.findVirtualHost('fd00::1')?.name, 'fallback');
});

test('ignore_port_in_host_matching compares every authority without its port', () => {
  const t = table({ withPort: ['reviews:9080'], bare: ['reviews'] }, { ignorePortInHostMatching: true });
  assert.equal(t.findVirtualHost('reviews:9080')?.name, 'bare');
});

test('no virtual host matches when there is no catch-all (the router answers 404 NR)', () => {
  const t = table({ only: ['httpbin.example.com'] });
  assert.equal(t.findVirtualHost('other.example.com'), undefined);
  assert.equal(t.findVirtualHost(''), undefined);
});
