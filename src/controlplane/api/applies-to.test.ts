import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configAppliesTo, hostMatches, resolveHost } from './applies-to.js';
import type { ConfigItem } from './types.js';

const item = (kind: string, namespace: string, name: string, spec: unknown): ConfigItem => ({
  kind,
  namespace,
  name,
  apiVersion: 'networking.istio.io/v1',
  resourceVersion: '1',
  spec,
  messages: [],
  appliedTo: { total: 0, acked: 0, nacked: 0 },
});

const items = [
  item('VirtualService', 'default', 'short', { hosts: ['reviews'] }),
  item('VirtualService', 'other', 'short-elsewhere', { hosts: ['reviews'] }),
  item('VirtualService', 'other', 'wildcard', { hosts: ['*.default.svc.cluster.local'] }),
  item('DestinationRule', 'default', 'dotted', { host: 'reviews.default.svc.cluster.local' }),
  item('ServiceEntry', 'default', 'external', { hosts: ['httpbin.org'] }),
  item('AuthorizationPolicy', 'default', 'v2-only', {
    selector: { matchLabels: { app: 'reviews', version: 'v2' } },
  }),
  item('AuthorizationPolicy', 'default', 'namespace-wide', {}),
  item('PeerAuthentication', 'istio-system', 'mesh-wide', { mtls: { mode: 'STRICT' } }),
  item('PeerAuthentication', 'other', 'other-namespace', {}),
  item('Sidecar', 'default', 'reviews-sidecar', { workloadSelector: { labels: { app: 'reviews' } } }),
  item('Gateway', 'default', 'gw', { servers: [] }),
];

const names = (xs: ConfigItem[]) => xs.map((x) => x.name).sort();

test("host resolution follows Istio: short names are relative to the resource's namespace", () => {
  assert.equal(resolveHost('reviews', 'default'), 'reviews.default.svc.cluster.local');
  assert.equal(resolveHost('reviews.other', 'default'), 'reviews.other');
  assert.equal(resolveHost('*', 'default'), '*');
  assert.ok(hostMatches('*.default.svc.cluster.local', 'reviews.default.svc.cluster.local'));
  assert.ok(!hostMatches('*.default.svc.cluster.local', 'reviews.other.svc.cluster.local'));
});

test('a service gets host rules from any namespace and policies selecting its pods', () => {
  const got = configAppliesTo(items, {
    hosts: ['reviews.default.svc.cluster.local'],
    namespace: 'default',
    labels: [
      { app: 'reviews', version: 'v1' },
      { app: 'reviews', version: 'v2' },
    ],
  });
  assert.deepEqual(names(got), [
    'dotted',
    'mesh-wide',
    'namespace-wide',
    'reviews-sidecar',
    'short',
    'v2-only',
    'wildcard',
  ]);
});

test('a workload whose labels are unknown gets only selector-less policies', () => {
  const got = configAppliesTo(items, { hosts: [], namespace: 'default', labels: [] });
  assert.deepEqual(names(got), ['mesh-wide', 'namespace-wide']);
  const v1 = configAppliesTo(items, {
    hosts: [],
    namespace: 'default',
    labels: [{ app: 'reviews', version: 'v1' }],
  });
  assert.deepEqual(names(v1), ['mesh-wide', 'namespace-wide', 'reviews-sidecar']);
});
