// What the CLI prints: kubectl-style names, positioned messages, YAML and JSON.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatChangeMessage, refName, resourcesJson, resourcesYaml } from './cli-format.js';

test('apply results name resources as kubectl does', () => {
  assert.equal(refName({ kind: 'Deployment', namespace: 'default', name: 'web' }), 'deployment.apps/web');
  assert.equal(refName({ kind: 'Service', namespace: 'default', name: 'web' }), 'service/web');
  assert.equal(
    refName({ kind: 'VirtualService', namespace: 'default', name: 'web' }),
    'virtualservice.networking.istio.io/web',
  );
});

test("a control plane message is printed with its manifest's position, resource and field", () => {
  assert.equal(
    formatChangeMessage({
      severity: 'error',
      message: 'weights must add up to 100',
      position: { file: 'vs.yaml', line: 3, col: 1 },
      resource: { kind: 'VirtualService', namespace: 'default', name: 'reviews' },
      path: 'spec.http[0].route',
    }),
    'vs.yaml:3:1: VirtualService default/reviews: spec.http[0].route: weights must add up to 100',
  );
  assert.equal(
    formatChangeMessage({
      severity: 'warning',
      message: 'f.yaml:1:1: warning: old field',
      position: { file: 'f.yaml', line: 1, col: 1 },
    }),
    'f.yaml:1:1: warning: old field',
  );
});

test('get -o yaml/json puts ConfigMap data back beside metadata', () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, spec: { data: { k: 'v' } } };
  assert.equal(resourcesYaml([cm]), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n');
  assert.deepEqual(JSON.parse(resourcesJson([cm], true)), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'c' },
    data: { k: 'v' },
  });
  assert.equal(JSON.parse(resourcesJson([cm, cm], false)).kind, 'List');
});
