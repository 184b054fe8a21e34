// Authorization in the pipeline: Istio's authz-http steps, DENY before ALLOW, AUDIT, principals from the mTLS peer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HcmConfig } from '../../../src/sidecar/config/model.js';
import { securityPipelineOptions } from '../../../src/sidecar/http/pipeline/security/index.js';
import { TestClusters } from './clusters.js';
import { type RunningPipeline, request, startPipeline, type Upstream } from './harness.js';
import {
  ANY,
  echoOf,
  INBOUND_CLUSTER,
  inboundHcm,
  methodIs,
  policyJson,
  rbacJson,
  startEcho,
} from './security-fixtures.js';

const PRODUCTPAGE = 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage';
const RATINGS = 'spiffe://cluster.local/ns/default/sa/bookinfo-ratings';
const DENY_POLICY = 'ns[default]-policy[deny-method-get]-rule[0]';
const STATS = 'http.inbound_0.0.0.0_9080.rbac';

let app: Upstream;
let clusters: TestClusters;

before(async () => {
  app = await startEcho();
  clusters = new TestClusters();
  clusters.add({ name: INBOUND_CLUSTER, endpoints: [{ port: app.port }] });
});

after(async () => {
  clusters.close();
  await app.close();
});

/** An inbound pipeline with the security module plugged in, as the listener of port 9080 would hand it requests. */
function inbound(config: HcmConfig, peerIdentity?: string): Promise<RunningPipeline> {
  return startPipeline({
    config,
    clusters,
    keepClusters: true,
    direction: 'inbound',
    peerIdentity,
    originalDestination: { address: '127.0.0.1', port: 9080 },
    options: securityPipelineOptions(),
  });
}

/** `response_code_details` of the first `n` requests, from the access log records. */
async function details(p: RunningPipeline, n: number): Promise<(string | undefined)[]> {
  await p.telemetry.waitForLines(n);
  return p.telemetry.records.slice(0, n).map((r) => r.responseCodeDetails);
}

describe("Istio's authz-http task, step by step", () => {
  test('allow-nothing: every request gets 403 "RBAC: access denied" and never reaches the app', async () => {
    const p = await inbound(inboundHcm('authorization/reviews-v1', { httpFilters: [rbacJson({})] }));
    try {
      const seen = app.seen.length;
      const r = await request(p.port, { path: '/productpage' });
      assert.equal(r.status, 403);
      assert.equal(r.body, 'RBAC: access denied');
      // The caller learns which listener refused, never which policy.
      assert.match(String(r.headers['x-trellis-reason']), /access denied .*inbound_0\.0\.0\.0_9080/);
      assert.equal(app.seen.length, seen);
      assert.deepEqual(await details(p, 1), ['rbac_access_denied_matched_policy[none]']);
      assert.equal(p.telemetry.stat(`${STATS}.denied`), 1);
    } finally {
      await p.close();
    }
  });

  test('productpage-viewer (ALLOW methods: [GET]): GET gets through, POST is refused', async () => {
    const viewer = rbacJson({
      policies: { 'ns[default]-policy[productpage-viewer]-rule[0]': policyJson([methodIs('GET')], [ANY]) },
    });
    const p = await inbound(inboundHcm('authorization/reviews-v1', { httpFilters: [viewer] }));
    try {
      const get = await request(p.port, { path: '/productpage' });
      assert.equal(get.status, 200);
      assert.equal(echoOf(get).url, '/productpage');
      const post = await request(p.port, { method: 'POST', path: '/productpage', body: 'x' });
      assert.equal(post.status, 403);
      assert.deepEqual(await details(p, 2), ['via_upstream', 'rbac_access_denied_matched_policy[none]']);
      assert.equal(p.telemetry.stat(`${STATS}.allowed`), 1);
      assert.equal(p.telemetry.stat(`${STATS}.denied`), 1);
    } finally {
      await p.close();
    }
  });
});

describe("the control plane's reviews-v1 inbound listener (golden): DENY, ALLOW by principal, AUDIT", () => {
  const reviews = () => inboundHcm('authorization/reviews-v1');
  const host = { host: 'reviews:9080' };

  test('reviews-viewer: GET /reviews/1 from bookinfo-productpage is allowed and audited', async () => {
    const p = await inbound(reviews(), PRODUCTPAGE);
    try {
      const r = await request(p.port, { path: '/reviews/1', headers: host });
      assert.equal(r.status, 200);
      assert.equal(echoOf(r).url, '/reviews/1');
      // The AUDIT (LOG) filter after ALLOW saw it and marked it for logging without deciding anything.
      assert.equal(p.telemetry.stat(`${STATS}.logged`), 1);
      assert.equal(p.telemetry.stat(`${STATS}.allowed`), 3, 'DENY, ALLOW and LOG filters each allowed it');
    } finally {
      await p.close();
    }
  });

  test('the principal comes from the mTLS peer: another workload and a plaintext caller are refused', async () => {
    for (const peer of [RATINGS, undefined]) {
      const p = await inbound(reviews(), peer);
      try {
        const r = await request(p.port, { path: '/reviews/1', headers: host });
        assert.equal(r.status, 403, `peer ${peer ?? '(plaintext)'}`);
        assert.deepEqual(await details(p, 1), ['rbac_access_denied_matched_policy[none]']);
      } finally {
        await p.close();
      }
    }
  });

  test('operations it does not list are refused: notPaths */admin, another host, another method', async () => {
    const p = await inbound(reviews(), PRODUCTPAGE);
    try {
      const cases = [
        { path: '/reviews/admin', headers: host },
        { path: '/reviews/1', headers: { host: 'ratings:9080' } },
        { path: '/reviews/1', method: 'PUT', headers: host, body: '{}' },
      ];
      for (const c of cases) assert.equal((await request(p.port, c)).status, 403, JSON.stringify(c));
      // url_path ignores the query: /reviews/1?x=1 still matches /reviews/{*}.
      assert.equal((await request(p.port, { path: '/reviews/1?x=1', headers: host })).status, 200);
    } finally {
      await p.close();
    }
  });

  test('DENY runs first: DELETE without x-token: admin names the DENY policy; with it, ALLOW still decides', async () => {
    const p = await inbound(reviews(), PRODUCTPAGE);
    try {
      const denied = await request(p.port, { method: 'DELETE', path: '/reviews/1', headers: host });
      assert.equal(denied.status, 403);
      assert.doesNotMatch(String(denied.headers['x-trellis-reason']), /policy/);
      assert.match((await details(p, 1)).join(), /ns\[default\]-policy\[deny-method-get\]/);
      const guest = await request(p.port, {
        method: 'DELETE',
        path: '/reviews/1',
        headers: { ...host, 'x-token': 'guest' },
      });
      assert.equal(guest.status, 403);
      // A second value cannot escort a bad one past the DENY.
      const both = await request(p.port, {
        method: 'DELETE',
        path: '/reviews/1',
        headers: { ...host, 'x-token': ['guest', 'admin'] },
      });
      assert.equal(both.status, 403);
      const admin = await request(p.port, {
        method: 'DELETE',
        path: '/reviews/1',
        headers: { ...host, 'x-token': 'admin' },
      });
      assert.equal(admin.status, 403);
      assert.deepEqual(await details(p, 4), [
        `rbac_access_denied_matched_policy[${DENY_POLICY}]`,
        `rbac_access_denied_matched_policy[${DENY_POLICY}]`,
        `rbac_access_denied_matched_policy[${DENY_POLICY}]`,
        // admin passes the DENY; reviews-viewer only allows GET.
        'rbac_access_denied_matched_policy[none]',
      ]);
      assert.equal(p.telemetry.stat(`${STATS}.logged`), 0, 'denied requests never reach the AUDIT filter');
    } finally {
      await p.close();
    }
  });
});

describe('AUDIT', () => {
  test('an AUDIT policy matching everything never denies; each request is counted as logged', async () => {
    const audit = rbacJson({
      action: 'LOG',
      policies: { 'ns[istio-system]-policy[audit-everything]-rule[0]': policyJson([ANY], [ANY]) },
    });
    const p = await inbound(inboundHcm('authorization/reviews-v1', { httpFilters: [audit] }));
    try {
      for (const method of ['GET', 'DELETE']) {
        assert.equal((await request(p.port, { method, path: '/anything' })).status, 200, method);
      }
      assert.equal(p.telemetry.stat(`${STATS}.logged`), 2);
      assert.equal(p.telemetry.stat(`${STATS}.denied`), 0);
    } finally {
      await p.close();
    }
  });
});
