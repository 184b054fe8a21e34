// RequestAuthentication in the pipeline: tokens verified, request.auth.* for RBAC, 401s, token and payload headers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { securityPipelineOptions } from '../../../src/sidecar/http/pipeline/security/index.js';
import { type Issuer, issuer } from '../../security/filters/harness.js';
import { TestClusters } from './clusters.js';
import { type RunningPipeline, request, startPipeline, type Upstream } from './harness.js';
import {
  ANY,
  claimHas,
  echoOf,
  INBOUND_CLUSTER,
  inboundHcm,
  jwtAuthnJson,
  pathPrefix,
  policyJson,
  rbacJson,
  requestPrincipalIs,
  startEcho,
} from './security-fixtures.js';

const TESTING = 'testing@secure.istio.io';
const INLINE = 'inline@example.com';
const STATS = 'http.inbound_0.0.0.0_9080';
const now = () => Math.floor(Date.now() / 1000);

let app: Upstream;
let clusters: TestClusters;
let rs256: Issuer;
let es256: Issuer;
let stranger: Issuer;
let p: RunningPipeline;

/**
 * ratings' listener shape from the authorization golden, with keys this test holds: an RS256 issuer read from
 * `x-jwt: Bearer …` or `?access_token=` whose payload goes to `x-jwt-payload`, and an ES256 issuer with an
 * audience whose token is forwarded. One ALLOW policy per path: /public for anyone, /ratings for any request
 * principal (requestPrincipals: ["*"]), /groups for tokens with groups: group1.
 */
before(async () => {
  app = await startEcho();
  clusters = new TestClusters();
  clusters.add({ name: INBOUND_CLUSTER, endpoints: [{ port: app.port }] });
  rs256 = await issuer(TESTING, 'RS256');
  es256 = await issuer(INLINE, 'ES256');
  stranger = await issuer(TESTING, 'RS256', 'RS256-1');
  const config = inboundHcm('authorization/ratings', {
    httpFilters: [
      jwtAuthnJson([
        {
          issuer: TESTING,
          jwks: rs256.jwks,
          fromHeaders: [{ name: 'x-jwt', valuePrefix: 'Bearer ' }],
          fromParams: ['access_token'],
          forwardPayloadHeader: 'x-jwt-payload',
        },
        { issuer: INLINE, jwks: es256.jwks, audiences: ['bookinfo'], forward: true },
      ]),
      rbacJson({
        policies: {
          'ns[default]-policy[require-jwt]-rule[0]': policyJson([pathPrefix('/public')], [ANY]),
          'ns[default]-policy[require-jwt]-rule[1]': policyJson(
            [pathPrefix('/ratings')],
            [requestPrincipalIs({ regex: '.+' })],
          ),
          'ns[default]-policy[require-jwt]-rule[2]': policyJson(
            [pathPrefix('/groups')],
            [claimHas('groups', 'group1')],
          ),
        },
      }),
    ],
  });
  p = await startPipeline({
    config,
    clusters,
    direction: 'inbound',
    options: securityPipelineOptions(),
  });
});

after(async () => {
  await p.close();
  await app.close();
});

const xJwt = (token: string) => ({ host: 'ratings:9080', 'x-jwt': `Bearer ${token}` });

describe('valid tokens', () => {
  test('RS256 in x-jwt: allowed as a request principal; token removed, payload forwarded in x-jwt-payload', async () => {
    const token = await rs256.sign({ sub: 'jason', exp: now() + 600 });
    const r = await request(p.port, { path: '/ratings/0', headers: xJwt(token) });
    assert.equal(r.status, 200);
    const seen = echoOf(r).headers;
    assert.equal(seen['x-jwt'], undefined, 'forwardOriginalToken is false: the app never sees the token');
    assert.equal(seen['x-jwt-payload'], token.split('.')[1]);
    const payload = JSON.parse(Buffer.from(String(seen['x-jwt-payload']), 'base64url').toString());
    assert.equal(payload.sub, 'jason');
  });

  test('RS256 in ?access_token= is found too', async () => {
    const token = await rs256.sign({ sub: 'jason', exp: now() + 600 });
    const r = await request(p.port, {
      path: `/ratings/0?access_token=${token}`,
      headers: { host: 'ratings' },
    });
    assert.equal(r.status, 200);
  });

  test('ES256 with the right audience in Authorization: allowed, and the token is forwarded', async () => {
    const token = await es256.sign({ sub: 'ann', aud: 'bookinfo', exp: now() + 600 });
    const r = await request(p.port, {
      path: '/ratings/0',
      headers: { host: 'ratings', authorization: `Bearer ${token}` },
    });
    assert.equal(r.status, 200);
    assert.equal(echoOf(r).headers.authorization, `Bearer ${token}`);
  });

  test('a claim rule (request.auth.claims[groups]) lets group1 in and keeps group2 out', async () => {
    const group1 = await rs256.sign({ sub: 'jason', groups: ['group1', 'group2'] });
    const group2 = await rs256.sign({ sub: 'jason', groups: ['group2'] });
    assert.equal((await request(p.port, { path: '/groups/x', headers: xJwt(group1) })).status, 200);
    const refused = await request(p.port, { path: '/groups/x', headers: xJwt(group2) });
    assert.equal(refused.status, 403);
    assert.equal(refused.body, 'RBAC: access denied');
  });
});

describe('bad tokens get 401 from jwt_authn, before any authorization', () => {
  const realm = 'Bearer realm="http://ratings:9080/public/x", error="invalid_token"';

  test('a token signed by a key the JWKS does not hold: 401 Jwt verification fails, with www-authenticate', async () => {
    const denied = p.telemetry.stat(`${STATS}.jwt_authn.denied`);
    const forged = await stranger.sign({ sub: 'mallory', exp: now() + 600 });
    const r = await request(p.port, { path: '/public/x', headers: xJwt(forged) });
    assert.equal(r.status, 401);
    assert.equal(r.body, 'Jwt verification fails');
    assert.equal(r.headers['www-authenticate'], realm);
    assert.equal(p.telemetry.stat(`${STATS}.jwt_authn.denied`), denied + 1);
  });

  test('an expired token: 401 Jwt is expired, even on a path anyone may use', async () => {
    const expired = await rs256.sign({ sub: 'jason', exp: now() - 3600 });
    const r = await request(p.port, { path: '/public/x', headers: xJwt(expired) });
    assert.equal(r.status, 401);
    assert.equal(r.body, 'Jwt is expired');
    assert.equal(r.headers['www-authenticate'], realm);
  });

  test('a wrong audience: 403 Audiences in Jwt are not allowed', async () => {
    const token = await es256.sign({ sub: 'ann', aud: 'other', exp: now() + 600 });
    const r = await request(p.port, {
      path: '/public/x',
      headers: { host: 'ratings:9080', authorization: `Bearer ${token}` },
    });
    assert.equal(r.status, 403);
    assert.equal(r.body, 'Audiences in Jwt are not allowed');
  });

  test('a valid token cannot escort an invalid one', async () => {
    const good = await rs256.sign({ sub: 'jason', exp: now() + 600 });
    const bad = await stranger.sign({ sub: 'mallory', exp: now() + 600 });
    const r = await request(p.port, {
      path: '/ratings/0',
      headers: { host: 'ratings', 'x-jwt': `Bearer ${good}`, authorization: `Bearer ${bad}` },
    });
    assert.equal(r.status, 401);
  });
});

describe('no token', () => {
  test('is anonymous: allowed where anyone may go, 403 where a request principal is required', async () => {
    const open = await request(p.port, { path: '/public/x', headers: { host: 'ratings' } });
    assert.equal(open.status, 200);
    const closed = await request(p.port, { path: '/ratings/0', headers: { host: 'ratings' } });
    assert.equal(closed.status, 403);
    assert.equal(closed.body, 'RBAC: access denied');
  });

  test("a client's own x-jwt-payload never reaches the app", async () => {
    const forged = Buffer.from(JSON.stringify({ iss: TESTING, sub: 'admin' })).toString('base64url');
    const r = await request(p.port, {
      path: '/public/x',
      headers: { host: 'ratings', 'x-jwt-payload': forged },
    });
    assert.equal(r.status, 200);
    assert.equal(echoOf(r).headers['x-jwt-payload'], undefined);
  });
});
