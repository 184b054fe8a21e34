// The mesh config held in ConfigMap istio-system/istio: validated in place, with positions inside the block.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadText } from '../load/load.js';
import { formatMessage, sortMessages } from '../messages.js';
import { validateResources } from './validate.js';

test("a real cluster's istio ConfigMap loads: fields Trellis ignores are warnings at their line", () => {
  const text = `apiVersion: v1
kind: ConfigMap
metadata:
  name: istio
  namespace: istio-system
data:
  mesh: |-
    defaultConfig:
      discoveryAddress: istiod.istio-system.svc:15012
    enablePrometheusMerge: true
    rootNamespace: istio-system
  meshNetworks: 'networks: {}'
`;
  const loaded = loadText(text, 'istio.yaml');
  const lines = sortMessages(validateResources(loaded.resources)).map(formatMessage);
  assert.deepEqual(lines, [
    'istio.yaml:9:7: warning: ConfigMap istio-system/istio: spec.data.mesh.defaultConfig.discoveryAddress: "discoveryAddress" is an Istio mesh config field that Trellis ignores',
    'istio.yaml:10:5: warning: ConfigMap istio-system/istio: spec.data.mesh.enablePrometheusMerge: "enablePrometheusMerge" is an Istio mesh config field that Trellis ignores',
  ]);
});

test('mesh config YAML errors inside the ConfigMap are reported at their line in the file', () => {
  const text =
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    a: [unclosed\n';
  const [m] = validateResources(loadText(text, 'istio.yaml').resources);
  assert.equal(m!.code, 'YAMLSyntaxError');
  assert.ok((m!.position?.line ?? 0) >= 6, 'inside the block, not at the ConfigMap');
  assert.match(m!.message, /^mesh config: /);
});

test('other ConfigMaps hold any string data, uninterpreted', () => {
  const text =
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: default}\ndata:\n  mesh: "not: [yaml"\n';
  assert.deepEqual(validateResources(loadText(text, 'cm.yaml').resources), []);
});
