// Loading YAML and JSON into resources: envelopes, defaults, and the position of every field.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMessage } from '../messages.js';
import { validateResources } from '../validate/validate.js';
import { loadText } from './load.js';

test('multi-document YAML: each resource knows where each of its fields is', () => {
  const text = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
# routes
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: cart
spec:
  hosts: [cart]
  http:
  - route:
    - destination:
        host: cart
`;
  const { resources, messages } = loadText(text, 'shop.yaml');
  assert.deepEqual(messages, []);
  assert.equal(resources.length, 2);
  const [ns, vs] = resources;
  assert.deepEqual(ns!.resource.spec, {}, 'Namespace gets an empty spec');
  assert.equal(ns!.resource.metadata.namespace, undefined, 'Namespace is not namespaced');
  assert.equal(vs!.resource.metadata.namespace, 'default', 'namespaced kinds default to "default"');
  assert.deepEqual(vs!.source, { file: 'shop.yaml', line: 7, col: 1 });
  assert.deepEqual(vs!.positionOf(['spec', 'http', 0, 'route', 0, 'destination', 'host']), {
    file: 'shop.yaml',
    line: 16,
    col: 15,
  });
  assert.deepEqual(vs!.positionOf(['spec', 'hosts'], { atKey: true }), {
    file: 'shop.yaml',
    line: 12,
    col: 3,
  });
  assert.deepEqual(
    vs!.positionOf(['spec', 'http', 0, 'timeout']),
    { file: 'shop.yaml', line: 14, col: 5 },
    'a missing field points at its parent',
  );
});

test('kind: List items and JSON files are read with positions', () => {
  const list = loadText(
    `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: a}
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: b, namespace: shop}
`,
    'list.yaml',
  );
  assert.deepEqual(
    list.resources.map((r) => `${r.resource.metadata.namespace}/${r.resource.metadata.name}`),
    ['default/a', 'shop/b'],
  );
  assert.equal(list.resources[1]!.positionOf(['metadata', 'namespace']).line, 9);

  const json = loadText(
    '{\n  "apiVersion": "v1",\n  "kind": "Service",\n  "metadata": {"name": "web"},\n  "spec": {"ports": [{"port": 70000}]}\n}\n',
    'svc.json',
  );
  const problems = validateResources(json.resources);
  assert.equal(
    formatMessage(problems[0]!),
    'svc.json:5:31: Service default/web: spec.ports[0].port: must be an integer 1-65535, got 70000',
  );
});

test('ConfigMap data is kept under spec, and positions still point at the data in the file', () => {
  const { resources } = loadText(
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata:\n  LEVEL: debug\n  COUNT: 3\n',
    'cm.yaml',
  );
  assert.deepEqual(resources[0]!.resource.spec, { data: { LEVEL: 'debug', COUNT: 3 } });
  const [m] = validateResources(resources);
  assert.equal(
    formatMessage(m!),
    'cm.yaml:6:10: ConfigMap default/app: spec.data.COUNT: must be a string, got 3',
  );
});

test('unknown kinds, unserved versions, missing kinds and top-level typos are errors, never skipped', () => {
  const { resources, messages } = loadText(
    `apiVersion: networking.istio.io/v1
kind: VirtualServic
metadata: {name: a}
---
apiVersion: networking.istio.io/v2
kind: Gateway
metadata: {name: b}
---
metadata: {name: c}
---
apiVersion: v1
kind: Namespace
metadata: {name: d}
spce: {}
`,
    'x.yaml',
  );
  const lines = messages.map(formatMessage);
  assert.equal(resources.length, 1);
  assert.match(lines[0]!, /^x\.yaml:1:1: unknown kind "VirtualServic"; did you mean "VirtualService"\?/);
  assert.match(
    lines[1]!,
    /^x\.yaml:5:1: Gateway: apiVersion "networking\.istio\.io\/v2" is not served for Gateway; use one of networking\.istio\.io\/v1, /,
  );
  assert.match(lines[2]!, /^x\.yaml:9:1: not a resource: "kind" is missing/);
  assert.equal(lines[3], 'x.yaml:14:1: Namespace d: spce: unknown field "spce"; did you mean "spec"?');
});

test('fields that kubectl adds are accepted with a warning and dropped', () => {
  const { resources, messages } = loadText(
    `apiVersion: v1
kind: ServiceAccount
metadata:
  name: a
  managedFields: []
  uid: 0c8f
secrets: [{name: a-token}]
status: {}
`,
    'sa.yaml',
  );
  assert.deepEqual(messages.map((m) => [m.severity, m.code, m.path]).sort(), [
    ['warning', 'IgnoredField', 'metadata.managedFields'],
    ['warning', 'IgnoredField', 'secrets'],
  ]);
  assert.equal('managedFields' in resources[0]!.resource.metadata, false);
  assert.deepEqual(validateResources(resources), []);
});

test('YAML syntax errors carry their line and column; duplicate keys are errors', () => {
  const { messages } = loadText(
    'apiVersion: v1\nkind: Namespace\nkind: Service\nmetadata: {name: a}\n',
    'dup.yaml',
  );
  assert.equal(messages[0]!.code, 'YAMLSyntaxError');
  assert.deepEqual(messages[0]!.position, { file: 'dup.yaml', line: 3, col: 1 });
  assert.match(messages[0]!.message, /unique/i);
});
