// The seams others plug into: security engines as filters in config order (fail closed without one), hash policies.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HttpFilterConfig } from '../../../src/sidecar/config/model.js';
import type { FilterFactory } from '../../../src/sidecar/http/pipeline/filters/types.js';
import { pipelineReply } from '../../../src/sidecar/http/pipeline/local-reply.js';
import { streamOf } from '../../../src/sidecar/http/pipeline/stream.js';
import { xxHash64 } from '../../../src/sidecar/upstream/lb/xxhash64.js';
import { TestClusters } from './clusters.js';
import { hcmConfig, request, startPipeline, startUpstream, type Upstream } from './harness.js';
import { route, simpleTable } from './routes.js';

const RBAC: HttpFilterConfig = { name: 'envoy.filters.http.rbac', kind: 'rbac', shadowRulesStatPrefix: '' };
const JWT: HttpFilterConfig = {
  name: 'envoy.filters.http.jwt_authn',
  kind: 'jwt',
  config: { providers: [], allowMissing: true },
};

describe('seams', () => {
  let upstream: Upstream;
  let clusters: TestClusters;
  before(async () => {
    upstream = await startUpstream((req, res) =>
      res.end(String(req.headers['x-jwt-subject'] ?? 'anonymous')),
    );
    clusters = new TestClusters();
    clusters.add({
      name: 'backend',
      endpoints: [{ port: upstream.port }, { port: upstream.port, host: '127.0.0.2' }],
    });
  });
  after(async () => {
    clusters.close();
    await upstream.close();
  });

  test('a security filter kind with no engine refuses every request (fail closed), naming the filter', async () => {
    const p = await startPipeline({
      config: hcmConfig({
        routeConfig: simpleTable(route({ route: { cluster: 'backend' } })),
        httpFilters: [RBAC],
      }),
      clusters,
      keepClusters: true,
    });
    try {
      const before = upstream.seen.length;
      const r = await request(p.port);
      assert.equal(r.status, 403);
      assert.equal(r.body, 'RBAC: access denied');
      assert.match(
        String(r.headers['x-trellis-reason']),
        /filter "envoy\.filters\.http\.rbac" \(rbac\) has no engine/,
      );
      assert.equal(upstream.seen.length, before);
    } finally {
      await p.close();
    }
  });

  test('engines plug in as (next) => handler filters and run in config order before the router', async () => {
    const order: string[] = [];
    const jwt: FilterFactory = () => (next) => async (req, ctx) => {
      order.push('jwt');
      if (req.headers.get('authorization') === 'Bearer good') req.headers.set('x-jwt-subject', 'jason');
      return next(req, ctx);
    };
    const rbac: FilterFactory = () => (next) => async (req, ctx) => {
      order.push('rbac');
      if (req.headers.get('x-jwt-subject') === undefined) {
        return pipelineReply(streamOf(ctx)!, {
          status: 403,
          reason: 'RBAC: no policy allows anonymous',
          body: 'RBAC: access denied',
        });
      }
      return next(req, ctx);
    };
    const p = await startPipeline({
      config: hcmConfig({
        routeConfig: simpleTable(route({ route: { cluster: 'backend' } })),
        httpFilters: [JWT, RBAC],
      }),
      clusters,
      keepClusters: true,
      options: { security: { jwt, rbac } },
    });
    try {
      assert.equal((await request(p.port)).status, 403);
      const ok = await request(p.port, { headers: { authorization: 'Bearer good' } });
      assert.equal(ok.status, 200);
      assert.equal(ok.body, 'jason');
      assert.deepEqual(order, ['jwt', 'rbac', 'jwt', 'rbac']);
    } finally {
      await p.close();
    }
  });

  test('hash policies give the cluster a hash: same user, same hash; a generated cookie is set when asked', async () => {
    const table = simpleTable(
      route({
        match: { prefix: '/sticky' },
        route: { cluster: 'backend', hashPolicies: [{ kind: 'header', name: 'end-user', terminal: false }] },
      }),
      route({
        route: {
          cluster: 'backend',
          hashPolicies: [
            { kind: 'cookie', name: 'session', cookieTtlMs: 60_000, cookiePath: '/', terminal: true },
          ],
        },
      }),
    );
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table }),
      clusters,
      keepClusters: true,
    });
    try {
      const c = clusters.get('backend')!;
      const from = c.attempts.length;
      await request(p.port, { path: '/sticky', headers: { 'end-user': 'jason' } });
      await request(p.port, { path: '/sticky', headers: { 'end-user': 'jason' } });
      await request(p.port, { path: '/sticky', headers: { 'end-user': 'ann' } });
      const hashes = c.attempts.slice(from).map((a) => a.hash);
      assert.equal(hashes[0], xxHash64('jason'));
      assert.equal(hashes[1], hashes[0]);
      assert.equal(hashes[2], xxHash64('ann'));
      const first = await request(p.port);
      const cookie = String(first.headers['set-cookie']);
      assert.match(cookie, /^session="[0-9a-f]{16}"; Max-Age=60; Path=\/; HttpOnly$/);
      const value = /session="([0-9a-f]+)"/.exec(cookie)![1]!;
      const before = c.attempts.length;
      const again = await request(p.port, { headers: { cookie: `session="${value}"` } });
      assert.equal(again.headers['set-cookie'], undefined);
      assert.equal(c.attempts[before]!.hash, c.attempts[before - 1]!.hash);
    } finally {
      await p.close();
    }
  });
});
