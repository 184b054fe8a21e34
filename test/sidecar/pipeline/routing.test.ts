// Routing end to end over loopback: header and weighted routing, redirects, rewrites, direct responses, header edits.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClusters } from './clusters.js';
import { hcmConfig, request, seededRandom, startPipeline, startUpstream, type Upstream } from './harness.js';
import { exactHeader, ops, route, routeTable, simpleTable, vhost } from './routes.js';

describe('routing', () => {
  let v1: Upstream;
  let v2: Upstream;
  let v3: Upstream;
  before(async () => {
    const echo = (name: string) => async () =>
      startUpstream((req, res) => {
        res.setHeader('x-served-by', name);
        res.setHeader('x-upstream-header', 'kept');
        res.end(`${name} ${req.url}`);
      });
    v1 = await echo('v1')();
    v2 = await echo('v2')();
    v3 = await echo('v3')();
  });
  after(async () => {
    await Promise.all([v1.close(), v2.close(), v3.close()]);
  });

  function clusters(): TestClusters {
    const c = new TestClusters();
    c.add({ name: 'reviews-v1', endpoints: [{ port: v1.port }] });
    c.add({ name: 'reviews-v2', endpoints: [{ port: v2.port }] });
    c.add({ name: 'reviews-v3', endpoints: [{ port: v3.port }] });
    return c;
  }

  test('a header match sends jason to v2 and everyone else to v1 (Bookinfo reviews-test-v2)', async () => {
    const table = simpleTable(
      route({
        name: 'jason',
        match: { prefix: '/', headers: [exactHeader('end-user', 'jason')] },
        route: { cluster: 'reviews-v2' },
      }),
      route({ name: 'default', route: { cluster: 'reviews-v1' } }),
    );
    const p = await startPipeline({ config: hcmConfig({ routeConfig: table }), clusters: clusters() });
    try {
      const jason = await request(p.port, { path: '/reviews/0', headers: { 'end-user': 'jason' } });
      const other = await request(p.port, { path: '/reviews/0', headers: { 'end-user': 'someone' } });
      const none = await request(p.port, { path: '/reviews/0' });
      assert.equal(jason.body, 'v2 /reviews/0');
      assert.equal(other.body, 'v1 /reviews/0');
      assert.equal(none.body, 'v1 /reviews/0');
      // a second end-user value cannot smuggle a match: values are joined as Envoy joins them
      const doubled = await request(p.port, { path: '/', headers: { 'end-user': ['someone', 'jason'] } });
      assert.equal(doubled.headers['x-served-by'], 'v1');
    } finally {
      await p.close();
    }
  });

  test('weighted clusters split 80/20 within a few percent over 1000 requests (seeded randomness)', async () => {
    const table = simpleTable(
      route({
        route: {
          clusters: [
            { name: 'reviews-v1', weight: 80 },
            { name: 'reviews-v2', weight: 20 },
          ],
        },
      }),
    );
    const p = await startPipeline({
      config: hcmConfig({ routeConfig: table }),
      clusters: clusters(),
      options: { random: seededRandom(42) },
    });
    try {
      const counts: Record<string, number> = {};
      for (let i = 0; i < 1000; i++) {
        const r = await request(p.port);
        const who = String(r.headers['x-served-by']);
        counts[who] = (counts[who] ?? 0) + 1;
      }
      assert.ok(Math.abs((counts.v1 ?? 0) - 800) <= 40, `v1 got ${counts.v1} of 1000`);
      assert.ok(Math.abs((counts.v2 ?? 0) - 200) <= 40, `v2 got ${counts.v2} of 1000`);
    } finally {
      await p.close();
    }
  });

  test('redirect: scheme, host, path and status as configured; query kept unless stripped', async () => {
    const table = simpleTable(
      route({
        match: { prefix: '/old' },
        action: {
          kind: 'redirect',
          scheme: 'https',
          host: 'new.example.com',
          prefixRewrite: '/new',
          status: 301,
          stripQuery: false,
        },
      }),
      route({
        match: { prefix: '/gone' },
        action: { kind: 'redirect', path: '/here', status: 302, stripQuery: true },
      }),
    );
    const p = await startPipeline({ config: hcmConfig({ routeConfig: table }), clusters: clusters() });
    try {
      const r1 = await request(p.port, { path: '/old/page?x=1', headers: { host: 'old.example.com:80' } });
      assert.equal(r1.status, 301);
      assert.equal(r1.headers.location, 'https://new.example.com/new/page?x=1');
      const r2 = await request(p.port, { path: '/gone?y=2', headers: { host: 'svc:9080' } });
      assert.equal(r2.status, 302);
      assert.equal(r2.headers.location, 'http://svc:9080/here');
    } finally {
      await p.close();
    }
  });

  test('prefix and regex rewrites reach the upstream, with x-envoy-original-path; host rewrite sets authority', async () => {
    const before1 = v1.seen.length;
    const table = simpleTable(
      route({
        match: { prefix: '/api/v1/' },
        route: { cluster: 'reviews-v1', prefixRewrite: '/v1/', hostRewrite: 'backend.internal' },
      }),
      route({
        match: { prefix: '/users/' },
        route: {
          cluster: 'reviews-v1',
          regexRewrite: { pattern: /^\/users\/(\d+)\/profile$/, substitution: '/profiles/$1' },
        },
      }),
    );
    const p = await startPipeline({ config: hcmConfig({ routeConfig: table }), clusters: clusters() });
    try {
      const a = await request(p.port, { path: '/api/v1/items?q=1' });
      assert.equal(a.body, 'v1 /v1/items?q=1');
      const b = await request(p.port, { path: '/users/42/profile?full=1' });
      assert.equal(b.body, 'v1 /profiles/42?full=1');
      const seen = v1.seen.slice(before1);
      assert.equal(seen[0]!.headers.host, 'backend.internal');
      assert.equal(seen[0]!.headers['x-envoy-original-path'], '/api/v1/items?q=1');
      assert.equal(seen[1]!.headers['x-envoy-original-path'], '/users/42/profile?full=1');
    } finally {
      await p.close();
    }
  });

  test('direct response answers locally with its status and body; nothing reaches an upstream', async () => {
    const before1 = v1.seen.length;
    const table = simpleTable(
      route({
        match: { exact: '/healthz' },
        action: { kind: 'directResponse', status: 200, body: Buffer.from('alive') },
      }),
      route({ match: { prefix: '/' }, action: { kind: 'directResponse', status: 502 } }),
    );
    const p = await startPipeline({ config: hcmConfig({ routeConfig: table }), clusters: clusters() });
    try {
      const a = await request(p.port, { path: '/healthz' });
      assert.equal(a.status, 200);
      assert.equal(a.body, 'alive');
      const b = await request(p.port, { path: '/anything' });
      assert.equal(b.status, 502);
      assert.equal(v1.seen.length, before1);
      assert.equal(p.telemetry.stat('http.outbound_0.0.0.0_9080.rq_direct_response'), 2);
    } finally {
      await p.close();
    }
  });

  test('request and response header edits apply at weighted-cluster, route, vhost and config level, least specific last', async () => {
    const before1 = v1.seen.length;
    const r = route({
      route: {
        clusters: [
          {
            name: 'reviews-v1',
            weight: 1,
            requestHeaders: ops({ add: { 'x-level': 'cluster', 'x-cluster': 'yes' } }),
            responseHeaders: ops({ add: { 'x-resp-level': 'cluster' } }),
          },
        ],
      },
      requestHeaders: ops({ add: { 'x-level': 'route', 'x-route': 'yes' }, remove: ['x-drop-me'] }),
      responseHeaders: ops({ add: { 'x-resp-level': 'route' }, remove: ['x-upstream-header'] }),
    });
    const table = routeTable({
      virtualHosts: [
        vhost({
          routes: [r],
          requestHeaders: ops({ add: { 'x-level': 'vhost' } }),
          responseHeaders: ops({
            add: [
              {
                key: 'x-vhost',
                value: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%',
                action: 'overwrite',
                keepEmpty: false,
              },
            ],
          }),
        }),
      ],
      requestHeaders: ops({ add: { 'x-global': 'yes' } }),
      responseHeaders: ops({
        add: [{ key: 'x-resp-level', value: 'global', action: 'addIfAbsent', keepEmpty: false }],
      }),
    });
    const p = await startPipeline({ config: hcmConfig({ routeConfig: table }), clusters: clusters() });
    try {
      const res = await request(p.port, { headers: { 'x-drop-me': 'secret' } });
      const seen = v1.seen[before1]!.headers;
      assert.equal(seen['x-level'], 'vhost', 'the vhost level runs after the route and cluster levels');
      assert.equal(seen['x-cluster'], 'yes');
      assert.equal(seen['x-route'], 'yes');
      assert.equal(seen['x-global'], 'yes');
      assert.equal(seen['x-drop-me'], undefined);
      assert.equal(
        res.headers['x-resp-level'],
        'route',
        'addIfAbsent at the global level keeps the route value',
      );
      assert.equal(res.headers['x-upstream-header'], undefined);
      assert.equal(res.headers['x-vhost'], '127.0.0.1');
      assert.match(String(res.headers['x-envoy-upstream-service-time']), /^\d+$/);
    } finally {
      await p.close();
    }
  });

  test('virtual hosts are chosen by authority; no route answers 404 NR naming host, path and route config', async () => {
    const table = routeTable({
      name: '9080',
      virtualHosts: [
        vhost({
          name: 'reviews:9080',
          domains: ['reviews', 'reviews:9080'],
          routes: [route({ route: { cluster: 'reviews-v1' } })],
        }),
        vhost({
          name: 'ratings:9080',
          domains: ['ratings', 'ratings:9080'],
          routes: [route({ match: { prefix: '/ratings' }, route: { cluster: 'reviews-v2' } })],
        }),
      ],
    });
    const p = await startPipeline({ config: hcmConfig({ routeConfig: table }), clusters: clusters() });
    try {
      assert.equal(
        (await request(p.port, { headers: { host: 'reviews:9080' } })).headers['x-served-by'],
        'v1',
      );
      assert.equal(
        (await request(p.port, { path: '/ratings/0', headers: { host: 'RATINGS' } })).headers['x-served-by'],
        'v2',
      );
      const nr = await request(p.port, { path: '/nope', headers: { host: 'ratings:9080' } });
      assert.equal(nr.status, 404);
      assert.equal(
        nr.headers['x-trellis-reason'],
        'NR no route for host "ratings:9080" path "/nope" in route config "9080" (virtual host "ratings:9080" has no match)',
      );
      const unknown = await request(p.port, { headers: { host: 'details:9080' } });
      assert.equal(unknown.status, 404);
      assert.match(
        String(unknown.headers['x-trellis-reason']),
        /^NR no route for host "details:9080" path "\/" in route config "9080" \(no virtual host matches\)/,
      );
      assert.equal(p.telemetry.stat('http.outbound_0.0.0.0_9080.no_route'), 2);
    } finally {
      await p.close();
    }
  });

  test('a route to a cluster the core does not know answers 503 NC', async () => {
    const table = simpleTable(
      route({ name: 'to-nowhere', route: { cluster: 'outbound|9080|v9|reviews.default.svc.cluster.local' } }),
    );
    const p = await startPipeline({ config: hcmConfig({ routeConfig: table }), clusters: clusters() });
    try {
      const r = await request(p.port);
      assert.equal(r.status, 503);
      assert.match(
        String(r.headers['x-trellis-reason']),
        /^NC cluster "outbound\|9080\|v9\|reviews.default.svc.cluster.local" named by route "to-nowhere"/,
      );
      assert.equal(p.telemetry.stat('http.outbound_0.0.0.0_9080.no_cluster'), 1);
    } finally {
      await p.close();
    }
  });

  test('routes come from RDS by name, and a missing route config is NR', async () => {
    const routes = new Map([['9080', simpleTable(route({ route: { cluster: 'reviews-v3' } }))]]);
    const p = await startPipeline({ config: hcmConfig({ rds: '9080' }), clusters: clusters(), routes });
    try {
      assert.equal((await request(p.port)).headers['x-served-by'], 'v3');
      routes.delete('9080');
      const r = await request(p.port);
      assert.equal(r.status, 404);
      assert.match(String(r.headers['x-trellis-reason']), /no route configuration is loaded/);
    } finally {
      await p.close();
    }
  });
});
