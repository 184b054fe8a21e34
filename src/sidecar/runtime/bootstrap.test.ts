// The bootstrap file: the runtime contract's example is valid, and every mistake is reported by field.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isTrellisError } from '../../shared/errors.js';
import { loadBootstrap, validateBootstrap } from './bootstrap.js';

/** docs/runtime-contract.md §2, verbatim apart from the elided paths. */
const EXAMPLE = {
  node: {
    id: 'sidecar~10.213.0.5~productpage-v1-6f9c-0.default~default.svc.cluster.local',
    cluster: 'productpage.default',
    locality: { region: '', zone: '', subZone: '' },
    metadata: {
      NAMESPACE: 'default',
      NAME: 'productpage-v1-6f9c-0',
      WORKLOAD_NAME: 'productpage-v1',
      SERVICE_ACCOUNT: 'bookinfo-productpage',
      LABELS: { app: 'productpage', version: 'v1' },
      INSTANCE_IPS: '10.213.0.5',
      INTERCEPTION_MODE: 'REDIRECT',
      CLUSTER_ID: 'Kubernetes',
      MESH_ID: 'cluster.local',
      POD_PORTS: '[{"containerPort":9080,"name":"http"}]',
      APP_CONTAINERS: 'productpage',
    },
  },
  xds: { address: '10.213.0.1:15012', tls: true, caCertificateFile: '/state/root-cert.pem' },
  ca: { address: '10.213.0.1:15012', tokenFile: '/state/token' },
  admin: { address: '127.0.0.1', port: 15000, socketPath: '/state/admin.sock' },
  ports: { stats: 15090, mergedMetrics: 15020, readiness: 15021 },
  bindAddress: '0.0.0.0',
  appMetrics: { port: 9080, path: '/metrics' },
  drainTimeoutMs: 5000,
};

function problems(raw: unknown): string[] {
  try {
    validateBootstrap(raw, 'test.json');
  } catch (e) {
    assert.ok(isTrellisError(e, 'BOOTSTRAP_INVALID'));
    return (e.details as { problems: string[] }).problems;
  }
  return [];
}

test("the runtime contract's example is a valid bootstrap", () => {
  const b = validateBootstrap(EXAMPLE);
  assert.equal(b.xds.tls, true);
  assert.equal(b.ca?.tokenFile, '/state/token');
  assert.deepEqual(b.ports, { stats: 15090, mergedMetrics: 15020, readiness: 15021 });
  assert.equal(b.drainTimeoutMs, 5000);
  assert.deepEqual(b.appMetrics, { port: 9080, path: '/metrics' });
});

test("Istio's ports and a 5 s drain when the bootstrap leaves them out", () => {
  const b = validateBootstrap({ node: EXAMPLE.node, xds: { address: '127.0.0.1:15010' } });
  assert.deepEqual(b.admin, { address: '127.0.0.1', port: 15000 });
  assert.deepEqual(b.ports, { stats: 15090, mergedMetrics: 15020, readiness: 15021 });
  assert.equal(b.drainTimeoutMs, 5000);
  assert.equal(b.ca, undefined);
});

test('every problem is listed, each naming its field', () => {
  const found = problems({
    node: { id: 'not-an-istio-id', metadata: { NAMESPACE: 'default' } },
    xds: { address: 'nowhere', tls: 'yes' },
    admin: { port: 70000 },
    bindAddress: 'localhost',
    drainTimeoutMs: -1,
    extra: true,
  });
  const fields = found.map((p) => p.split(':')[0]);
  for (const f of [
    'extra',
    'node.id',
    'node.metadata.NAME',
    'xds.address',
    'xds.tls',
    'admin.port',
    'bindAddress',
    'drainTimeoutMs',
  ]) {
    assert.ok(fields.includes(f), `${f} is reported in ${JSON.stringify(found)}`);
  }
});

test('xds.tls needs a CA to get the certificate from, and roots to verify the control plane', () => {
  const found = problems({ node: EXAMPLE.node, xds: { address: '10.0.0.1:15012', tls: true } });
  assert.ok(
    found.some((p) => p.startsWith('xds.tls: needs `ca`')),
    JSON.stringify(found),
  );
  assert.ok(found.some((p) => p.startsWith('xds.caCertificateFile: is required')));
});

test('loadBootstrap names the file when it is missing or not JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bootstrap-'));
  try {
    await assert.rejects(loadBootstrap(join(dir, 'missing.json')), /cannot read bootstrap .*missing\.json/);
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    await assert.rejects(loadBootstrap(join(dir, 'bad.json')), /bad\.json is not JSON/);
    writeFileSync(join(dir, 'ok.json'), JSON.stringify(EXAMPLE));
    assert.equal((await loadBootstrap(join(dir, 'ok.json'))).node.cluster, 'productpage.default');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
