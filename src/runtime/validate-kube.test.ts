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
  const out = problems(
    [
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  replicas: -1\n  selector: { matchLabels: { app: other } }\n  template:\n    metadata: { labels: { app: web } }\n    spec:\n      containers: [{ name: web, image: nginx }, { name: web, command: [x], ports: [{ containerPort: 70000 }] }]',
      'apiVersion: v1\nkind: Service\nmetadata: { name: s }\nspec: { ports: [{ port: 0 }] }',
      'apiVersion: apps/v2\nkind: Deployment\nmetadata: { name: Bad_Name }\nspec: { template: { spec: { containers: [] } } }',
    ].join('\n---\n'),
  );
  assert.deepEqual(out, [
    '1: Deployment default/web: spec.replicas: -1 is not a whole number >= 0',
    '1: Deployment default/web: spec.template.spec.containers[0]: no command; the local runtime runs commands, not images',
    '1: Deployment default/web: spec.template.spec.containers[1].name: duplicate container name "web"',
    '1: Deployment default/web: spec.template.spec.containers[1].ports[0].containerPort: 70000 is not a port',
    "1: Deployment default/web: spec.selector.matchLabels: app=other does not match the template's labels",
    '12: Service default/s: spec.ports[0].port: 0 is not a port',
    '17: Deployment default/Bad_Name: apiVersion apps/v2 is not served (use apps/v1)',
    '17: Deployment default/Bad_Name: metadata.name must be a DNS label',
    '17: Deployment default/Bad_Name: spec.template.spec.containers: at least one container is required',
  ]);
});
