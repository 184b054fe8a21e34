// Istio's normalization in the pipeline: the path RBAC judges is the path the app gets (CVE-2021-31920 tricks).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HcmConfig } from '../../../src/sidecar/config/model.js';
import { securityPipelineOptions } from '../../../src/sidecar/http/pipeline/security/index.js';
import { TestClusters } from './clusters.js';
import { h2Session, type RunningPipeline, request, startPipeline, type Upstream } from './harness.js';
import {
  ANY,
  echoOf,
  INBOUND_CLUSTER,
  inboundHcm,
  methodIs,
  pathExact,
  policyJson,
  rbacJson,
  startEcho,
} from './security-fixtures.js';

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

/** `DENY to: operation: paths: ["/admin"]` and `DENY methods: ["DELETE"]`, with Istio's mesh-wide mode's HCM fields. */
function denyAdmin(hcm: Record<string, unknown> = {}): HcmConfig {
  return inboundHcm('authorization/reviews-v1', {
    httpFilters: [
      rbacJson({
        action: 'DENY',
        policies: {
          'ns[default]-policy[deny-admin]-rule[0]': policyJson([pathExact('/admin')], [ANY]),
          'ns[default]-policy[deny-delete]-rule[0]': policyJson([methodIs('DELETE')], [ANY]),
        },
      }),
    ],
    hcm,
  });
}

async function withPipeline(config: HcmConfig, fn: (p: RunningPipeline) => Promise<void>): Promise<void> {
  const p = await startPipeline({
    config,
    clusters,
    keepClusters: true,
    direction: 'inbound',
    options: securityPipelineOptions(),
  });
  try {
    await fn(p);
  } finally {
    await p.close();
  }
}

const status = async (p: RunningPipeline, path: string) => (await request(p.port, { path })).status;

describe("BASE (Istio's default: normalize_path)", () => {
  test('dot segments and encoded dots cannot reach /admin; what is allowed reaches the app normalized', async () => {
    await withPipeline(denyAdmin(), async (p) => {
      const seen = app.seen.length;
      for (const path of [
        '/admin',
        '/public/../admin',
        '/public/%2E%2E/admin',
        '/./admin',
        '/admin?x=1',
        '/%61dmin',
      ]) {
        assert.equal(await status(p, path), 403, path);
      }
      assert.equal(app.seen.length, seen, 'the app never saw a request for /admin');
      const ok = await request(p.port, { path: '/public/./a/../b\\c?q=%2E' });
      assert.equal(ok.status, 200);
      assert.equal(echoOf(ok).url, '/public/b/c?q=%2E', 'the query is left as it came');
    });
  });

  test('an encoded NUL is refused with 400 DPE', async () => {
    await withPipeline(denyAdmin(), async (p) => {
      const r = await request(p.port, { path: '/admin%00.html' });
      assert.equal(r.status, 400);
      assert.match(String(r.headers['x-trellis-reason']), /^DPE .*NUL/);
    });
  });

  test('merged slashes are not part of BASE: //admin gets through, as Istio documents', async () => {
    await withPipeline(denyAdmin(), async (p) => {
      const r = await request(p.port, { path: '//admin' });
      assert.equal(r.status, 200);
      assert.equal(echoOf(r).url, '//admin');
    });
  });
});

describe('MERGE_SLASHES and DECODE_AND_MERGE_SLASHES', () => {
  test('MERGE_SLASHES: //admin and /public/..//admin are refused', async () => {
    await withPipeline(denyAdmin({ mergeSlashes: true }), async (p) => {
      for (const path of ['//admin', '///admin', '/public/..//admin'])
        assert.equal(await status(p, path), 403, path);
    });
  });

  test('DECODE_AND_MERGE_SLASHES: escaped slashes are decoded before the check, and forwarded decoded', async () => {
    const config = denyAdmin({ mergeSlashes: true, pathWithEscapedSlashesAction: 'UNESCAPE_AND_FORWARD' });
    await withPipeline(config, async (p) => {
      for (const path of ['/%2Fadmin', '/public%2F..%2Fadmin', '/public%5C..%5Cadmin']) {
        assert.equal(await status(p, path), 403, path);
      }
      const ok = await request(p.port, { path: '/a%2Fb' });
      assert.equal(echoOf(ok).url, '/a/b');
    });
  });
});

describe('methods', () => {
  test('a lower-case method over HTTP/2 gets 400 instead of slipping past DENY methods: [DELETE]', async () => {
    await withPipeline(denyAdmin(), async (p) => {
      const session = h2Session(p.port);
      try {
        const code = await new Promise<number>((resolve, reject) => {
          const stream = session.request({ ':method': 'delete', ':path': '/items/1' });
          stream.on('response', (headers) => resolve(Number(headers[':status'])));
          stream.on('error', reject);
          stream.resume();
          stream.end();
        });
        assert.equal(code, 400);
        await p.telemetry.waitForLines(1);
        assert.equal(p.telemetry.records[0]!.responseCodeDetails, 'invalid_method');
      } finally {
        session.close();
      }
    });
  });
});
