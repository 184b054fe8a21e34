// helloworld as the locality failover task reads it: the version and the instance that answered.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type SpawnedApp, spawnApp } from './helpers/spawn-app.js';

let app: SpawnedApp;

before(async () => {
  app = await spawnApp({
    script: 'helloworld/src/main.js',
    args: ['0'],
    env: { SERVICE_VERSION: 'region1.zone1', HOSTNAME: 'helloworld-region1.zone1-5d8f' },
  });
});
after(() => app.stop());

test('GET /hello names the version and the pod', async () => {
  const res = await fetch(`http://127.0.0.1:${app.port}/hello`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'Hello version: region1.zone1, instance: helloworld-region1.zone1-5d8f\n');
});

test('/health answers and unknown paths are 404', async () => {
  assert.equal(await (await fetch(`http://127.0.0.1:${app.port}/health`)).text(), 'Helloworld is healthy');
  assert.equal((await fetch(`http://127.0.0.1:${app.port}/nope`)).status, 404);
});
