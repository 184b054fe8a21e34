// Istio's authorization tasks, from the YAML users apply, through the control plane's translation, to decisions.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FAIL_CLOSED_JWKS } from '../../../src/controlplane/translate/security.js';
import { NetworkRbacChain } from '../../../src/sidecar/security/network-chain.js';
import { connectionContext, decide, issuer, spiffe, statusOf } from './harness.js';
import { translateSecurity, type WorkloadSpec } from './istio.js';

const BOOKINFO: WorkloadSpec[] = [
  { app: 'productpage', serviceAccount: 'bookinfo-productpage', ports: [{ name: 'http', port: 9080 }] },
  { app: 'details', serviceAccount: 'bookinfo-details', ports: [{ name: 'http', port: 9080 }] },
  { app: 'reviews', serviceAccount: 'bookinfo-reviews', ports: [{ name: 'http', port: 9080 }] },
  { app: 'ratings', serviceAccount: 'bookinfo-ratings', ports: [{ name: 'http', port: 9080 }] },
];

const DENY_ALL = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-all, namespace: default }
spec: {}
`;
const PRODUCTPAGE_VIEWER = `
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: productpage-viewer, namespace: default }
spec:
  selector: { matchLabels: { app: productpage } }
  action: ALLOW
  rules: [{ to: [{ operation: { methods: [GET] } }] }]
`;
const viewer = (app: string, from: string) => `
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ${app}-viewer, namespace: default }
spec:
  selector: { matchLabels: { app: ${app} } }
  action: ALLOW
  rules:
    - from: [{ source: { principals: ["cluster.local/ns/default/sa/${from}"] } }]
      to: [{ operation: { methods: [GET] } }]
`;

/** The status each Bookinfo call of a page load gets: the browser's, then productpage's, then reviews'. */
async function pageLoad(yaml: string) {
  const chains = translateSecurity(yaml, BOOKINFO);
  const http = (app: string) => chains(app, '9080-mtls-http').http;
  const ingress = spiffe('istio-system', 'istio-ingressgateway-service-account');
  const call = async (app: string, from: string, method = 'GET') =>
    statusOf((await decide(http(app), { method, path: `/${app}`, peer: from })).outcome);
  return {
    productpage: await call('productpage', ingress),
    productpagePost: await call('productpage', ingress, 'POST'),
    details: await call('details', spiffe('default', 'bookinfo-productpage')),
    reviews: await call('reviews', spiffe('default', 'bookinfo-productpage')),
    ratings: await call('ratings', spiffe('default', 'bookinfo-reviews')),
    detailsFromRatings: await call('details', spiffe('default', 'bookinfo-ratings')),
    ratingsFromProductpage: await call('ratings', spiffe('default', 'bookinfo-productpage')),
  };
}

describe('authz-http on Bookinfo (tasks/security/authorization/authz-http)', () => {
  test('step 1, deny-all: every call gets 403 "RBAC: access denied"', async () => {
    const chains = translateSecurity(DENY_ALL, BOOKINFO);
    const { outcome } = await decide(chains('productpage', '9080-mtls-http').http, {
      peer: spiffe('default', 'x'),
    });
    assert.deepEqual(outcome.action === 'reply' && { status: outcome.status, body: outcome.body }, {
      status: 403,
      body: 'RBAC: access denied',
    });
    assert.deepEqual(await pageLoad(DENY_ALL), {
      productpage: 403,
      productpagePost: 403,
      details: 403,
      reviews: 403,
      ratings: 403,
      detailsFromRatings: 403,
      ratingsFromProductpage: 403,
    });
  });

  test('step 2, productpage-viewer: the page loads, details and reviews still fail', async () => {
    assert.deepEqual(await pageLoad(DENY_ALL + PRODUCTPAGE_VIEWER), {
      productpage: 200,
      productpagePost: 403,
      details: 403,
      reviews: 403,
      ratings: 403,
      detailsFromRatings: 403,
      ratingsFromProductpage: 403,
    });
  });

  test('step 3, details-viewer and reviews-viewer: only productpage gets in; ratings still fails', async () => {
    assert.deepEqual(
      await pageLoad(
        DENY_ALL +
          PRODUCTPAGE_VIEWER +
          viewer('details', 'bookinfo-productpage') +
          viewer('reviews', 'bookinfo-productpage'),
      ),
      {
        productpage: 200,
        productpagePost: 403,
        details: 200,
        reviews: 200,
        ratings: 403,
        detailsFromRatings: 403,
        ratingsFromProductpage: 403,
      },
    );
  });

  test('step 4, ratings-viewer: the stars appear; nobody else reaches ratings', async () => {
    const yaml =
      DENY_ALL +
      PRODUCTPAGE_VIEWER +
      viewer('details', 'bookinfo-productpage') +
      viewer('reviews', 'bookinfo-productpage') +
      viewer('ratings', 'bookinfo-reviews');
    assert.deepEqual(await pageLoad(yaml), {
      productpage: 200,
      productpagePost: 403,
      details: 200,
      reviews: 200,
      ratings: 200,
      detailsFromRatings: 403,
      ratingsFromProductpage: 403,
    });
    // A principal rule requires mTLS: the same call over plaintext is refused, on either inbound chain.
    const chains = translateSecurity(yaml, BOOKINFO);
    for (const chain of ['9080-mtls-http', '9080-plaintext-http']) {
      const { outcome } = await decide(chains('ratings', chain).http, {});
      assert.equal(statusOf(outcome), 403, chain);
    }
  });
});

const HTTPBIN: WorkloadSpec[] = [
  { app: 'httpbin', namespace: 'foo', serviceAccount: 'httpbin', ports: [{ name: 'http', port: 8000 }] },
  { app: 'sleep', namespace: 'foo', serviceAccount: 'sleep', ports: [{ name: 'http', port: 80 }] },
];
const DENY_GET = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-method-get, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: DENY
  rules:
    - to: [{ operation: { methods: [GET] } }]
`;
const DENY_GET_UNLESS_ADMIN = `${DENY_GET}      when: [{ key: "request.headers[x-token]", notValues: [admin] }]
`;
const ALLOW_PATH_IP = `
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-path-ip, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: ALLOW
  rules: [{ to: [{ operation: { paths: ["/ip"] } }] }]
`;

describe('explicit deny on httpbin (tasks/security/authorization/authz-deny)', () => {
  const sleep = spiffe('foo', 'sleep');
  const status = async (yaml: string, init: Parameters<typeof decide>[1]) => {
    const filters = translateSecurity(yaml, HTTPBIN)('httpbin', '8000-mtls-http').http;
    return statusOf((await decide(filters, { peer: sleep, ...init })).outcome);
  };

  test('deny-method-get: GET /get 403, POST /post 200', async () => {
    assert.equal(await status(DENY_GET, { method: 'GET', path: '/get' }), 403);
    assert.equal(await status(DENY_GET, { method: 'POST', path: '/post' }), 200);
  });

  test('with notValues [admin] on x-token: admin 200, guest 403, and no second value sneaks past', async () => {
    assert.equal(await status(DENY_GET_UNLESS_ADMIN, { path: '/get', headers: { 'x-token': 'admin' } }), 200);
    assert.equal(await status(DENY_GET_UNLESS_ADMIN, { path: '/get', headers: { 'x-token': 'guest' } }), 403);
    const bypasses = [
      ['admin', 'guest'],
      ['guest', 'admin'],
      ['admin', ''],
      ['admin,guest'],
      ['ADMIN'],
      [' admin'],
    ];
    for (const values of bypasses) {
      assert.equal(
        await status(DENY_GET_UNLESS_ADMIN, { path: '/get', headers: { 'x-token': values } }),
        403,
        JSON.stringify(values),
      );
    }
    assert.equal(await status(DENY_GET_UNLESS_ADMIN, { path: '/get' }), 403, 'no x-token at all');
    assert.equal(
      await status(DENY_GET_UNLESS_ADMIN, { path: '/get', headers: { 'X-Token': 'admin' } }),
      200,
      'header names are case-insensitive',
    );
  });

  test('with allow-path-ip: DENY wins over ALLOW, and ALLOW now refuses everything else', async () => {
    const yaml = DENY_GET_UNLESS_ADMIN + ALLOW_PATH_IP;
    assert.equal(await status(yaml, { path: '/ip', headers: { 'x-token': 'guest' } }), 403);
    assert.equal(await status(yaml, { path: '/ip', headers: { 'x-token': 'admin' } }), 200);
    assert.equal(await status(yaml, { path: '/get', headers: { 'x-token': 'admin' } }), 403);
    assert.equal(
      await status(yaml, { path: '/ip?x=/get', headers: { 'x-token': 'admin' } }),
      200,
      'the query is not the path',
    );
  });
});

describe('hosts match case-insensitively (CVE-2021-39155)', () => {
  const policy = (action: string) => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: by-host, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: ${action}
  rules: [{ to: [{ operation: { hosts: ["httpbin.foo"] } }] }]
`;
  const spellings = ['httpbin.foo', 'Httpbin.Foo', 'HTTPBIN.FOO', 'httpbin.FOO:8000', 'HttpBin.foo:443'];

  test('DENY hosts refuses every spelling of the host, with or without a port', async () => {
    const filters = translateSecurity(policy('DENY'), HTTPBIN)('httpbin', '8000-mtls-http').http;
    for (const authority of spellings) {
      assert.equal(statusOf((await decide(filters, { authority })).outcome), 403, authority);
    }
    assert.equal(statusOf((await decide(filters, { authority: 'httpbin.bar' })).outcome), 200);
    assert.equal(statusOf((await decide(filters, { authority: 'httpbin.foo.evil' })).outcome), 200);
  });

  test('ALLOW hosts accepts every spelling of the host and nothing else', async () => {
    const filters = translateSecurity(policy('ALLOW'), HTTPBIN)('httpbin', '8000-mtls-http').http;
    for (const authority of spellings) {
      assert.equal(statusOf((await decide(filters, { authority })).outcome), 200, authority);
    }
    for (const authority of ['httpbin.foo.evil', 'xhttpbin.foo', 'httpbin.bar']) {
      assert.equal(statusOf((await decide(filters, { authority })).outcome), 403, authority);
    }
  });
});

describe('DENY with HTTP-only fields on a TCP port', () => {
  const workloads: WorkloadSpec[] = [
    {
      app: 'reviews',
      serviceAccount: 'bookinfo-reviews',
      ports: [
        { name: 'http', port: 9080 },
        { name: 'tcp-admin', port: 9100 },
      ],
    },
  ];
  const allowPort = `
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-tcp, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  rules: [{ to: [{ operation: { ports: ["9100"] } }] }]
`;

  test('denies every connection to the TCP port, mTLS or plaintext, whoever the peer', () => {
    const chains = translateSecurity(
      DENY_GET.replaceAll('httpbin', 'reviews').replace('namespace: foo', 'namespace: default'),
      workloads,
    );
    for (const chain of ['9100-mtls-tcp', '9100-plaintext-tcp']) {
      const net = new NetworkRbacChain(chains('reviews', chain).network, chain);
      for (const peer of [spiffe('default', 'bookinfo-productpage'), undefined]) {
        assert.equal(
          net.checkConnection(connectionContext({ destinationPort: 9100, peer })).allowed,
          false,
          `${chain} ${peer}`,
        );
      }
    }
  });

  test('an ALLOW with HTTP-only fields never matches on TCP: connections fall to the default deny', () => {
    const allowGet = DENY_GET.replaceAll('httpbin', 'reviews')
      .replace('namespace: foo', 'namespace: default')
      .replace('action: DENY', 'action: ALLOW');
    const chains = translateSecurity(allowGet + allowPort, workloads);
    const net = new NetworkRbacChain(chains('reviews', '9100-mtls-tcp').network);
    assert.equal(
      net.checkConnection(connectionContext({ destinationPort: 9100, peer: spiffe('default', 'x') })).allowed,
      true,
      'the port rule allows',
    );
    const onlyGet = new NetworkRbacChain(
      translateSecurity(allowGet, workloads)('reviews', '9100-mtls-tcp').network,
    );
    assert.equal(onlyGet.checkConnection(connectionContext({ destinationPort: 9100 })).allowed, false);
  });

  test('a DENY scoped by ports leaves other TCP ports alone (Istio drops only the HTTP-only fields)', () => {
    const scoped = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-get-9080, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  action: DENY
  rules: [{ to: [{ operation: { methods: [GET], ports: ["9080"] } }] }]
`;
    const net = new NetworkRbacChain(
      translateSecurity(scoped, workloads)('reviews', '9100-mtls-tcp').network,
    );
    assert.equal(net.checkConnection(connectionContext({ destinationPort: 9100 })).allowed, true);
    assert.equal(
      net.checkConnection(connectionContext({ destinationPort: 9080 })).allowed,
      false,
      'but 9080 is denied',
    );
  });
});

describe('JWT with authorization (tasks/security/authorization/authz-jwt)', async () => {
  const ISS = 'testing@secure.istio.io';
  const JWKS_URI =
    'https://raw.githubusercontent.com/istio/istio/release-1.24/security/tools/jwt/samples/jwks.json';
  const key = await issuer(ISS);
  // The samples' demo.jwt and groups-scope.jwt, re-issued with a key of our own.
  const demo = await key.sign({ sub: ISS, foo: 'bar' }, { expiresIn: '1h' });
  const groups = await key.sign(
    { sub: ISS, groups: ['group1', 'group2'], scope: ['scope1', 'scope2'] },
    { expiresIn: '1h' },
  );
  const REQUEST_AUTHN = `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt-example, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  jwtRules: [{ issuer: "${ISS}", jwksUri: "${JWKS_URI}" }]
`;
  const REQUIRE_JWT = `
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: require-jwt, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: ALLOW
  rules:
    - from: [{ source: { requestPrincipals: ["${ISS}/${ISS}"] } }]
`;
  const WITH_GROUP = `${REQUIRE_JWT}      when: [{ key: "request.auth.claims[groups]", values: [group1] }]
`;
  const jwks = new Map([[JWKS_URI, key.jwks]]);
  const status = async (yaml: string, token?: string, fetched: ReadonlyMap<string, string> = jwks) => {
    const filters = translateSecurity(yaml, HTTPBIN, { jwks: fetched })('httpbin', '8000-mtls-http').http;
    const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
    return statusOf(
      (await decide(filters, { path: '/headers', headers, peer: spiffe('foo', 'sleep') })).outcome,
    );
  };

  test('step 1, RequestAuthentication alone: an invalid token 401, no token 200', async () => {
    assert.equal(await status(REQUEST_AUTHN, 'invalidToken'), 401);
    assert.equal(await status(REQUEST_AUTHN), 200);
    assert.equal(await status(REQUEST_AUTHN, demo), 200);
  });

  test('step 2, require-jwt: a valid token 200, no token 403', async () => {
    assert.equal(await status(REQUEST_AUTHN + REQUIRE_JWT, demo), 200);
    assert.equal(await status(REQUEST_AUTHN + REQUIRE_JWT), 403);
  });

  test('step 3, claims[groups] contains group1: the groups token 200, demo.jwt 403', async () => {
    assert.equal(await status(REQUEST_AUTHN + WITH_GROUP, groups), 200);
    assert.equal(await status(REQUEST_AUTHN + WITH_GROUP, demo), 403);
  });

  test('a jwksUri the control plane never fetched fails closed: tokens 401, no token still anonymous', async () => {
    const never = new Map<string, string>();
    const filters = translateSecurity(REQUEST_AUTHN, HTTPBIN, { jwks: never })(
      'httpbin',
      '8000-mtls-http',
    ).http;
    const jwt = filters.find((f) => f.kind === 'jwt');
    assert.ok(jwt?.kind === 'jwt' && jwt.config.providers[0]!.jwks === FAIL_CLOSED_JWKS);
    assert.equal(await status(REQUEST_AUTHN + REQUIRE_JWT, demo, never), 401);
    assert.equal(await status(REQUEST_AUTHN, undefined, never), 200);
    assert.equal(await status(REQUEST_AUTHN + REQUIRE_JWT, undefined, never), 403);
  });
});
