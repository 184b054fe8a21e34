// CUSTOM authorization in the pipeline: ext_authz over HTTP and gRPC through the cluster manager, failure modes.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import type { HcmConfig } from '../../../src/sidecar/config/model.js';
import { securityPipelineOptions } from '../../../src/sidecar/http/pipeline/security/index.js';
import {
  Authorization,
  type CheckRequest,
  type CheckResponse,
  CheckResponseSchema,
} from '../../../src/xds/gen/envoy/service/auth/v3/external_auth_pb.js';
import { grpcServiceDefinition } from '../../../src/xds/grpc.js';
import { TestClusters } from './clusters.js';
import {
  deadPort,
  type RunningPipeline,
  request,
  startPipeline,
  startUpstream,
  TestTelemetry,
  type Upstream,
} from './harness.js';
import {
  ANY,
  customJson,
  type ExtAuthzJson,
  echoOf,
  INBOUND_CLUSTER,
  inboundHcm,
  methodIs,
  pathExact,
  policyJson,
  rbacJson,
  startEcho,
} from './security-fixtures.js';

/** The cluster the details golden's ext_authz filter names (Istio's sample-ext-authz-http provider). */
const HTTP_AUTHZ = 'outbound|8000||ext-authz.foo.svc.cluster.local';
const GRPC_AUTHZ = 'outbound|9000||ext-authz.foo.svc.cluster.local';
const DEAD = 'outbound|8000||dead.foo.svc.cluster.local';
const HANGING = 'outbound|8000||hang.foo.svc.cluster.local';
const STATS = 'http.inbound_0.0.0.0_9080';
const SLEEP = 'spiffe://cluster.local/ns/default/sa/sleep';
const DETAILS = 'spiffe://cluster.local/ns/default/sa/bookinfo-details';
const DENIED_BODY = 'denied by ext_authz for not found header `x-ext-authz: allow` in the request';

let app: Upstream;
let authz: Upstream;
let hanging: Upstream;
let grpcServer: grpc.Server;
const grpcSeen: CheckRequest[] = [];
let clusters: TestClusters;

/** Istio's sample ext-authz server over HTTP: `x-ext-authz: allow` is allowed, anything else denied. */
function sampleHttpAuthz(req: IncomingMessage, res: import('node:http').ServerResponse): void {
  res.setHeader('x-internal', 'only for the authorization service');
  if (req.headers['x-ext-authz'] === 'allow') {
    res.setHeader('x-ext-authz-check-result', 'allowed');
    res.setHeader('x-user', 'alice');
    res.end();
  } else {
    res.statusCode = 403;
    res.setHeader('x-ext-authz-check-result', 'denied');
    res.end(DENIED_BODY);
  }
}

/** The same decision over gRPC, with an upstream header on allow and a response header for the client. */
function grpcCheck(
  call: grpc.ServerUnaryCall<CheckRequest, CheckResponse>,
  cb: (err: grpc.ServiceError | null, res?: CheckResponse) => void,
): void {
  grpcSeen.push(call.request);
  const headers = call.request.attributes?.request?.http?.headers ?? {};
  if (headers['x-ext-authz'] === 'allow') {
    cb(
      null,
      create(CheckResponseSchema, {
        status: { code: 0 },
        httpResponse: {
          case: 'okResponse',
          value: {
            headers: [{ header: { key: 'x-user', value: 'bob' } }],
            headersToRemove: ['x-ext-authz'],
            responseHeadersToAdd: [{ header: { key: 'x-ext-authz-check', value: 'grpc' } }],
          },
        },
      }),
    );
    return;
  }
  cb(
    null,
    create(CheckResponseSchema, {
      status: { code: grpc.status.PERMISSION_DENIED },
      httpResponse: {
        case: 'deniedResponse',
        value: {
          status: { code: 401 },
          headers: [{ header: { key: 'x-ext-authz-check', value: 'denied' } }],
          body: 'not over gRPC either',
        },
      },
    }),
  );
}

before(async () => {
  app = await startEcho();
  authz = await startUpstream(sampleHttpAuthz);
  hanging = await startUpstream(() => {});
  grpcServer = new grpc.Server();
  grpcServer.addService(grpcServiceDefinition(Authorization), { check: grpcCheck });
  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  clusters = new TestClusters();
  clusters.add({ name: INBOUND_CLUSTER, endpoints: [{ port: app.port }] });
  clusters.add({ name: HTTP_AUTHZ, endpoints: [{ port: authz.port }] });
  clusters.add({ name: HANGING, endpoints: [{ port: hanging.port }] });
  clusters.add({ name: DEAD, endpoints: [{ port: await deadPort() }] });
  clusters.add({ name: GRPC_AUTHZ, endpoints: [{ port: grpcPort }], protocol: 'http2' });
});

after(async () => {
  clusters.close();
  grpcServer.forceShutdown();
  await Promise.all([app.close(), authz.close(), hanging.close()]);
});

function inbound(config: HcmConfig): Promise<RunningPipeline> {
  return startPipeline({
    config,
    clusters,
    keepClusters: true,
    direction: 'inbound',
    peerIdentity: SLEEP,
    telemetry: new TestTelemetry({ local: { principal: DETAILS } }),
    options: securityPipelineOptions(),
  });
}

/** CUSTOM on `/headers` with `ext` as the provider, on details' inbound listener. */
function custom(ext: ExtAuthzJson): HcmConfig {
  return inboundHcm('authorization/details', {
    httpFilters: customJson(
      { 'ns[default]-policy[ext-authz]-rule[0]': policyJson([pathExact('/headers')], [ANY]) },
      ext,
    ),
  });
}

describe("the control plane's details listener (golden): CUSTOM with Istio's sample ext-authz over HTTP", () => {
  let p: RunningPipeline;
  before(async () => {
    p = await inbound(inboundHcm('authorization/details'));
  });
  after(() => p.close());

  test('x-ext-authz: allow reaches the app; the check carries the path, authority and only the listed header', async () => {
    const checks = authz.seen.length;
    const r = await request(p.port, {
      path: '/headers',
      headers: { host: 'details:9080', 'x-ext-authz': 'allow', cookie: 'session=secret' },
    });
    assert.equal(r.status, 200);
    assert.equal(echoOf(r).url, '/headers');
    assert.equal(authz.seen.length, checks + 1);
    const check = authz.seen.at(-1)!;
    assert.equal(check.method, 'GET');
    assert.equal(check.url, '/headers');
    assert.equal(check.headers.host, 'details:9080');
    assert.equal(check.headers['x-ext-authz'], 'allow');
    assert.equal(check.headers.cookie, undefined, 'headers not in includeRequestHeadersInCheck stay home');
  });

  test("a denial is the service's: status, body and headers, flag UAEX, details ext_authz_denied", async () => {
    const seen = app.seen.length;
    const r = await request(p.port, { path: '/headers', headers: { 'x-ext-authz': 'deny' } });
    assert.equal(r.status, 403);
    assert.equal(r.body, DENIED_BODY);
    assert.equal(r.headers['x-ext-authz-check-result'], 'denied');
    assert.match(
      String(r.headers['x-trellis-reason']),
      /^UAEX ext_authz filter .* cluster "outbound\|8000\|\|ext-authz/,
    );
    assert.equal(app.seen.length, seen);
    await p.telemetry.waitForLines(2);
    const record = p.telemetry.records.at(-1)!;
    assert.equal(record.responseFlags, 'UAEX');
    assert.equal(record.responseCodeDetails, 'ext_authz_denied');
  });

  test('a path no CUSTOM policy names is not checked at all', async () => {
    const checks = authz.seen.length;
    const r = await request(p.port, { path: '/ip', headers: { 'x-ext-authz': 'deny' } });
    assert.equal(r.status, 200);
    assert.equal(authz.seen.length, checks);
  });

  test("Envoy's counters: shadow engine matches per CUSTOM path, ext_authz ok / denied / disabled", () => {
    const stat = (name: string) => p.telemetry.stat(`${STATS}.${name}`);
    assert.equal(stat('rbac.istio_ext_authz_shadow_denied'), 2, 'the two /headers requests matched');
    assert.equal(stat('rbac.istio_ext_authz_shadow_allowed'), 1);
    assert.equal(stat('ext_authz.ok'), 1);
    assert.equal(stat('ext_authz.denied'), 1);
    assert.equal(stat('ext_authz.disabled'), 1);
  });
});

describe('ext_authz header passing (headersToUpstreamOnAllow, headersToDownstreamOnDeny)', () => {
  let p: RunningPipeline;
  before(async () => {
    p = await inbound(
      custom({
        kind: 'http',
        cluster: HTTP_AUTHZ,
        includeRequestHeadersInCheck: ['x-ext-authz'],
        headersToUpstreamOnAllow: ['x-user', 'x-ext-authz-check-result'],
        headersToDownstreamOnDeny: ['x-ext-authz-check-result'],
      }),
    );
  });
  after(() => p.close());

  test('on allow, exactly the listed headers of the answer are added to the request the app gets', async () => {
    const r = await request(p.port, {
      path: '/headers',
      headers: { 'x-ext-authz': 'allow', 'x-user': 'forged-by-client' },
    });
    assert.equal(r.status, 200);
    const seen = echoOf(r).headers;
    assert.equal(seen['x-user'], 'alice', "the service's value replaces the client's");
    assert.equal(seen['x-ext-authz-check-result'], 'allowed');
    assert.equal(seen['x-internal'], undefined);
  });

  test('on deny, exactly the listed headers reach the client', async () => {
    const r = await request(p.port, { path: '/headers' });
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-ext-authz-check-result'], 'denied');
    assert.equal(r.headers['x-internal'], undefined);
  });
});

describe('ext_authz over gRPC (envoyExtAuthzGrpc) through an HTTP/2 cluster', () => {
  let p: RunningPipeline;
  before(async () => {
    p = await inbound(custom({ kind: 'grpc', cluster: GRPC_AUTHZ }));
  });
  after(() => p.close());

  test("allowed: the service's header edits reach the app and its response header the client", async () => {
    const r = await request(p.port, {
      path: '/headers',
      headers: { host: 'details:9080', 'x-ext-authz': 'allow' },
    });
    assert.equal(r.status, 200);
    const seen = echoOf(r).headers;
    assert.equal(seen['x-user'], 'bob');
    assert.equal(seen['x-ext-authz'], undefined, 'headers_to_remove');
    assert.equal(r.headers['x-ext-authz-check'], 'grpc');
    const check = grpcSeen.at(-1)!.attributes!;
    assert.equal(check.source?.principal, SLEEP, "the caller's SPIFFE ID from the mTLS peer");
    assert.equal(check.destination?.principal, DETAILS);
    assert.equal(check.request?.http?.path, '/headers');
    assert.equal(check.request?.http?.host, 'details:9080');
  });

  test('denied: the status, body and headers of denied_response', async () => {
    const r = await request(p.port, { path: '/headers' });
    assert.equal(r.status, 401);
    assert.equal(r.body, 'not over gRPC either');
    assert.equal(r.headers['x-ext-authz-check'], 'denied');
  });
});

describe("AuthorizationPolicy's order: CUSTOM, then ALLOW", () => {
  let p: RunningPipeline;
  before(async () => {
    const [shadow, extAuthz] = customJson(
      { 'ns[default]-policy[ext-authz]-rule[0]': policyJson([pathExact('/headers')], [ANY]) },
      { kind: 'http', cluster: HTTP_AUTHZ, includeRequestHeadersInCheck: ['x-ext-authz'] },
    );
    const allowGet = rbacJson({
      policies: { 'ns[default]-policy[details-viewer]-rule[0]': policyJson([methodIs('GET')], [ANY]) },
    });
    p = await inbound(inboundHcm('authorization/details', { httpFilters: [shadow!, extAuthz!, allowGet] }));
  });
  after(() => p.close());

  test('a CUSTOM denial wins although an ALLOW policy matches; a CUSTOM allow does not override ALLOW', async () => {
    const allowed = await request(p.port, { path: '/headers', headers: { 'x-ext-authz': 'allow' } });
    assert.equal(allowed.status, 200);
    const customDenied = await request(p.port, { path: '/headers', headers: { 'x-ext-authz': 'deny' } });
    assert.equal(customDenied.status, 403);
    assert.equal(customDenied.body, DENIED_BODY);
    const allowDenied = await request(p.port, {
      method: 'POST',
      path: '/headers',
      headers: { 'x-ext-authz': 'allow' },
      body: '{}',
    });
    assert.equal(allowDenied.status, 403);
    assert.equal(allowDenied.body, 'RBAC: access denied');
    await p.telemetry.waitForLines(3);
    assert.deepEqual(
      p.telemetry.records.map((r) => `${r.responseFlags} ${r.responseCodeDetails}`),
      ['- via_upstream', 'UAEX ext_authz_denied', '- rbac_access_denied_matched_policy[none]'],
    );
  });
});

describe('when the authorization service fails', () => {
  const cases: { what: string; ext: ExtAuthzJson }[] = [
    { what: 'nothing listens', ext: { kind: 'http', cluster: DEAD } },
    { what: 'it does not answer in time', ext: { kind: 'http', cluster: HANGING, timeout: '0.2s' } },
    {
      what: 'its cluster is unknown',
      ext: { kind: 'grpc', cluster: 'outbound|1||nowhere.svc.cluster.local' },
    },
  ];
  for (const { what, ext } of cases) {
    test(`${what}: 403 UAEX (status_on_error); with failOpen the request goes through`, async () => {
      const closed = await inbound(custom(ext));
      const open = await inbound(custom({ ...ext, failOpen: true }));
      try {
        const refused = await request(closed.port, { path: '/headers' });
        assert.equal(refused.status, 403);
        assert.match(String(refused.headers['x-trellis-reason']), /^UAEX .*failed/);
        await closed.telemetry.waitForLines(1);
        assert.equal(closed.telemetry.records[0]!.responseCodeDetails, 'ext_authz_error');
        assert.equal(closed.telemetry.stat(`${STATS}.ext_authz.error`), 1);
        const allowed = await request(open.port, { path: '/headers' });
        assert.equal(allowed.status, 200);
        assert.equal(open.telemetry.stat(`${STATS}.ext_authz.failure_mode_allowed`), 1);
      } finally {
        await closed.close();
        await open.close();
      }
    });
  }
});
