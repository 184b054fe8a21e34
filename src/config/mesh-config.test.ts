// The mesh config in effect: Istio's defaults under the user's settings, and what happens when it is invalid.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../api/types/meta.js';
import { MemoryConfigStore } from './memory-store.js';
import { meshConfigFrom, meshDefaults } from './mesh-config.js';

const meshMap = (mesh: string): Resource => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'istio', namespace: 'istio-system' },
  spec: { data: { mesh } },
});

test("without a mesh ConfigMap, Istio's defaults apply", () => {
  const { meshConfig, messages } = meshConfigFrom(new MemoryConfigStore());
  assert.deepEqual(messages, []);
  assert.equal(meshConfig.trustDomain, 'cluster.local');
  assert.equal(meshConfig.rootNamespace, 'istio-system');
  assert.deepEqual(meshConfig.outboundTrafficPolicy, { mode: 'ALLOW_ANY' });
  assert.equal(meshConfig.defaultHttpRetryPolicy.attempts, 2);
  assert.doesNotMatch(meshConfig.defaultHttpRetryPolicy.retryOn ?? '', /503/);
  assert.equal(meshConfig.enableAutoMtls, true);
});

test('user settings override defaults field by field, and user providers join the built-in ones', async () => {
  const store = new MemoryConfigStore();
  const result = await store.apply([
    meshMap(`
outboundTrafficPolicy:
  mode: REGISTRY_ONLY
defaultConfig:
  holdApplicationUntilProxyStarts: true
extensionProviders:
- name: ext-authz
  envoyExtAuthzGrpc: {service: authz.foo.svc.cluster.local, port: 9000}
`),
  ]);
  assert.equal(result.ok, true, JSON.stringify(result.messages));
  const { meshConfig, messages } = meshConfigFrom(store.snapshot());
  assert.deepEqual(messages, []);
  assert.equal(meshConfig.outboundTrafficPolicy.mode, 'REGISTRY_ONLY');
  assert.equal(meshConfig.defaultConfig.holdApplicationUntilProxyStarts, true);
  assert.equal(
    meshConfig.defaultConfig.terminationDrainDuration,
    '5s',
    'unset nested fields keep their defaults',
  );
  assert.deepEqual(
    meshConfig.extensionProviders.map((p) => p.name),
    ['prometheus', 'envoy', 'ext-authz'],
  );
});

test('an invalid mesh config is refused by the store, and read as defaults with messages', async () => {
  const store = new MemoryConfigStore();
  const refused = await store.apply([meshMap('outboundTrafficPolicy: {mode: DENY}\n')]);
  assert.equal(refused.ok, false);
  assert.match(refused.messages[0]!.message, /must be one of REGISTRY_ONLY, ALLOW_ANY, got "DENY"/);
  // A ConfigMap that bypassed validation (read from a cluster, say) still yields a usable config.
  const { meshConfig, messages } = meshConfigFrom({ get: () => meshMap('connectTimeout: forever\n') });
  assert.deepEqual(meshConfig, meshDefaults());
  assert.equal(messages[0]!.path, 'spec.data.mesh.connectTimeout');
});
