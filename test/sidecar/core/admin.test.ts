// The admin API and the health ports of a running sidecar, `trellis proxy-config` against it, and readiness
// that turns 200 only once the certificate and the first complete config are in.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parseAdminTarget, proxyConfig } from '../../../src/cli/commands/proxy-config.js';
import { silentLogger } from '../../../src/shared/log.js';
import { validateBootstrap } from '../../../src/sidecar/runtime/bootstrap.js';
import { Sidecar } from '../../../src/sidecar/runtime/sidecar.js';
import {
  admin,
  closeServer,
  eventually,
  TestMesh as Mesh,
  startHttpApp,
  type TestMesh,
  type TestPod,
  viaProxy,
} from './harness.js';

const run = promisify(execFile);
const root = new URL('../../../../', import.meta.url).pathname;

let mesh: TestMesh;
let client: TestPod;
let web: TestPod;
const servers: (http.Server | net.Server)[] = [];

before(async () => {
  mesh = await Mesh.start({ prefix: '127.32' });
  mesh.addService('sleep', [{ name: 'http', port: 80 }]);
  mesh.addService('web', [{ name: 'http', port: 9080 }]);
  client = await mesh.startPod({
    name: 'sleep-0',
    app: 'sleep',
    ports: [{ name: 'http', port: 80 }],
    bootstrap: { appMetrics: { port: 9090, path: '/metrics' } },
  });
  web = await mesh.startPod({ name: 'web-v1-0', app: 'web', ports: [{ name: 'http', port: 9080 }] });
  servers.push(await startHttpApp(web.appIp, 9080, 'web-v1'));
  servers.push(
    await startHttpApp(client.appIp, 9090, 'metrics', (_req, res) =>
      res.end('# TYPE app_widgets_total counter\napp_widgets_total 42\n'),
    ),
  );
  await Promise.all([client.sidecar!.whenReady(), web.sidecar!.whenReady()]);
  for (let i = 0; i < 3; i++) assert.equal((await viaProxy(client, 'http://web:9080/x')).status, 200);
});

after(async () => {
  for (const s of servers) await closeServer(s);
  await mesh.stop();
});

async function get(port: number, host: string, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${host}:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('/config_dump', () => {
  test("Envoy's ConfigDump: sections in order, raw resources with versions, secrets redacted", async () => {
    const dump = JSON.parse((await admin(client, '/config_dump')).body);
    const types = dump.configs.map((c: { '@type': string }) => c['@type'].split('.').pop());
    assert.deepEqual(types, [
      'BootstrapConfigDump',
      'ClustersConfigDump',
      'ListenersConfigDump',
      'ScopedRoutesConfigDump',
      'RoutesConfigDump',
      'SecretsConfigDump',
    ]);
    const [boot, clusters, listeners, , routes, secrets] = dump.configs;
    assert.equal(boot.bootstrap.node.id, `sidecar~${client.ip}~sleep-0.default~default.svc.cluster.local`);
    assert.ok(clusters.version_info, 'clusters carry the ACKed version');
    const web = clusters.dynamic_active_clusters.find(
      (c: { cluster: { name: string } }) => c.cluster.name === 'outbound|9080||web.default.svc.cluster.local',
    );
    assert.equal(web.cluster['@type'], 'type.googleapis.com/envoy.config.cluster.v3.Cluster');
    assert.equal(web.cluster.type, 'EDS');
    assert.ok(web.version_info && web.last_updated);
    const names = listeners.dynamic_listeners.map((l: { name: string }) => l.name).sort();
    assert.deepEqual(names, [`${client.ip}_15080`, `${client.ip}_80`]);
    const proxy = listeners.dynamic_listeners.find((l: { name: string }) => l.name.endsWith('_15080'));
    assert.equal(proxy.active_state.listener.address.socket_address.port_value, 15080);
    assert.deepEqual(
      routes.dynamic_route_configs.map((r: { route_config: { name: string } }) => r.route_config.name),
      ['http_proxy'],
    );
    const byName = Object.fromEntries(
      secrets.dynamic_active_secrets.map((s: { name: string; secret: unknown }) => [s.name, s.secret]),
    );
    assert.equal(
      Buffer.from(byName.default.tls_certificate.private_key.inline_bytes, 'base64').toString(),
      '[redacted]',
    );
    assert.match(
      Buffer.from(byName.default.tls_certificate.certificate_chain.inline_bytes, 'base64').toString(),
      /BEGIN CERTIFICATE/,
    );
    assert.ok(byName.ROOTCA.validation_context.trusted_ca.inline_bytes);
  });

  test('?include_eds adds the endpoints', async () => {
    const dump = JSON.parse((await admin(client, '/config_dump?include_eds')).body);
    const eds = dump.configs.find((c: { '@type': string }) => c['@type'].endsWith('EndpointsConfigDump'));
    const cla = eds.dynamic_endpoint_configs.find(
      (e: { endpoint_config: { cluster_name: string } }) =>
        e.endpoint_config.cluster_name === 'outbound|9080||web.default.svc.cluster.local',
    );
    assert.equal(
      cla.endpoint_config.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address,
      web.ip,
    );
  });
});

describe('/clusters', () => {
  test("Envoy's text format: thresholds, then per host counters, health, weight and locality", async () => {
    const text = (await admin(client, '/clusters')).body;
    const name = 'outbound|9080||web.default.svc.cluster.local';
    const host = `${name}::${web.ip}:9080`;
    const lines = new Set(text.split('\n'));
    assert.ok(lines.has(`${name}::default_priority::max_connections::4294967295`), text);
    assert.ok(lines.has(`${name}::added_via_api::true`));
    assert.ok(lines.has(`${host}::health_flags::healthy`));
    assert.ok(lines.has(`${host}::weight::1`));
    const total = text.split('\n').find((l) => l.startsWith(`${host}::rq_total::`));
    assert.ok(Number(total?.split('::').pop()) >= 3, 'the requests sent are counted on the host');
    const success = text.split('\n').find((l) => l.startsWith(`${host}::rq_success::`));
    assert.ok(Number(success?.split('::').pop()) >= 3);
  });

  test('?format=json is envoy.admin.v3.Clusters', async () => {
    const json = JSON.parse((await admin(client, '/clusters?format=json')).body);
    const c = json.cluster_statuses.find(
      (s: { name: string }) => s.name === 'outbound|9080||web.default.svc.cluster.local',
    );
    assert.equal(c.host_statuses[0].address.socket_address.address, web.ip);
    assert.equal(c.host_statuses[0].health_status.eds_health_status, 'HEALTHY');
    assert.equal(c.circuit_breakers.thresholds[0].max_connections, 4294967295);
  });
});

describe('stats', () => {
  test('/stats has Envoy names; /stats/prometheus adds the istio_* families', async () => {
    const text = (await admin(client, '/stats')).body;
    assert.match(
      text,
      /^cluster\.outbound\|9080\|\|web\.default\.svc\.cluster\.local\.upstream_rq_total: [3-9]/m,
    );
    assert.match(
      text,
      /^cluster\.outbound\|9080\|\|web\.default\.svc\.cluster\.local\.upstream_cx_total: [1-9]/m,
    );
    assert.match(text, /^server\.live: 1$/m);
    const filtered = (await admin(client, '/stats?filter=membership_total')).body;
    assert.ok(
      filtered
        .split('\n')
        .filter(Boolean)
        .every((l) => l.includes('membership_total')),
    );
    const prom = (await admin(client, '/stats/prometheus')).body;
    assert.match(prom, /^istio_requests_total\{reporter="source",source_workload="sleep-v1"/m);
    assert.match(
      prom,
      /envoy_cluster_upstream_rq_total\{envoy_cluster_name="outbound\|9080\|\|web\.default\.svc\.cluster\.local"\}/,
    );
  });

  test('15090 serves /stats/prometheus; 15020 merges the app metrics in', async () => {
    const ports = client.sidecar!.ports;
    const stats = await get(ports.stats, client.ip, '/stats/prometheus');
    assert.equal(stats.status, 200);
    assert.match(stats.body, /istio_requests_total/);
    assert.doesNotMatch(stats.body, /app_widgets_total/);
    const merged = await get(ports.mergedMetrics, client.ip, '/stats/prometheus');
    assert.match(merged.body, /istio_requests_total/);
    assert.match(merged.body, /^app_widgets_total 42$/m);
  });
});

describe('other endpoints', () => {
  test('/ready, /server_info, /certs, /listeners and the readiness ports', async () => {
    assert.deepEqual(await admin(client, '/ready'), { status: 200, body: 'LIVE\n' });
    const info = JSON.parse((await admin(client, '/server_info')).body);
    assert.equal(info.state, 'LIVE');
    assert.equal(info.node.id, client.bootstrap.node.id);
    const certs = JSON.parse((await admin(client, '/certs')).body);
    assert.deepEqual(certs.certificates[0].cert_chain[0].subject_alt_names, [
      { uri: 'spiffe://cluster.local/ns/default/sa/sleep' },
    ]);
    assert.ok(certs.certificates[0].ca_cert.length >= 1);
    assert.match(
      (await admin(client, '/listeners')).body,
      new RegExp(`_15080::${client.ip.replaceAll('.', '\\.')}:15080`),
    );
    const ports = client.sidecar!.ports;
    assert.equal((await get(ports.readiness, client.ip, '/healthz/ready')).status, 200);
    assert.equal((await get(ports.mergedMetrics, client.ip, '/healthz/ready')).status, 200);
    assert.equal((await admin(client, '/nope')).status, 404);
  });

  test('/logging changes the level with POST only', async () => {
    assert.equal((await admin(client, '/logging?level=debug')).status, 405);
    const res = await fetch(`${client.sidecar!.adminUrl}/logging?level=warning`, { method: 'POST' });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /trellis: warn/);
    assert.equal(client.sidecar!.logLevel(), 'warn');
    const bad = await fetch(`${client.sidecar!.adminUrl}/logging?level=loud`, { method: 'POST' });
    assert.equal(bad.status, 400);
  });
});

describe('trellis proxy-config', () => {
  test('tables from the admin unix socket, like istioctl', async () => {
    const target = parseAdminTarget(`unix:${client.bootstrap.admin.socketPath}`);
    const clusters = await proxyConfig('clusters', target, 'table');
    assert.match(clusters, /^SERVICE FQDN +PORT +SUBSET +DIRECTION +TYPE +DESTINATION RULE$/m);
    assert.match(clusters, /^web\.default\.svc\.cluster\.local +9080 +- +outbound +EDS/m);
    const listeners = await proxyConfig('listeners', target, 'table');
    assert.match(
      listeners,
      new RegExp(`^${client.ip.replaceAll('.', '\\.')} +15080 +ALL +Route: http_proxy$`, 'm'),
    );
    const routes = await proxyConfig('routes', target, 'table');
    assert.match(routes, /^http_proxy +web\.default\.svc\.cluster\.local:9080 /m);
    const endpoints = await proxyConfig('endpoints', target, 'table');
    assert.match(
      endpoints,
      new RegExp(`^${web.ip.replaceAll('.', '\\.')}:9080 +HEALTHY +OK +outbound\\|9080\\|\\|web`, 'm'),
    );
    const secret = await proxyConfig('secret', target, 'table');
    assert.match(secret, /^default +Cert Chain +ACTIVE +true +[0-9a-f]+ /m);
    assert.match(secret, /^ROOTCA +CA +ACTIVE +true/m);
  });

  test('the command over TCP, -o json', async () => {
    const { stdout } = await run(process.execPath, [
      join(root, 'bin/trellis.js'),
      'proxy-config',
      'clusters',
      client.sidecar!.adminUrl,
      '-o',
      'json',
    ]);
    const dump = JSON.parse(stdout);
    assert.ok(
      dump.dynamic_active_clusters.some((c: { cluster: { name: string } }) => c.cluster.name.includes('web')),
    );
  });
});

describe('a config the sidecar refuses', () => {
  test('is NACKed with the field named; the previous config keeps serving; the next good one is applied', async () => {
    const before = client.sidecar!.xdsStatus()!.kinds.cluster;
    const dumpBefore = (await admin(client, '/config_dump')).body;
    await mesh.apply([
      {
        apiVersion: 'networking.istio.io/v1alpha3',
        kind: 'EnvoyFilter',
        metadata: { name: 'health-checks', namespace: 'default' },
        spec: {
          workloadSelector: { labels: { app: 'sleep' } },
          configPatches: [
            {
              applyTo: 'CLUSTER',
              match: { context: 'SIDECAR_OUTBOUND', cluster: { service: 'web.default.svc.cluster.local' } },
              patch: {
                operation: 'MERGE',
                value: {
                  health_checks: [
                    {
                      timeout: '1s',
                      interval: '5s',
                      unhealthy_threshold: 1,
                      healthy_threshold: 1,
                      tcp_health_check: {},
                    },
                  ],
                },
              },
            },
          ],
        },
      },
    ]);
    await eventually(
      () => client.sidecar!.xdsStatus()!.kinds.cluster.updateRejected > before.updateRejected,
      'the NACK',
    );
    const nack = client.sidecar!.xdsStatus()!.kinds.cluster.lastNack!;
    assert.match(nack.message, /outbound\|9080\|\|web\.default\.svc\.cluster\.local.*health_checks/);
    assert.equal(client.sidecar!.xdsStatus()!.kinds.cluster.ackedVersion, before.ackedVersion);
    assert.equal((await viaProxy(client, 'http://web:9080/still')).status, 200);
    const clustersAfter = JSON.parse((await admin(client, '/config_dump')).body).configs[1];
    assert.deepEqual(
      clustersAfter,
      JSON.parse(dumpBefore).configs[1],
      'nothing of the refused update was applied',
    );
    await mesh.cp.config.delete([{ kind: 'EnvoyFilter', namespace: 'default', name: 'health-checks' }]);
    await mesh.apply([
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'web', namespace: 'default' },
        spec: { host: 'web', trafficPolicy: { connectionPool: { tcp: { maxConnections: 77 } } } },
      },
    ]);
    await eventually(
      async () =>
        (await admin(client, '/clusters')).body.includes(
          'outbound|9080||web.default.svc.cluster.local::default_priority::max_connections::77',
        ),
      'the next good version to be applied',
    );
    assert.equal((await viaProxy(client, 'http://web:9080/again')).status, 200);
  });
});

describe('readiness', () => {
  test('503 while the CA and control plane are unreachable, 200 once the certificate and config are in', async () => {
    // A port that refuses connections until the test forwards it to the control plane.
    const gate = net.createServer();
    gate.listen(0, '127.0.0.1');
    await new Promise((r) => gate.once('listening', r));
    const port = (gate.address() as net.AddressInfo).port;
    gate.close();
    const ip = '127.32.0.50';
    const b = validateBootstrap({
      ...JSON.parse(JSON.stringify(web.bootstrap)),
      node: { ...web.bootstrap.node, id: `sidecar~${ip}~web-v1-0.default~default.svc.cluster.local` },
      xds: { ...web.bootstrap.xds, address: `127.0.0.1:${port}` },
      ca: { ...web.bootstrap.ca, address: `127.0.0.1:${port}` },
      admin: { address: ip, port: 0 },
      bindAddress: ip,
    });
    const sidecar = await Sidecar.start({
      bootstrap: b,
      logger: silentLogger,
      caRetry: { baseMs: 20, maxMs: 100 },
      xdsBackoff: { baseMs: 20, maxMs: 100 },
    });
    try {
      const ready = () => get(sidecar.ports.readiness, ip, '/healthz/ready');
      assert.equal((await ready()).status, 503);
      assert.equal((await fetch(`${sidecar.adminUrl}/ready`)).status, 503);
      await eventually(() => sidecar.identityAgent!.status().consecutiveFailures >= 3, 'a few CA retries');
      assert.equal((await ready()).status, 503);
      const [cpHost, cpPort] = mesh.cp.addresses.xdsTls.split(':');
      const forward = net.createServer((s) => {
        const up = net.connect(Number(cpPort), cpHost);
        s.pipe(up).pipe(s);
        up.on('error', () => s.destroy());
        s.on('error', () => up.destroy());
      });
      forward.listen(port, '127.0.0.1');
      servers.push(forward);
      await sidecar.whenReady();
      assert.equal((await ready()).status, 200);
    } finally {
      await sidecar.stop();
    }
  });
});
