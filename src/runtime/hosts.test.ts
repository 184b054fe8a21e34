// Hosts-file entries for Service VIPs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeService } from '../api/types/index.js';
import { searchDomains, serviceHostsEntries } from './hosts.js';

function svc(name: string, namespace: string, clusterIP?: string): KubeService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { ...(clusterIP ? { clusterIP } : {}) },
  };
}

test('every Service VIP answers to its qualified names; the bare name only in the pod namespace', () => {
  const entries = serviceHostsEntries(
    [
      svc('reviews', 'default', '10.214.0.3'),
      svc('db', 'data', '10.214.0.9'),
      svc('headless', 'default', 'None'),
      svc('pending', 'default'),
    ],
    { podNamespace: 'default' },
  );
  assert.deepEqual(entries, [
    { ip: '10.214.0.9', names: ['db.data.svc.cluster.local', 'db.data.svc', 'db.data'] },
    {
      ip: '10.214.0.3',
      names: ['reviews.default.svc.cluster.local', 'reviews.default.svc', 'reviews.default', 'reviews'],
    },
  ]);
  assert.deepEqual(searchDomains('shop'), ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local']);
});
