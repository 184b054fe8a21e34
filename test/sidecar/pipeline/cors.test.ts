// CORS end to end: preflights answered locally (or forwarded), allow headers on actual responses, credentials.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CorsConfig } from '../../../src/sidecar/config/model.js';
import { stringMatch } from '../../../src/sidecar/config/string-match.js';
import { TestClusters } from './clusters.js';
import { hcmConfig, request, startPipeline, startUpstream, type Upstream } from './harness.js';
import { route, simpleTable } from './routes.js';

const CORS_FILTER = { name: 'envoy.filters.http.cors', kind: 'cors' as const };

const policy: CorsConfig = {
  allowOrigins: [stringMatch('exact', 'https://app.example.com'), stringMatch('suffix', '.trusted.example')],
  allowMethods: 'GET,POST',
  allowHeaders: 'content-type,x-token',
  exposeHeaders: 'x-request-id',
  maxAge: '600',
  allowCredentials: true,
  forwardNotMatchingPreflights: false,
};

describe('cors filter', () => {
  let upstream: Upstream;
  let clusters: TestClusters;
  before(async () => {
    upstream = await startUpstream((req, res) => res.end(`${req.method} reached`));
    clusters = new TestClusters();
    clusters.add({ name: 'backend', endpoints: [{ port: upstream.port }] });
  });
  after(async () => {
    clusters.close();
    await upstream.close();
  });

  test('a preflight from an allowed origin is answered here with the allow headers', async () => {
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: simpleTable(route({ cors: policy })), httpFilters: [CORS_FILTER] }),
      clusters,
      keepClusters: true,
    });
    try {
      const before = upstream.seen.length;
      const r = await request(p.port, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
      });
      assert.equal(r.status, 200);
      assert.equal(r.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.equal(r.headers['access-control-allow-methods'], 'GET,POST');
      assert.equal(r.headers['access-control-allow-headers'], 'content-type,x-token');
      assert.equal(r.headers['access-control-max-age'], '600');
      assert.equal(r.headers['access-control-allow-credentials'], 'true');
      assert.equal(upstream.seen.length, before);
    } finally {
      await p.close();
    }
  });

  test('a disallowed preflight gets no allow headers, and is forwarded when forwardNotMatchingPreflights', async () => {
    const forward = { ...policy, forwardNotMatchingPreflights: true };
    const table = simpleTable(route({ match: { prefix: '/fwd' }, cors: forward }), route({ cors: policy }));
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table, httpFilters: [CORS_FILTER] }),
      clusters,
      keepClusters: true,
    });
    try {
      const headers = { origin: 'https://evil.example', 'access-control-request-method': 'POST' };
      const local = await request(p.port, { method: 'OPTIONS', path: '/x', headers });
      assert.equal(local.status, 200);
      assert.equal(local.headers['access-control-allow-origin'], undefined);
      const before = upstream.seen.length;
      const forwarded = await request(p.port, { method: 'OPTIONS', path: '/fwd', headers });
      assert.equal(forwarded.body, 'OPTIONS reached');
      assert.equal(upstream.seen.length, before + 1);
    } finally {
      await p.close();
    }
  });

  test('actual requests: allowed origins get allow-origin, credentials and expose headers; others nothing', async () => {
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: simpleTable(route({ cors: policy })), httpFilters: [CORS_FILTER] }),
      clusters,
      keepClusters: true,
    });
    try {
      const ok = await request(p.port, { headers: { origin: 'https://shop.trusted.example' } });
      assert.equal(ok.body, 'GET reached');
      assert.equal(ok.headers['access-control-allow-origin'], 'https://shop.trusted.example');
      assert.equal(ok.headers['access-control-allow-credentials'], 'true');
      assert.equal(ok.headers['access-control-expose-headers'], 'x-request-id');
      const bad = await request(p.port, { headers: { origin: 'https://evil.example' } });
      assert.equal(bad.body, 'GET reached');
      assert.equal(bad.headers['access-control-allow-origin'], undefined);
      const none = await request(p.port);
      assert.equal(none.headers['access-control-allow-origin'], undefined);
    } finally {
      await p.close();
    }
  });
});
