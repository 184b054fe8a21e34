// With a real Prometheus (Debian's `prometheus`): the control plane keeps Prometheus's file_sd targets current from
// the proxies connected over xDS, and the API's golden signals come from Prometheus, not the embedded store.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, test } from 'node:test';
import { type ControlPlane, startControlPlane } from '../../src/controlplane/main.js';
import { protoDecoders } from '../../src/sidecar/xds-client/proto-decoders.js';
import type { ProtoResources } from '../../src/sidecar/xds-client/types.js';
import { XdsClient } from '../../src/sidecar/xds-client/xds-client.js';
import { prometheusConfig } from '../../src/telemetry/store/prometheus.js';
import { BookinfoTraffic } from '../../src/telemetry/testing/bookinfo-traffic.js';

const binary = (process.env.PATH ?? '')
  .split(delimiter)
  .map((d) => join(d, 'prometheus'))
  .find((p) => existsSync(p));
const skip = binary ? undefined : 'the prometheus binary is not installed (apt-get install prometheus)';

let dir = '';
let cp: ControlPlane | undefined;
let prom: ChildProcess | undefined;
let promUrl = '';
let promLog = '';
const exporters: Server[] = [];
const clients: XdsClient<ProtoResources>[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 40_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${promLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'trellis-cp-prom-'));
  const sdPath = join(dir, 'targets.json');
  writeFileSync(sdPath, '[]');
  writeFileSync(
    join(dir, 'prometheus.yml'),
    prometheusConfig({ fileSdPath: sdPath, scrapeIntervalMs: 1000 }),
  );
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prom = spawn(
    binary!,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  prom.stderr!.on('data', (c: Buffer) => {
    promLog += c.toString();
  });
  cp = await startControlPlane({
    stateDir: join(dir, 'state'),
    listen: { hosts: ['127.0.0.1'], xdsPort: 0, xdsTlsPort: 0, apiPort: 0 },
    prometheus: { url: promUrl, fileSdPath: sdPath },
  });
  // One "sidecar" per Bookinfo pod: it serves its Istio metrics and announces where over xDS (STATS_ADDRESS).
  const traffic = new BookinfoTraffic();
  let last = Date.now();
  for (const s of traffic.sidecars) {
    const server = createServer((_req, res) => {
      const now = Date.now();
      traffic.advance((now - last) / 1000);
      last = now;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(s.registry.render());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    exporters.push(server);
    const client = new XdsClient<ProtoResources>({
      server: cp.addresses.xds,
      node: {
        id: `sidecar~127.0.0.1~${s.pod}.${s.namespace}~${s.namespace}.svc.cluster.local`,
        metadata: {
          NAMESPACE: s.namespace,
          NAME: s.pod,
          STATS_ADDRESS: `127.0.0.1:${(server.address() as AddressInfo).port}`,
        },
      },
      decoders: protoDecoders,
    });
    client.start();
    clients.push(client);
  }
});

after(async () => {
  for (const c of clients) c.close();
  await cp?.stop();
  if (prom && prom.exitCode === null) {
    const exited = new Promise((r) => prom!.once('exit', r));
    prom.kill('SIGTERM');
    await exited;
  }
  for (const s of exporters) s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the control plane writes every connected proxy into Prometheus file_sd targets', { skip }, async () => {
  const sdPath = join(dir, 'targets.json');
  await until('all targets written', () => {
    const groups = JSON.parse(readFileSync(sdPath, 'utf8')) as {
      targets: string[];
      labels: Record<string, string>;
    }[];
    return groups.length === exporters.length;
  });
  const groups = JSON.parse(readFileSync(sdPath, 'utf8')) as {
    targets: string[];
    labels: Record<string, string>;
  }[];
  assert.ok(groups.every((g) => g.labels.role === 'proxy' && g.targets.length === 1));
});

test('golden signals in the API come from the real Prometheus', { skip }, async () => {
  await until('Prometheus has scraped every target', async () => {
    const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent('count(up == 1)')}`);
    const j = (await r.json()) as { data: { result: { value: [number, string] }[] } };
    return Number(j.data.result[0]?.value[1] ?? 0) === exporters.length;
  });
  type Services = { services: { service: string; requestRate: number }[] };
  let services: Services['services'] = [];
  await until('request rates over the window', async () => {
    const res = await fetch(`http://${cp!.addresses.api}/api/v1/telemetry/services?window=15s`);
    services = ((await res.json()) as Services).services;
    return services.filter((s) => s.requestRate > 0).length >= 4;
  });
  // The synthetic traffic calls details, reviews and ratings inside the mesh, and httpbin.org outside it.
  const names = services.filter((s) => s.requestRate > 0).map((s) => s.service);
  for (const expected of ['details.', 'reviews.', 'ratings.', 'httpbin.org']) {
    assert.ok(
      names.some((n) => n.startsWith(expected)),
      `${expected} has traffic: ${names.join(', ')}`,
    );
  }
  // The embedded store scraped nothing: every number above came through Prometheus.
  assert.equal(cp!.telemetry.store.select('istio_requests_total').length, 0);
});
