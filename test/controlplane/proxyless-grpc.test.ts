// Proxyless gRPC: gRPC's own xDS client (@grpc/grpc-js-xds) follows Istio config translated by the control plane —
// header matches, weighted splits and DestinationRule subsets — with no sidecar in the path.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { register } from '@grpc/grpc-js-xds';
import { createEchoServer, listenEchoServer } from '../../examples/grpc-echo/src/echo-server.js';
import {
  decodeEchoResponse,
  ECHO_PATH,
  encodeEchoRequest,
} from '../../examples/grpc-echo/src/echo-service.js';
import { type ControlPlane, startControlPlane } from '../../src/controlplane/main.js';

register();

const HOST = 'echo.grpc.svc.cluster.local';
let cp: ControlPlane;
let dir = '';
const backends: grpc.Server[] = [];
let client: grpc.Client | undefined;

function config(ports: { v1: number[]; v2: number[] }): string {
  const entries = [
    ...ports.v1.map((p, i) => ['v1', p, i] as const),
    ...ports.v2.map((p, i) => ['v2', p, i] as const),
  ]
    .map(
      ([v, p, i]) => `---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: echo-${v}-${i}, namespace: grpc}
spec: {address: 127.0.0.1, ports: {grpc: ${p}}, labels: {app: echo, version: ${v}}}`,
    )
    .join('\n');
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: echo, namespace: grpc}
spec:
  hosts: [${HOST}]
  ports: [{number: 7070, name: grpc, protocol: GRPC}]
  location: MESH_INTERNAL
  resolution: STATIC
  workloadSelector: {labels: {app: echo}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: echo, namespace: grpc}
spec:
  host: ${HOST}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: echo, namespace: grpc}
spec:
  hosts: [${HOST}]
  http:
  - match: [{headers: {x-canary: {exact: "yes"}}}]
    route: [{destination: {host: ${HOST}, subset: v2}}]
  - route:
    - {destination: {host: ${HOST}, subset: v1}, weight: 70}
    - {destination: {host: ${HOST}, subset: v2}, weight: 30}
${entries}
`;
}

function call(metadata: Record<string, string>): Promise<string> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve, reject) =>
    client!.makeUnaryRequest(
      ECHO_PATH,
      encodeEchoRequest,
      decodeEchoResponse,
      { message: 'hi' },
      md,
      { deadline: Date.now() + 10_000 },
      (e, r) => (e || !r ? reject(e) : resolve(`${r.version}/${r.hostname}`)),
    ),
  );
}

async function tally(n: number, metadata: Record<string, string>): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let done = 0; done < n; done += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, n - done) }, () => call(metadata)));
    for (const who of batch) {
      const version = who.split('/')[0]!;
      counts.set(version, (counts.get(version) ?? 0) + 1);
    }
  }
  return counts;
}

before(async () => {
  const ports = { v1: [] as number[], v2: [] as number[] };
  for (const [version, list] of [
    ['v1', ports.v1],
    ['v2', ports.v2],
  ] as const) {
    for (let i = 0; i < 2; i++) {
      const server = createEchoServer({ hostname: `echo-${version}-${i}`, version, log: () => {} });
      backends.push(server);
      list.push(await listenEchoServer(server, '127.0.0.1', 0));
    }
  }
  dir = mkdtempSync(join(tmpdir(), 'trellis-cp-grpc-'));
  const configDir = join(dir, 'input');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(configDir);
  writeFileSync(join(configDir, 'echo.yaml'), config(ports));
  cp = await startControlPlane({
    stateDir: join(dir, 'state'),
    configDirs: [configDir],
    listen: { hosts: ['127.0.0.1'], xdsPort: 0, xdsTlsPort: 0, apiPort: 0 },
    debounceMs: 10,
  });
  const bootstrap = {
    xds_servers: [
      { server_uri: cp.addresses.xds, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
    ],
    node: { id: 'grpc-client-1', locality: {}, metadata: { GENERATOR: 'grpc', NAMESPACE: 'grpc' } },
  };
  client = new grpc.Client(`xds:///${HOST}:7070`, grpc.credentials.createInsecure(), {
    'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap),
  });
});

after(async () => {
  client?.close();
  await cp?.stop();
  for (const b of backends) b.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});

test('calls with the matching header all reach v2', async () => {
  const counts = await tally(200, { 'x-canary': 'yes' });
  assert.deepEqual([...counts.entries()], [['v2', 200]]);
});

test('calls without the header split 70/30 between the subsets', async () => {
  const n = 1000;
  const counts = await tally(n, {});
  const v2 = counts.get('v2') ?? 0;
  // v2's share has a standard deviation of 1.45 points over 1000 calls; 30% ± 6 is about 4 sigma.
  assert.equal((counts.get('v1') ?? 0) + v2, n);
  assert.ok(Math.abs(v2 / n - 0.3) <= 0.06, `v2 got ${v2} of ${n}; expected 30% ± 6`);
});

test('the gRPC client accepted every resource: SYNCED for each type in /debug/syncz, no NACK', async () => {
  const res = await fetch(`http://${cp.addresses.api}/debug/syncz`);
  const syncz = (await res.json()) as {
    proxy: string;
    types: Record<string, { state: string; lastNack: unknown }>;
  }[];
  const entry = syncz.find((p) => p.proxy === 'grpc-client-1');
  assert.ok(entry, `the client is listed: ${JSON.stringify(syncz)}`);
  for (const [type, s] of Object.entries(entry.types)) {
    assert.equal(s.state, 'SYNCED', `${type}: ${JSON.stringify(s)}`);
    assert.equal(s.lastNack, null, `${type} was NACKed: ${JSON.stringify(s.lastNack)}`);
  }
});
