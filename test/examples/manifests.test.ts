// The sample manifests parse, mirror Istio's samples, and every container starts as the runtime would start it.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { Container, DeploymentSpec, ServiceSpec } from '../../src/api/types/kube.js';
import { DIST, spawnCommand } from './helpers/spawn-app.js';

const ROOT = join(DIST, '..');
const EXAMPLES = join(ROOT, 'examples');

interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: unknown;
  file: string;
}

function manifestFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      // The Istio routing configs of examples/bookinfo/networking belong to the config tests.
      return name === 'node_modules' || relative(EXAMPLES, path) === 'bookinfo/networking'
        ? []
        : manifestFiles(path);
    }
    return name.endsWith('.yaml') ? [path] : [];
  });
}

const docs: Doc[] = manifestFiles(EXAMPLES).flatMap((file) =>
  parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Doc | null)
    .filter((d): d is Doc => d !== null)
    .map((d) => ({ ...d, file: relative(EXAMPLES, file) })),
);
const inFile = (file: string, kind?: string) =>
  docs.filter((d) => d.file === file && (!kind || d.kind === kind));
const deployment = (d: Doc) => d.spec as DeploymentSpec;
const service = (d: Doc) => d.spec as ServiceSpec;
const envOf = (c: Container) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? '']));

/** Kubernetes' $(VAR) expansion: known variables are replaced, `$$` escapes, unknown references stay as written. */
function expand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name?: string) =>
    whole === '$$' ? '$' : (env[name!] ?? whole),
  );
}

test('every manifest parses into named Kubernetes or Istio objects', () => {
  assert.ok(docs.length >= 40, `${docs.length} objects`);
  for (const d of docs) {
    assert.ok(d.apiVersion && d.kind && d.metadata?.name, `${d.file}: ${JSON.stringify(d).slice(0, 80)}`);
  }
});

test('bookinfo.yaml mirrors Istio’s: four Services on 9080/http, bookinfo-* accounts, versioned Deployments', () => {
  const file = 'bookinfo/platform/bookinfo.yaml';
  const services = inFile(file, 'Service');
  assert.deepEqual(services.map((s) => s.metadata.name).sort(), [
    'details',
    'productpage',
    'ratings',
    'reviews',
  ]);
  for (const s of services) {
    assert.deepEqual(service(s).ports, [{ port: 9080, name: 'http' }]);
    assert.deepEqual(service(s).selector, { app: s.metadata.name });
  }
  assert.deepEqual(
    inFile(file, 'ServiceAccount')
      .map((s) => s.metadata.name)
      .sort(),
    ['bookinfo-details', 'bookinfo-productpage', 'bookinfo-ratings', 'bookinfo-reviews'],
  );
  const deployments = Object.fromEntries(
    inFile(file, 'Deployment').map((d) => [d.metadata.name, deployment(d)]),
  );
  assert.deepEqual(Object.keys(deployments).sort(), [
    'details-v1',
    'productpage-v1',
    'ratings-v1',
    'reviews-v1',
    'reviews-v2',
    'reviews-v3',
  ]);
  for (const [name, spec] of Object.entries(deployments)) {
    const [app, version] = name.split('-');
    assert.equal(spec.replicas, 1);
    assert.deepEqual(spec.template.metadata?.labels, { app, version });
    assert.equal(spec.template.spec.serviceAccountName, `bookinfo-${app}`);
  }
  const reviewsEnv = (v: string) => envOf(deployments[`reviews-${v}`]!.template.spec.containers[0]!);
  assert.equal(reviewsEnv('v1').ENABLE_RATINGS, 'false', 'v1: no stars');
  assert.deepEqual([reviewsEnv('v2').ENABLE_RATINGS, reviewsEnv('v2').STAR_COLOR], ['true', 'black']);
  assert.deepEqual([reviewsEnv('v3').ENABLE_RATINGS, reviewsEnv('v3').STAR_COLOR], ['true', 'red']);
});

test('the other samples keep the ports and names the Istio tasks use', () => {
  const svc = (file: string, name: string) =>
    service(inFile(file, 'Service').find((s) => s.metadata.name === name)!);
  assert.deepEqual(svc('httpbin/httpbin.yaml', 'httpbin').ports, [
    { name: 'http', port: 8000, targetPort: 8080 },
  ]);
  assert.deepEqual(svc('httpbin/httpbin-mirroring.yaml', 'httpbin').ports, [
    { name: 'http', port: 8000, targetPort: 8080 },
  ]);
  assert.deepEqual(
    inFile('httpbin/httpbin-mirroring.yaml', 'Deployment').map(
      (d) => deployment(d).template.metadata?.labels,
    ),
    [
      { app: 'httpbin', version: 'v1' },
      { app: 'httpbin', version: 'v2' },
    ],
  );
  assert.deepEqual(
    svc('tcp-echo/tcp-echo-services.yaml', 'tcp-echo').ports?.map((p) => [p.name, p.port]),
    [
      ['tcp', 9000],
      ['tcp-other', 9001],
    ],
  );
  assert.deepEqual(
    inFile('tcp-echo/tcp-echo-services.yaml', 'Deployment').map(
      (d) => deployment(d).template.spec.containers[0]!.args,
    ),
    [
      ['9000,9001,9002', 'one'],
      ['9000,9001,9002', 'two'],
    ],
  );
  assert.deepEqual(svc('helloworld/helloworld.yaml', 'helloworld').ports, [{ port: 5000, name: 'http' }]);
  for (const d of inFile('helloworld/helloworld-locality.yaml', 'Deployment').filter(
    (x) => x.metadata.name !== 'sleep',
  )) {
    const spec = deployment(d);
    const locality = spec.template.metadata!.labels!['istio-locality'];
    assert.equal(envOf(spec.template.spec.containers[0]!).SERVICE_VERSION, locality, d.metadata.name);
    assert.equal(d.metadata.namespace, 'sample');
  }
  assert.equal(svc('grpc-echo/grpc-echo.yaml', 'grpc-echo').ports?.[0]?.name, 'grpc');
});

test('every Service selects Deployments that expose its target port', () => {
  for (const s of docs.filter((d) => d.kind === 'Service')) {
    const spec = service(s);
    const selects = (d: Doc) =>
      d.kind === 'Deployment' &&
      (d.metadata.namespace ?? 'default') === (s.metadata.namespace ?? 'default') &&
      Object.entries(spec.selector ?? {}).every(
        ([k, v]) => deployment(d).template.metadata?.labels?.[k] === v,
      );
    // Deployments of the same file, else (bookinfo-versions.yaml) of the files beside it.
    const sameFile = docs.filter((d) => d.file === s.file && selects(d));
    const selected =
      sameFile.length > 0 ? sameFile : docs.filter((d) => dirname(d.file) === dirname(s.file) && selects(d));
    if (['sleep', 'curl'].includes(s.metadata.name)) continue; // clients: their Service only gives them a name
    assert.ok(selected.length > 0, `${s.file}: Service ${s.metadata.name} selects nothing`);
    for (const p of spec.ports ?? []) {
      const target = p.targetPort ?? p.port;
      for (const d of selected) {
        const ports = deployment(d)
          .template.spec.containers.flatMap((c) => c.ports ?? [])
          .map((cp) => cp.containerPort);
        assert.ok(ports.includes(Number(target)), `${s.file}: ${d.metadata.name} lacks port ${target}`);
      }
    }
  }
});

test('every container starts as the runtime starts it and listens on its declared ports', async () => {
  const containers = docs
    .filter((d) => d.kind === 'Deployment')
    .flatMap((d) => deployment(d).template.spec.containers.map((c) => ({ d, c })))
    .filter(({ c }) => c.command?.[0] === 'node');
  // One per distinct command line; each on its own loopback address so the manifests' fixed ports cannot collide.
  const unique = [
    ...new Map(containers.map((x) => [JSON.stringify([x.c.command, x.c.args, x.c.env]), x])).values(),
  ];
  assert.ok(unique.length >= 12, `${unique.length} distinct containers`);
  let n = 0;
  for (const { d, c } of unique) {
    const address = `127.77.0.${++n}`;
    const pod = `${d.metadata.name}-test${n}`;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      TRELLIS_HOME: ROOT.replace(/\/$/, ''),
      POD_NAME: pod,
      HOSTNAME: pod,
      POD_NAMESPACE: d.metadata.namespace ?? 'default',
      INSTANCE_IP: address,
      SERVICE_ACCOUNT: deployment(d).template.spec.serviceAccountName ?? 'default',
      BIND_ADDRESS: address,
      ...envOf(c),
    };
    const argv = [...(c.command ?? []), ...(c.args ?? [])].map((a) => expand(a, env));
    argv[0] = argv[0] === 'node' ? process.execPath : argv[0]!;
    const declared = (c.ports ?? []).map((p) => p.containerPort);
    const app = await spawnCommand({
      name: `${d.file} ${d.metadata.name}`,
      argv,
      env,
      cwd: join(EXAMPLES, dirname(d.file)),
      listeners: declared.length,
    });
    try {
      for (const port of declared)
        assert.ok(app.ports.includes(port), `${d.metadata.name}: listening on ${port}`);
      assert.ok(
        app.stdout.every((l) => !l.includes(address) || l.includes(`${address}:`)),
        'bound to BIND_ADDRESS',
      );
    } finally {
      await app.stop();
    }
  }
});
