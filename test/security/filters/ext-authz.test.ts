// ext_authz against real authorization services on loopback: HTTP and gRPC, allow, deny, failure modes.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import type { ExtAuthzConfig, MetadataMatcher } from '../../../src/sidecar/config/model.js';
import { stringMatch } from '../../../src/sidecar/config/string-match.js';
import { ExtAuthzFilter } from '../../../src/sidecar/security/ext-authz/filter.js';
import { NodeExtAuthzTransport } from '../../../src/sidecar/security/ext-authz/node-transport.js';
import {
  Authorization,
  type CheckRequest,
  type CheckResponse,
  CheckResponseSchema,
} from '../../../src/xds/gen/envoy/service/auth/v3/external_auth_pb.js';
import { grpcServiceDefinition } from '../../../src/xds/grpc.js';
import { httpServer, requestContext, spiffe, type TestServer } from './harness.js';

const exact = (v: string) => stringMatch('exact', v, true);

async function closedPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

describe('ext_authz over HTTP', () => {
  let service: TestServer;
  let hang: TestServer;
  let transport: NodeExtAuthzTransport;
  let deadPort: number;

  before(async () => {
    service = await httpServer((req, res) => {
      const verdict = req.headers['x-verdict'];
      if (verdict === 'allow') {
        res.setHeader('x-user', 'alice');
        res.setHeader('x-internal-secret', 'not-for-upstream');
        res.setHeader('x-envoy-auth-headers-to-remove', 'x-verdict, :path, host');
        res.end('ok');
      } else if (verdict === 'crash') {
        res.statusCode = 503;
        res.end('overloaded');
      } else if (verdict === 'odd') {
        res.statusCode = 204;
        res.end();
      } else {
        res.statusCode = 401;
        res.setHeader('www-authenticate', 'Basic realm="corp"');
        res.setHeader('x-reason', 'no verdict');
        res.setHeader('x-debug', 'internal');
        res.end('who are you?');
      }
    });
    hang = await httpServer(() => {});
    deadPort = await closedPort();
    transport = new NodeExtAuthzTransport({
      resolve: (cluster) =>
        cluster === 'authz'
          ? { host: '127.0.0.1', port: service.port }
          : cluster === 'slow'
            ? { host: '127.0.0.1', port: hang.port }
            : cluster === 'dead'
              ? { host: '127.0.0.1', port: deadPort }
              : undefined,
    });
  });

  after(async () => {
    await service.close();
    await hang.close();
  });

  const config = (cluster = 'authz', extra: Partial<ExtAuthzConfig> = {}): ExtAuthzConfig => ({
    service: {
      kind: 'http',
      cluster,
      uri: `http://${cluster}`,
      pathPrefix: '/check',
      timeoutMs: 300,
      allowedHeaders: [exact('x-verdict')],
      allowedUpstreamHeaders: [exact('x-user')],
      allowedClientHeaders: [exact('x-reason')],
    },
    failureModeAllow: false,
    statusOnError: 403,
    ...extra,
  });

  test('the check request: original method, path prefix + path, authority, authorization, allowed headers only', async () => {
    const filter = new ExtAuthzFilter(config(), { transport });
    const before = service.requests.length;
    await filter.check(
      requestContext({
        method: 'DELETE',
        path: '/items/7?force=1',
        authority: 'shop.example:8080',
        headers: { 'x-verdict': 'allow', authorization: 'Bearer t', cookie: 'secret=1', 'x-other': 'no' },
      }),
    );
    const req = service.requests[before]!;
    assert.equal(req.method, 'DELETE');
    assert.equal(req.url, '/check/items/7?force=1');
    assert.equal(req.headers.host, 'shop.example:8080');
    assert.equal(req.headers.authorization, 'Bearer t');
    assert.equal(req.headers['x-verdict'], 'allow');
    assert.equal(req.headers['content-length'], '0');
    assert.equal(req.headers.cookie, undefined);
    assert.equal(req.headers['x-other'], undefined);
  });

  test('200 allows and copies only the allowed upstream headers; the service may remove request headers', async () => {
    const filter = new ExtAuthzFilter(config(), { transport });
    const r = await filter.check(requestContext({ headers: { 'x-verdict': 'allow' } }));
    assert.deepEqual(r, {
      action: 'allow',
      headers: { remove: ['x-verdict'], set: [{ name: 'x-user', value: 'alice' }], append: [] },
      responseHeaders: [],
      failedOpen: false,
    });
    assert.equal(filter.stats.ok, 1);
  });

  test("a denial carries the service's status, body and allowed client headers (plus www-authenticate)", async () => {
    const filter = new ExtAuthzFilter(config(), { transport });
    const r = await filter.check(requestContext({}));
    assert.ok(r.action === 'deny');
    assert.equal(r.status, 401);
    assert.equal(r.body, 'who are you?');
    assert.equal(r.error, false);
    assert.deepEqual(
      r.responseHeaders.map((h) => h.name).sort(),
      ['www-authenticate', 'x-reason'],
      'x-debug is not in allowed_client_headers',
    );
    const odd = await filter.check(requestContext({ headers: { 'x-verdict': 'odd' } }));
    assert.ok(odd.action === 'deny' && odd.status === 204, "only 200 allows (Envoy's rule), a 204 denies");
  });

  test('5xx, timeout, refused connection and unknown cluster are errors: status_on_error, or through with failure_mode_allow', async () => {
    const attempts: { cluster: string; headers: Record<string, string> }[] = [
      { cluster: 'authz', headers: { 'x-verdict': 'crash' } },
      { cluster: 'slow', headers: {} },
      { cluster: 'dead', headers: {} },
      { cluster: 'nowhere', headers: {} },
    ];
    for (const { cluster, headers } of attempts) {
      const closed = new ExtAuthzFilter(config(cluster, { statusOnError: 503 }), { transport });
      const r = await closed.check(requestContext({ headers }));
      assert.ok(r.action === 'deny', cluster);
      assert.deepEqual([r.status, r.body, r.error, r.flag], [503, '', true, 'UAEX'], cluster);
      assert.match(r.reason, new RegExp(`cluster "${cluster}"`));
      const open = new ExtAuthzFilter(config(cluster, { failureModeAllow: true }), { transport });
      const o = await open.check(requestContext({ headers }));
      assert.ok(o.action === 'allow' && o.failedOpen, cluster);
      assert.equal(open.stats.failure_mode_allowed, 1);
    }
  });

  test('filter_enabled_metadata: without the RBAC shadow result of a CUSTOM policy, the service is not asked', async () => {
    const enabled: MetadataMatcher = {
      filter: 'envoy.filters.http.rbac',
      path: ['istio_ext_authz_shadow_effective_policy_id'],
      value: { kind: 'string', match: stringMatch('prefix', 'istio-ext-authz') },
      invert: false,
    };
    const filter = new ExtAuthzFilter(config('authz', { enabledMetadata: enabled }), { transport });
    const before = service.requests.length;
    assert.deepEqual(await filter.check(requestContext({})), { action: 'skip' });
    assert.equal(service.requests.length, before);
    const ctx = requestContext({});
    ctx.metadata.set('envoy.filters.http.rbac', {
      istio_ext_authz_shadow_effective_policy_id: 'istio-ext-authz-ns[foo]-policy[x]-rule[0]',
    });
    assert.equal((await filter.check(ctx)).action, 'deny');
    assert.equal(service.requests.length, before + 1);
    assert.equal(filter.stats.disabled, 1);
  });
});

describe('ext_authz over gRPC (envoy.service.auth.v3.Authorization/Check)', () => {
  let server: grpc.Server;
  let port: number;
  let transport: NodeExtAuthzTransport;
  const seen: CheckRequest[] = [];

  before(async () => {
    server = new grpc.Server();
    server.addService(grpcServiceDefinition(Authorization), {
      check(
        call: grpc.ServerUnaryCall<CheckRequest, CheckResponse>,
        cb: (err: grpc.ServiceError | null, res?: CheckResponse) => void,
      ) {
        seen.push(call.request);
        const headers = call.request.attributes?.request?.http?.headers ?? {};
        const verdict = headers['x-verdict'];
        if (verdict === 'allow') {
          cb(
            null,
            create(CheckResponseSchema, {
              status: { code: 0 },
              httpResponse: {
                case: 'okResponse',
                value: {
                  headers: [
                    { header: { key: 'x-user', value: 'alice' } },
                    { header: { key: 'x-tag', value: 'two' }, append: true },
                    { header: { key: ':path', value: '/admin' } },
                  ],
                  headersToRemove: ['authorization', 'host'],
                  responseHeadersToAdd: [{ header: { key: 'x-checked', value: 'yes' } }],
                },
              },
            }),
          );
        } else if (verdict === 'fail') {
          cb({
            code: grpc.status.INTERNAL,
            details: 'boom',
            name: 'x',
            message: 'boom',
            metadata: new grpc.Metadata(),
          });
        } else if (verdict === 'slow') {
          setTimeout(() => cb(null, create(CheckResponseSchema, { status: { code: 0 } })), 1000);
        } else {
          cb(
            null,
            create(CheckResponseSchema, {
              status: { code: grpc.status.PERMISSION_DENIED },
              httpResponse: {
                case: 'deniedResponse',
                value: {
                  status: verdict === 'plain' ? undefined : { code: 401 },
                  headers: [{ header: { key: 'www-authenticate', value: 'Bearer' } }],
                  body: 'not you',
                },
              },
            }),
          );
        }
      },
    });
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    transport = new NodeExtAuthzTransport({
      resolve: (cluster) => (cluster === 'grpc-authz' ? { host: '127.0.0.1', port } : undefined),
    });
  });

  after(async () => {
    transport.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  const config = (extra: Partial<ExtAuthzConfig> = {}): ExtAuthzConfig => ({
    service: { kind: 'grpc', cluster: 'grpc-authz', authority: 'grpc-authz', timeoutMs: 300 },
    failureModeAllow: false,
    statusOnError: 403,
    ...extra,
  });

  test('the CheckRequest carries source and destination principals and the HTTP request', async () => {
    const filter = new ExtAuthzFilter(config(), { transport });
    await filter.check(
      requestContext({
        method: 'POST',
        path: '/api?q=1',
        authority: 'api.foo',
        peer: spiffe('foo', 'sleep'),
        remoteIp: '10.1.0.7',
        destinationIp: '10.1.0.1',
        destinationPort: 8000,
        headers: { 'x-verdict': 'deny', 'x-multi': ['a', 'b'] },
      }),
      { requestId: 'req-1', scheme: 'https', localPrincipal: spiffe('foo', 'httpbin') },
    );
    const a = seen.at(-1)!.attributes!;
    assert.equal(a.source?.principal, spiffe('foo', 'sleep'));
    assert.equal(a.destination?.principal, spiffe('foo', 'httpbin'));
    assert.deepEqual(
      a.source?.address?.address.case === 'socketAddress' && a.source.address.address.value.address,
      '10.1.0.7',
    );
    const http = a.request!.http!;
    assert.deepEqual(
      { id: http.id, method: http.method, path: http.path, host: http.host, scheme: http.scheme },
      { id: 'req-1', method: 'POST', path: '/api?q=1', host: 'api.foo', scheme: 'https' },
    );
    assert.equal(http.headers['x-multi'], 'a,b');
    assert.equal(http.headers[':authority'], 'api.foo');
  });

  test('OK: headers set, appended and removed as told, but never pseudo-headers or host', async () => {
    const filter = new ExtAuthzFilter(config(), { transport });
    const r = await filter.check(requestContext({ headers: { 'x-verdict': 'allow' } }));
    assert.deepEqual(r, {
      action: 'allow',
      headers: {
        remove: ['authorization'],
        set: [{ name: 'x-user', value: 'alice' }],
        append: [{ name: 'x-tag', value: 'two' }],
      },
      responseHeaders: [{ name: 'x-checked', value: 'yes' }],
      failedOpen: false,
    });
  });

  test('a denial uses denied_response (403 when it names no status)', async () => {
    const filter = new ExtAuthzFilter(config(), { transport });
    const r = await filter.check(requestContext({ headers: { 'x-verdict': 'deny' } }));
    assert.ok(r.action === 'deny');
    assert.deepEqual(
      [r.status, r.body, r.responseHeaders],
      [401, 'not you', [{ name: 'www-authenticate', value: 'Bearer' }]],
    );
    const plain = await filter.check(requestContext({ headers: { 'x-verdict': 'plain' } }));
    assert.ok(plain.action === 'deny' && plain.status === 403);
  });

  test('a failed call or a missed deadline is an error: status_on_error, or through with failure_mode_allow', async () => {
    for (const verdict of ['fail', 'slow']) {
      const closed = new ExtAuthzFilter(config({ statusOnError: 500 }), { transport });
      const r = await closed.check(requestContext({ headers: { 'x-verdict': verdict } }));
      assert.ok(r.action === 'deny' && r.error && r.status === 500, verdict);
      const open = new ExtAuthzFilter(config({ failureModeAllow: true }), { transport });
      const o = await open.check(requestContext({ headers: { 'x-verdict': verdict } }));
      assert.ok(o.action === 'allow' && o.failedOpen, verdict);
    }
  });
});
