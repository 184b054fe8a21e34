// Container environments and command lines as Kubernetes builds them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerArgv, containerEnv, expandVars, runtimeVariables } from './env.js';

test('$(VAR) expands as Kubernetes does: defined names only, $$ escapes', () => {
  const vars = { A: 'x', B: 'y' };
  assert.equal(expandVars('$(A)/$(B)/$(C)', vars), 'x/y/$(C)');
  assert.equal(expandVars('$$(A) costs $$5', vars), '$(A) costs $5');
});

test('container env: runtime variables first, then env entries in order, each expanded against earlier ones', () => {
  const runtime = runtimeVariables({
    trellisHome: '/t',
    podName: 'p-1',
    namespace: 'ns',
    instanceIp: '127.2.0.1',
    serviceAccount: 'sa',
    bindAddress: '127.2.0.1',
    httpProxy: 'http://127.1.0.1:15080',
  });
  const env = containerEnv({
    container: {
      name: 'c',
      command: ['node', '$(TRELLIS_HOME)/app.js', '$(PORT)'],
      env: [
        { name: 'PORT', value: '9080' },
        { name: 'URL', value: 'http://$(HOSTNAME):$(PORT)' },
        { name: 'ME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'color' } } },
      ],
    },
    runtime,
    labels: { app: 'web' },
    configMaps: new Map([['cfg', { color: 'red' }]]),
    hostPath: '/usr/bin',
  });
  assert.equal(env.URL, 'http://p-1:9080');
  assert.equal(env.ME, 'p-1');
  assert.equal(env.APP, 'web');
  assert.equal(env.COLOR, 'red');
  assert.equal(env.HTTP_PROXY, 'http://127.1.0.1:15080');
  assert.equal(env.http_proxy, 'http://127.1.0.1:15080');
  assert.equal(env.BIND_ADDRESS, '127.2.0.1');
  assert.ok(env.PATH!.startsWith('/t/examples/tools/bin:'));
  assert.ok(env.PATH!.endsWith(':/usr/bin'));
  assert.deepEqual(
    containerArgv({ name: 'c', command: ['node', '$(TRELLIS_HOME)/app.js'], args: ['$(PORT)'] }, env),
    ['node', '/t/app.js', '9080'],
  );
});

test('netns pods get no BIND_ADDRESS or proxy variables', () => {
  const v = runtimeVariables({
    trellisHome: '/t',
    podName: 'p',
    namespace: 'default',
    instanceIp: '10.213.0.10',
    serviceAccount: 'default',
  });
  assert.deepEqual(Object.keys(v).sort(), [
    'HOSTNAME',
    'INSTANCE_IP',
    'POD_NAME',
    'POD_NAMESPACE',
    'SERVICE_ACCOUNT',
    'TRELLIS_HOME',
  ]);
});
