// Reading manifests with positions, lists and errors.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatManifestMessage, loadManifests, loadManifestText } from './manifests.js';

test('every resource keeps the file, line and column where its document starts', () => {
  const text =
    '# comment\napiVersion: v1\nkind: Service\nmetadata: { name: a }\n---\n\n  apiVersion: v1\n  kind: ServiceAccount\n  metadata: { name: b }\n';
  const out = loadManifestText(text, '/m/x.yaml');
  assert.deepEqual(out.messages, []);
  assert.deepEqual(
    out.manifests.map((m) => [
      m.resource.kind,
      m.resource.metadata.name,
      m.position.line,
      m.position.col,
      m.baseDir,
    ]),
    [
      ['Service', 'a', 2, 1, '/m'],
      ['ServiceAccount', 'b', 7, 3, '/m'],
    ],
  );
});

test('a Kubernetes List gives one resource per item, and ConfigMap data moves under spec', () => {
  const text =
    'apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: { name: c }\n    data: { k: v }\n';
  const out = loadManifestText(text, 'l.yaml', '/base');
  assert.equal(out.manifests.length, 1);
  assert.deepEqual(out.manifests[0]!.resource.spec, { data: { k: 'v' } });
  assert.equal(out.manifests[0]!.position.line, 4);
});

test('syntax errors and incomplete documents become messages with positions, never exceptions', () => {
  const out = loadManifestText(
    'apiVersion: v1\nkind: Service\nmetadata: { name: x\n---\nkind: Service\nmetadata: {}\n',
    'bad.yaml',
  );
  const lines = out.messages.map(formatManifestMessage);
  assert.equal(out.manifests.length, 0);
  assert.match(lines[0]!, /^bad\.yaml:\d+:\d+: YAML: /);
  assert.match(lines[1]!, /^bad\.yaml:5:1: Service: "apiVersion" is missing/);
});

test('folders are read recursively in name order; missing paths are reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'manifests-'));
  writeFileSync(join(dir, 'b.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: { name: b }\n');
  writeFileSync(join(dir, 'a.yml'), 'apiVersion: v1\nkind: Namespace\nmetadata: { name: a }\n');
  writeFileSync(join(dir, 'notes.txt'), 'ignored');
  const out = loadManifests([dir, join(dir, 'missing.yaml')]);
  assert.deepEqual(
    out.manifests.map((m) => m.resource.metadata.name),
    ['a', 'b'],
  );
  assert.equal(out.messages.length, 1);
  assert.match(out.messages[0]!.message, /cannot read .*missing\.yaml/);
});
