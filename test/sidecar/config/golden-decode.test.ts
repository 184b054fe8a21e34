// Every golden output of the control plane decodes into a consistent sidecar snapshot.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSidecarConfig, missingResources } from '../../../src/sidecar/config/index.js';
import { decodeGoldenFile, goldenFiles } from './goldens.js';

test('every golden output of the control plane decodes into a consistent sidecar snapshot', () => {
  const files = goldenFiles();
  assert.ok(files.length >= 25, `expected the golden cases, found ${files.length}`);
  let resources = 0;
  for (const f of files) {
    const decoded = decodeGoldenFile(f.path);
    resources += decoded.count;
    const missing = missingResources(decoded);
    assert.deepEqual(missing, { routes: [], endpoints: [] }, `${f.name}: ${JSON.stringify(missing)}`);
    const config = buildSidecarConfig(decoded);
    assert.equal(config.listeners.size, decoded.listeners.size, f.name);
  }
  assert.ok(resources > 400, `decoded ${resources} resources`);
});
