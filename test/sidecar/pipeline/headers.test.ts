// The connection manager's request steps: request ids, XFF and internal origin, sanitizing, path normalization.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClusters } from './clusters.js';
import { hcmConfig, request, startPipeline, startUpstream, type Upstream } from './harness.js';
import { route, simpleTable } from './routes.js';

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('connection manager request steps', () => {
  let upstream: Upstream;
  let clusters: TestClusters;
  const table = simpleTable(route({ route: { cluster: 'backend' } }));
  before(async () => {
    upstream = await startUpstream((req, res) => res.end(req.url));
    clusters = new TestClusters();
    clusters.add({ name: 'backend', endpoints: [{ port: upstream.port }] });
  });
  after(async () => {
    clusters.close();
    await upstream.close();
  });
  const last = () => upstream.seen.at(-1)!;

  test('x-request-id: a UUIDv4 is generated when absent, a caller id is preserved (Istio sidecars)', async () => {
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table }),
      clusters,
      keepClusters: true,
    });
    try {
      await request(p.port);
      assert.match(String(last().headers['x-request-id']), UUID4);
      await request(p.port, { headers: { 'x-request-id': 'from-the-app' } });
      assert.equal(last().headers['x-request-id'], 'from-the-app');
    } finally {
      await p.close();
    }
  });

  test('x-request-id: an edge proxy that does not preserve external ids replaces them', async () => {
    let n = 0;
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table, useRemoteAddress: true, preserveExternalRequestId: false }),
      clusters,
      keepClusters: true,
      direction: 'gateway',
      options: { requestId: () => `generated-${++n}` },
    });
    try {
      await request(p.port, { headers: { 'x-request-id': 'forged', 'x-forwarded-for': '203.0.113.9' } });
      assert.equal(last().headers['x-request-id'], 'generated-1');
    } finally {
      await p.close();
    }
  });

  test('use_remote_address: the peer is appended to XFF; an external request is sanitized at the edge', async () => {
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table, useRemoteAddress: true }),
      clusters,
      keepClusters: true,
      direction: 'gateway',
    });
    try {
      await request(p.port, {
        headers: {
          'x-forwarded-for': '203.0.113.9',
          'x-envoy-decorator-operation': 'forged',
          'x-envoy-internal': 'true',
          'x-envoy-anything': 'x',
          'x-trellis-debug': 'x',
          'x-forwarded-client-cert': 'By=spiffe://forged',
        },
      });
      const h = last().headers;
      assert.equal(h['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
      assert.equal(h['x-envoy-external-address'], '127.0.0.1');
      assert.equal(h['x-envoy-internal'], undefined);
      assert.equal(h['x-envoy-decorator-operation'], undefined);
      assert.equal(h['x-envoy-anything'], undefined);
      assert.equal(h['x-trellis-debug'], undefined);
      assert.equal(h['x-forwarded-client-cert'], undefined);
      assert.equal(h['x-forwarded-proto'], 'http');
      // from loopback with no XFF the request is internal (Envoy counts 127.0.0.1 as internal)
      await request(p.port);
      assert.equal(last().headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(last().headers['x-envoy-internal'], 'true');
    } finally {
      await p.close();
    }
  });

  test('without use_remote_address XFF passes untouched; one internal XFF address makes the request internal', async () => {
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table }),
      clusters,
      keepClusters: true,
    });
    try {
      await request(p.port, { headers: { 'x-forwarded-for': '10.1.2.3' } });
      assert.equal(last().headers['x-forwarded-for'], '10.1.2.3');
      assert.equal(last().headers['x-envoy-internal'], 'true');
      await request(p.port, { headers: { 'x-forwarded-for': '203.0.113.1, 10.1.2.3' } });
      assert.equal(last().headers['x-envoy-internal'], undefined);
    } finally {
      await p.close();
    }
  });

  test('control headers: the app may steer its sidecar, a plaintext caller on inbound may not, a mesh peer may', async () => {
    const headers = {
      'x-envoy-decorator-operation': 'op',
      'x-trellis-x': '1',
      'x-envoy-peer-metadata-id': 'forged',
    };
    const outbound = await startPipeline({
      config: hcmConfig({ routeConfig: table }),
      clusters,
      keepClusters: true,
    });
    const plain = await startPipeline({
      config: hcmConfig({ routeConfig: table }),
      clusters,
      keepClusters: true,
      direction: 'inbound',
    });
    const mesh = await startPipeline({
      config: hcmConfig({ routeConfig: table }),
      clusters,
      keepClusters: true,
      direction: 'inbound',
      peerIdentity: 'spiffe://cluster.local/ns/default/sa/productpage',
    });
    try {
      await request(outbound.port, { headers });
      assert.equal(last().headers['x-envoy-decorator-operation'], 'op');
      assert.equal(last().headers['x-trellis-x'], undefined);
      // the app cannot pose as another workload: its value is replaced by this sidecar's own node id
      assert.equal(last().headers['x-envoy-peer-metadata-id'], outbound.telemetry.local.nodeId);
      await request(plain.port, { headers });
      assert.equal(last().headers['x-envoy-decorator-operation'], undefined);
      await request(mesh.port, { headers });
      assert.equal(last().headers['x-envoy-decorator-operation'], 'op');
      assert.equal(last().headers['x-trellis-x'], undefined);
    } finally {
      await outbound.close();
      await plain.close();
      await mesh.close();
    }
  });

  test('path normalization: dot segments and merged slashes; escaped slashes rejected or redirected', async () => {
    const base = await startPipeline({
      config: hcmConfig({ routeConfig: table, mergeSlashes: true }),
      clusters,
      keepClusters: true,
    });
    const reject = await startPipeline({
      config: hcmConfig({ routeConfig: table, escapedSlashes: 'reject' }),
      clusters,
      keepClusters: true,
    });
    const redirect = await startPipeline({
      config: hcmConfig({ routeConfig: table, escapedSlashes: 'unescape_and_redirect' }),
      clusters,
      keepClusters: true,
    });
    try {
      assert.equal((await request(base.port, { path: '/a/./b/../c//d?x=/../y' })).body, '/a/c/d?x=/../y');
      assert.equal((await request(base.port, { path: '/%7Euser/%2e%2e/admin' })).body, '/admin');
      const r = await request(reject.port, { path: '/a%2Fb' });
      assert.equal(r.status, 400);
      assert.match(
        String(r.headers['x-trellis-reason']),
        /^DPE path "\/a%2Fb" refused by HCM "outbound_0\.0\.0\.0_9080": /,
      );
      const rd = await request(redirect.port, { path: '/a%2fb?q=1' });
      assert.equal(rd.status, 307);
      assert.equal(rd.headers.location, '/a/b?q=1');
    } finally {
      await base.close();
      await reject.close();
      await redirect.close();
    }
  });

  test('the server header is set from server_name; an upgrade other than websocket is refused with 403', async () => {
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table, serverName: 'istio-envoy' }),
      clusters,
      keepClusters: true,
    });
    try {
      const r = await request(p.port);
      assert.equal(r.headers.server, 'istio-envoy');
      const up = await request(p.port, { headers: { connection: 'upgrade', upgrade: 'tls/1.3' } });
      assert.equal(up.status, 403);
      assert.match(String(up.headers['x-trellis-reason']), /upgrade to "tls\/1\.3" is not enabled/);
    } finally {
      await p.close();
    }
  });
});
