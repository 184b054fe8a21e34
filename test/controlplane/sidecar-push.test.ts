// The control plane pushing to a sidecar's xDS client: Bookinfo's config arrives, a VirtualService change arrives,
// and a pod becoming ready changes only the endpoints.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { KubeService, Resource } from '../../src/api/types/index.js';
import { type ControlPlane, startControlPlane } from '../../src/controlplane/main.js';
import type { Workload } from '../../src/registry/model.js';
import { protoDecoders } from '../../src/sidecar/xds-client/proto-decoders.js';
import type { ProtoResources, XdsSnapshot } from '../../src/sidecar/xds-client/types.js';
import { XdsClient } from '../../src/sidecar/xds-client/xds-client.js';

const root = new URL('../../../', import.meta.url).pathname;
let cp: ControlPlane;
let dir = '';
let client: XdsClient<ProtoResources>;

function workload(name: string, app: string, version: string, ip: string, ready = true): Workload {
  return {
    name,
    namespace: 'default',
    labels: { app, version },
    annotations: {},
    ip,
    serviceAccount: `bookinfo-${app}`,
    workloadName: `${app}-${version}`,
    containerPorts: [{ name: 'http', port: 9080 }],
    ready,
    hasSidecar: true,
  };
}

/** Waits for the next snapshot that satisfies `ok`. */
function nextSnapshot(ok: (s: XdsSnapshot<ProtoResources>) => boolean): Promise<XdsSnapshot<ProtoResources>> {
  return new Promise((resolve) => {
    const current = client.snapshot;
    if (current && ok(current)) return resolve(current);
    const stop = client.onSnapshot((s) => {
      if (ok(s)) {
        stop();
        resolve(s);
      }
    });
  });
}

function reviewsRoute(s: XdsSnapshot<ProtoResources>): string {
  const rc = s.routes.get('9080');
  const vh = rc?.virtualHosts.find((v) => v.name.startsWith('reviews.'));
  const action = vh?.routes[0]?.action;
  return action?.case === 'route' && action.value.clusterSpecifier.case === 'cluster'
    ? action.value.clusterSpecifier.value
    : '';
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-cp-push-'));
  const input = join(dir, 'input');
  mkdirSync(input);
  for (const f of ['destination-rule-all.yaml', 'virtual-service-all-v1.yaml']) {
    writeFileSync(
      join(input, f),
      `${await import('node:fs').then((fs) => fs.readFileSync(join(root, 'examples/bookinfo/networking', f), 'utf8'))}`,
    );
  }
  cp = await startControlPlane({
    stateDir: join(dir, 'state'),
    configDirs: [input],
    listen: { hosts: ['127.0.0.1'], xdsPort: 0, xdsTlsPort: 0, apiPort: 0 },
    debounceMs: 10,
  });
  const platform = parseAllDocuments(
    await import('node:fs').then((fs) =>
      fs.readFileSync(join(root, 'examples/bookinfo/platform/bookinfo.yaml'), 'utf8'),
    ),
  )
    .map((d) => d.toJSON() as Resource)
    .filter((r) => r?.kind === 'Service') as KubeService[];
  let vip = 1;
  cp.registry.setServices(
    platform.map((s) => ({
      ...s,
      metadata: { namespace: 'default', ...s.metadata },
      spec: { ...s.spec, clusterIP: `10.214.0.${vip++}` },
    })),
  );
  cp.registry.setWorkloads([
    workload('productpage-v1-0', 'productpage', 'v1', '10.213.0.2'),
    workload('details-v1-0', 'details', 'v1', '10.213.0.3'),
    workload('reviews-v1-0', 'reviews', 'v1', '10.213.0.4'),
    workload('reviews-v2-0', 'reviews', 'v2', '10.213.0.5'),
    workload('reviews-v3-0', 'reviews', 'v3', '10.213.0.6', false),
    workload('ratings-v1-0', 'ratings', 'v1', '10.213.0.7'),
  ]);
  client = new XdsClient<ProtoResources>({
    server: cp.addresses.xds,
    node: {
      id: 'sidecar~10.213.0.2~productpage-v1-0.default~default.svc.cluster.local',
      metadata: {
        NAMESPACE: 'default',
        NAME: 'productpage-v1-0',
        WORKLOAD_NAME: 'productpage-v1',
        SERVICE_ACCOUNT: 'bookinfo-productpage',
        LABELS: { app: 'productpage', version: 'v1' },
        INSTANCE_IPS: '10.213.0.2',
      },
    },
    decoders: protoDecoders,
  });
  client.start();
});

after(async () => {
  client?.close();
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a sidecar receives Bookinfo config translated from all-v1 routing', async () => {
  const s = await client.synced();
  assert.ok(
    s.listeners.has('virtualOutbound') &&
      s.listeners.has('virtualInbound') &&
      s.listeners.has('0.0.0.0_9080'),
  );
  assert.equal(reviewsRoute(s), 'outbound|9080|v1|reviews.default.svc.cluster.local');
  const v3 = s.endpoints.get('outbound|9080|v3|reviews.default.svc.cluster.local');
  assert.equal(v3?.endpoints[0]?.lbEndpoints[0]?.healthStatus, 2 /* UNHEALTHY: reviews-v3 is not ready */);
});

test('a VirtualService change reaches the sidecar', async () => {
  const result = await cp.config.apply([
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'reviews', namespace: 'default' },
      spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v3' } }] }] },
    },
  ]);
  assert.ok(result.ok, JSON.stringify(result.messages));
  const s = await nextSnapshot(
    (x) => reviewsRoute(x) === 'outbound|9080|v3|reviews.default.svc.cluster.local',
  );
  assert.ok(s);
});

test('a pod turning ready pushes endpoints only: other types keep their versions', async () => {
  const before = client.snapshot!;
  const workloads = cp.registry
    .snapshot()
    .workloads.map((w) => (w.name === 'reviews-v3-0' ? { ...w, ready: true } : w));
  cp.registry.setWorkloads(workloads);
  const s = await nextSnapshot((x) => {
    const v3 = x.endpoints.get('outbound|9080|v3|reviews.default.svc.cluster.local');
    return v3?.endpoints[0]?.lbEndpoints[0]?.healthStatus === 1; /* HEALTHY */
  });
  assert.notEqual(s.versions.endpoint, before.versions.endpoint);
  assert.equal(s.versions.cluster, before.versions.cluster);
  assert.equal(s.versions.listener, before.versions.listener);
  assert.equal(s.versions.route, before.versions.route);
});
