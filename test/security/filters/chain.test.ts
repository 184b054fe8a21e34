// The security chain passes each filter the request as the filters before it left it, as Envoy does.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compileHeaderMatcher } from '../../../src/sidecar/config/match/header-matcher.js';
import type { HttpFilterConfig } from '../../../src/sidecar/config/model.js';
import { stringMatch } from '../../../src/sidecar/config/string-match.js';
import { NodeExtAuthzTransport } from '../../../src/sidecar/security/ext-authz/node-transport.js';
import { decide, httpServer, issuer, type TestServer } from './harness.js';

let authz: TestServer;
let transport: NodeExtAuthzTransport;

before(async () => {
  authz = await httpServer((_req, res) => {
    res.setHeader('x-authz-user', 'from-authz');
    res.end();
  });
  transport = new NodeExtAuthzTransport({ resolve: () => ({ host: '127.0.0.1', port: authz.port }) });
});

after(async () => {
  transport.close();
  await authz.close();
});

describe('HttpSecurityChain', async () => {
  const key = await issuer('issuer@example.com');
  const token = await key.sign({ sub: 'alice', role: 'admin' });
  const filters: HttpFilterConfig[] = [
    {
      name: 'envoy.filters.http.jwt_authn',
      kind: 'jwt',
      config: {
        allowMissing: true,
        providers: [
          {
            name: 'p',
            issuer: key.iss,
            audiences: [],
            jwks: key.jwks,
            forward: false,
            fromHeaders: [],
            fromParams: [],
            fromCookies: [],
            forwardPayloadHeader: '',
            payloadInMetadata: '',
            claimToHeaders: [{ headerName: 'x-role', claimName: 'role' }],
          },
        ],
      },
    },
    {
      name: 'envoy.filters.http.ext_authz',
      kind: 'extAuthz',
      config: {
        service: {
          kind: 'http',
          cluster: 'authz',
          uri: 'http://authz',
          pathPrefix: '',
          timeoutMs: 1000,
          allowedHeaders: [stringMatch('exact', 'x-role')],
          allowedUpstreamHeaders: [stringMatch('exact', 'x-authz-user')],
          allowedClientHeaders: [],
        },
        failureModeAllow: false,
        statusOnError: 403,
      },
    },
    {
      name: 'envoy.filters.http.rbac',
      kind: 'rbac',
      shadowRulesStatPrefix: '',
      rules: {
        action: 'ALLOW',
        policies: [
          {
            name: 'admins',
            permissions: [
              {
                kind: 'header',
                matcher: compileHeaderMatcher({
                  name: 'x-role',
                  kind: 'string',
                  match: stringMatch('exact', 'admin'),
                  invert: false,
                  treatMissingAsEmpty: false,
                }),
              },
            ],
            principals: [{ kind: 'any' }],
          },
        ],
      },
    },
  ];

  test('a stripped token is gone for ext_authz; claim headers are there for ext_authz and RBAC', async () => {
    const before = authz.requests.length;
    const { outcome } = await decide(
      filters,
      { headers: { authorization: `Bearer ${token}`, 'x-role': 'forged' } },
      transport,
    );
    const check = authz.requests[before]!;
    assert.equal(check.headers.authorization, undefined, 'jwt_authn removed the token before ext_authz ran');
    assert.equal(check.headers['x-role'], 'admin', "the claim, not the client's header");
    assert.ok(outcome.action === 'continue');
    assert.equal(outcome.requestPrincipal, 'issuer@example.com/alice');
    assert.deepEqual(outcome.headers, {
      remove: ['x-role', 'authorization'],
      set: [
        { name: 'x-role', value: 'admin' },
        { name: 'x-authz-user', value: 'from-authz' },
      ],
      append: [],
    });
  });

  test("a client's own claim header does not satisfy RBAC once jwt_authn owns that header", async () => {
    const { outcome } = await decide(filters, { headers: { 'x-role': 'admin' } }, transport);
    assert.equal(outcome.action === 'reply' && outcome.details, 'rbac_access_denied_matched_policy[none]');
  });
});
