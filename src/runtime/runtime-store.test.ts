// The runtime's persisted store of Kubernetes resources.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Resource } from '../api/types/meta.js';
import { RuntimeStore } from './runtime-store.js';

function svc(name: string, port: number): Resource {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port }] } };
}

test('apply reports created, configured and unchanged, bumps generation on spec changes, and persists', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'store-')), 'resources.json');
  const store = new RuntimeStore(file);
  assert.deepEqual(
    store.apply([{ resource: svc('a', 80), baseDir: '/m' }]).map((c) => c.action),
    ['created'],
  );
  assert.deepEqual(
    store.apply([{ resource: svc('a', 80), baseDir: '/m' }]).map((c) => c.action),
    ['unchanged'],
  );
  assert.deepEqual(
    store.apply([{ resource: svc('a', 81), baseDir: '/m' }]).map((c) => c.action),
    ['configured'],
  );
  const a = store.get({ kind: 'Service', namespace: 'default', name: 'a' })!;
  assert.equal(a.resource.metadata.generation, 2);
  assert.equal(a.resource.metadata.namespace, 'default');
  const reopened = new RuntimeStore(file);
  assert.deepEqual(reopened.get({ kind: 'Service', namespace: 'default', name: 'a' }), a);
  assert.deepEqual(
    reopened.delete([{ kind: 'Service', namespace: 'default', name: 'a' }]).map((c) => c.action),
    ['deleted'],
  );
  assert.deepEqual(new RuntimeStore(file).list(), []);
});
