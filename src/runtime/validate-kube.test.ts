// Refusals of Kubernetes resources the runtime cannot run.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadManifestText } from './manifests.js';
import { validateRuntimeManifests } from './validate-kube.js';

function problems(yaml: string): string[] {
  return validateRuntimeManifests(loadManifestText(yaml, 'f.yaml').manifests).map(
    (m) => `${m.position?.line}: ${m.message}`,
  );
}

test('a runnable Deployment passes', () => {
  assert.deepEqual(
    problems(
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  selector: { matchLabels: { app: web } }\n  template:\n    metadata: { labels: { app: web } }\n    spec:\n      containers: [{ name: web, command: [node, app.js], ports: [{ containerPort: 80 }] }]\n',
    ),
    [],
  );
});

test('Deployments and Services the runtime cannot run are refused with the field at fault', () => {
  const text = [
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  replicas: -1\n  selector: { matchLabels: { app: other } }\n  template:\n    metadata: { labels: { app: web } }\n    spec:\n      containers: [{ name: web, image: nginx }, { name: web, command: [x], ports: [{ containerPort: 70000 }] }]',
    'apiVersion: v1\nkind: Service\nmetadata: { name: s }\nspec: { ports: [{ port: 0 }] }',
    'apiVersion: apps/v2\nkind: Deployment\nmetadata: { name: Bad_Name }\nspec: { template: { spec: { containers: [] } } }',
  ].join('\n---\n');
  const out = problems(text);
  const expect = [
    /^5: Deployment default\/web: spec\.replicas: must be an integer >= 0, got -1$/,
    /^10: Deployment default\/web: spec\.template\.spec\.containers\[0\]: no command; the local runtime runs commands, not images$/,
    /^10: Deployment default\/web: spec\.template\.spec\.containers\[1\]\.name: container name "web" is used twice/,
    /^10: Deployment default\/web: spec\.template\.spec\.containers\[1\]\.ports\[0\]\.containerPort: must be an integer 1-65535, got 70000$/,
    /^6: Deployment default\/web: spec\.selector\.matchLabels: selector does not match the pod template's labels/,
    /^15: Service default\/s: spec\.ports\[0\]\.port: must be an integer 1-65535, got 0$/,
  ];
  for (const re of expect)
    assert.ok(
      out.some((l) => re.test(l)),
      `expected ${re} in:\n${out.join('\n')}`,
    );
  assert.equal(out.length, expect.length, out.join('\n'));
  // An unserved apiVersion is refused when the file is read, before validation.
  const load = loadManifestText(text, 'f.yaml');
  assert.ok(
    load.messages.some((m) => m.position?.line === 17 && /apps\/v2/.test(m.message)),
    load.messages.map((m) => `${m.position?.line}: ${m.message}`).join('\n'),
  );
});
