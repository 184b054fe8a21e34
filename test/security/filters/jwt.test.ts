// JWT authentication: Istio's request.auth.* output, token locations, and forgeries that must all be refused.

import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { describe, test } from 'node:test';
import { base64url, SignJWT, UnsecuredJWT } from 'jose';
import { ManualClock } from '../../../src/shared/clock.js';
import type { JwtConfig, JwtProviderConfig } from '../../../src/sidecar/config/model.js';
import { JwtAuthenticator, type JwtAuthnResult } from '../../../src/sidecar/security/jwt/authenticator.js';
import { type Issuer, issuer, requestContext } from './harness.js';

const ISS = 'testing@secure.istio.io';
const clock = new ManualClock(1_750_000_000_000);
const NOW = Math.floor(clock.now() / 1000);

function provider(iss: Issuer, extra: Partial<JwtProviderConfig> = {}): JwtProviderConfig {
  return {
    name: `origins-0-${iss.iss}`,
    issuer: iss.iss,
    audiences: [],
    jwks: iss.jwks,
    forward: false,
    fromHeaders: [],
    fromParams: [],
    fromCookies: [],
    forwardPayloadHeader: '',
    payloadInMetadata: iss.iss,
    claimToHeaders: [],
    ...extra,
  };
}

function authn(providers: JwtProviderConfig[], allowMissing = true) {
  const config: JwtConfig = { providers, allowMissing };
  return new JwtAuthenticator(config, { clock });
}

async function run(a: JwtAuthenticator, init: Parameters<typeof requestContext>[0]) {
  const ctx = requestContext({ authority: 'httpbin.foo:8000', path: '/headers', ...init });
  const result = await a.authenticate(ctx, { scheme: 'http' });
  return { result, ctx };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const refusal = (r: JwtAuthnResult) => (r.action === 'deny' ? `${r.status} ${r.body}` : 'accepted');

describe("request.auth.* for Istio's sample tokens", async () => {
  const key = await issuer(ISS);
  const a = authn([provider(key)]);

  test('demo.jwt: principal <iss>/<sub>, claims as lists of strings', async () => {
    const demo = await key.sign({ sub: ISS, foo: 'bar', exp: NOW + 3600, iat: NOW });
    const { result, ctx } = await run(a, { headers: bearer(demo) });
    assert.equal(result.action, 'continue');
    assert.equal(result.action === 'continue' && result.principal, `${ISS}/${ISS}`);
    assert.deepEqual(ctx.metadata.get('istio_authn'), {
      'request.auth.principal': `${ISS}/${ISS}`,
      'request.auth.claims': {
        iss: [ISS],
        sub: [ISS],
        foo: ['bar'],
        exp: [String(NOW + 3600)],
        iat: [String(NOW)],
      },
    });
  });

  test('groups-scope.jwt: list claims stay lists; aud and azp become audiences and presenter', async () => {
    const token = await key.sign({
      sub: ISS,
      groups: ['group1', 'group2'],
      scope: ['scope1', 'scope2'],
      aud: ['bookinfo', 'ratings'],
      azp: 'frontend',
      nested: { team: 'a', roles: ['x'] },
    });
    const { ctx } = await run(a, { headers: bearer(token) });
    const m = ctx.metadata.get('istio_authn') as Record<string, Record<string, unknown>>;
    assert.deepEqual(m['request.auth.audiences'], ['bookinfo', 'ratings']);
    assert.equal(m['request.auth.presenter'], 'frontend');
    assert.deepEqual(m['request.auth.claims']!.groups, ['group1', 'group2']);
    assert.deepEqual(m['request.auth.claims']!.scope, ['scope1', 'scope2']);
    assert.deepEqual(m['request.auth.claims']!.nested, { team: ['a'], roles: ['x'] });
    const raw = ctx.metadata.get('envoy.filters.http.jwt_authn') as Record<string, Record<string, unknown>>;
    assert.deepEqual(raw[ISS]!.groups, ['group1', 'group2'], 'payload_in_metadata carries the raw payload');
  });

  test('EC (ES256) and OKP (EdDSA) keys verify too', async () => {
    for (const alg of ['ES256', 'EdDSA'] as const) {
      const k = await issuer(`${alg}@example.com`, alg);
      const token = await k.sign({ sub: 'me' });
      const { result } = await run(authn([provider(k)]), { headers: bearer(token) });
      assert.equal(refusal(result), 'accepted', alg);
    }
  });
});

describe('forged, stale and misdirected tokens are refused, every one', async () => {
  const key = await issuer(ISS);
  const other = await issuer(ISS, 'RS256', key.kid);
  const a = authn([provider(key, { audiences: ['bookinfo'] })]);
  const good = (claims: Record<string, unknown> = {}) =>
    key.sign({ sub: 'alice', aud: 'bookinfo', ...claims });
  const publicPem = createPublicKey({ key: key.publicJwk as never, format: 'jwk' }).export({
    type: 'spki',
    format: 'pem',
  });

  const cases: [string, () => Promise<string>, string][] = [
    [
      'alg none, empty signature',
      async () => new UnsecuredJWT({ iss: ISS, sub: 'alice', aud: 'bookinfo' }).encode(),
      '401 Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections',
    ],
    [
      'alg none with a signature',
      async () => {
        const [, payload] = (await good()).split('.');
        return `${base64url.encode(JSON.stringify({ alg: 'none', kid: key.kid }))}.${payload}.c2ln`;
      },
      '401 Jwt header [alg] is not supported',
    ],
    [
      'HS256 signed with the RSA public key (PEM) as the secret',
      () =>
        new SignJWT({ iss: ISS, sub: 'alice', aud: 'bookinfo' })
          .setProtectedHeader({ alg: 'HS256', kid: key.kid })
          .sign(new TextEncoder().encode(String(publicPem))),
      "401 Jwks doesn't have key to match kid or alg from Jwt",
    ],
    ['expired beyond the 60 s skew', () => good({ exp: NOW - 61 }), '401 Jwt is expired'],
    ['not yet valid beyond the 60 s skew', () => good({ nbf: NOW + 61 }), '401 Jwt not yet valid'],
    [
      'wrong issuer',
      () => key.sign({ iss: 'evil@example.com', sub: 'alice', aud: 'bookinfo' }),
      '401 Jwt issuer is not configured',
    ],
    [
      'no issuer',
      () =>
        new SignJWT({ sub: 'alice', aud: 'bookinfo' })
          .setProtectedHeader({ alg: 'RS256', kid: key.kid })
          .sign(key.privateKey),
      '401 Jwt issuer is not configured',
    ],
    ['wrong audience', () => good({ aud: 'other' }), '403 Audiences in Jwt are not allowed'],
    ['no audience', () => key.sign({ sub: 'alice' }), '403 Audiences in Jwt are not allowed'],
    [
      'signed by another key with the same kid',
      () => other.sign({ sub: 'alice', aud: 'bookinfo' }),
      '401 Jwt verification fails',
    ],
    [
      'tampered payload (sub: admin)',
      async () => {
        const [h, , s] = (await good()).split('.');
        return `${h}.${base64url.encode(JSON.stringify({ iss: ISS, sub: 'admin', aud: 'bookinfo' }))}.${s}`;
      },
      '401 Jwt verification fails',
    ],
    [
      'unknown kid',
      () =>
        new SignJWT({ iss: ISS, sub: 'alice', aud: 'bookinfo' })
          .setProtectedHeader({ alg: 'RS256', kid: 'nope' })
          .sign(key.privateKey),
      "401 Jwks doesn't have key to match kid or alg from Jwt",
    ],
    [
      'garbage',
      async () => 'invalidToken',
      '401 Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections',
    ],
    [
      'bad base64 in the header',
      async () => `!!.${(await good()).split('.').slice(1).join('.')}`,
      '401 Jwt header is an invalid Base64url encoded',
    ],
    ['a string exp', () => good({ exp: 'tomorrow' }), '401 Jwt payload [exp] field is not an integer'],
  ];

  for (const [name, make, expected] of cases) {
    test(name, async () => {
      const { result, ctx } = await run(a, { headers: bearer(await make()) });
      assert.equal(refusal(result), expected);
      assert.equal(ctx.metadata.has('istio_authn'), false, 'a refused token leaves no identity behind');
      assert.ok(result.action === 'deny');
      assert.deepEqual(result.responseHeaders, [
        {
          name: 'www-authenticate',
          value: 'Bearer realm="http://httpbin.foo:8000/headers", error="invalid_token"',
        },
      ]);
    });
  }

  test('inside the skew a token is still accepted', async () => {
    for (const claims of [{ exp: NOW - 59 }, { nbf: NOW + 59 }]) {
      const { result } = await run(a, { headers: bearer(await good(claims)) });
      assert.equal(refusal(result), 'accepted', JSON.stringify(claims));
    }
  });

  test('several keys with different kids: the token picks its own; a kid-less JWK is tried for any kid', async () => {
    const second = await issuer(ISS, 'ES256', 'k2');
    const both = JSON.stringify({ keys: [key.publicJwk, second.publicJwk] });
    const multi = authn([provider(key, { jwks: both })]);
    assert.equal(
      refusal((await run(multi, { headers: bearer(await second.sign({ sub: 'b' })) })).result),
      'accepted',
    );
    const forgedKid = await new SignJWT({ iss: ISS, sub: 'b' })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .sign(second.privateKey);
    // Its kid names the RSA key, whose alg is RS256: no key is left to try.
    assert.equal(
      refusal((await run(multi, { headers: bearer(forgedKid) })).result),
      "401 Jwks doesn't have key to match kid or alg from Jwt",
    );
    const { kid: _kid, alg: _alg, ...bare } = key.publicJwk;
    const kidless = authn([provider(key, { jwks: JSON.stringify({ keys: [bare] }) })]);
    assert.equal(
      refusal((await run(kidless, { headers: bearer(await key.sign({ sub: 'c' })) })).result),
      'accepted',
    );
    const hsWithKidless = await new SignJWT({ iss: ISS, sub: 'c' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(String(publicPem)));
    assert.equal(
      refusal((await run(kidless, { headers: bearer(hsWithKidless) })).result),
      '401 Jwt verification fails',
    );
  });

  test('a JWKS that cannot be read refuses every token; symmetric keys in a JWKS are never used', async () => {
    for (const jwks of [
      'not json',
      '{}',
      JSON.stringify({ keys: [{ kty: 'oct', k: base64url.encode('secret'), kid: 'h' }] }),
    ]) {
      const broken = authn([provider(key, { jwks })]);
      const hs = await new SignJWT({ iss: ISS, sub: 'x' })
        .setProtectedHeader({ alg: 'HS256', kid: 'h' })
        .sign(new TextEncoder().encode('secret'));
      for (const token of [await key.sign({ sub: 'x' }), hs]) {
        assert.equal((await run(broken, { headers: bearer(token) })).result.action, 'deny', jwks);
      }
    }
  });

  test('one valid and one invalid token: refused, whatever the order', async () => {
    const valid = await good();
    const invalid = await good({ exp: NOW - 3600 });
    for (const values of [
      [valid, invalid],
      [invalid, valid],
    ]) {
      const { result } = await run(a, { headers: { authorization: values.map((t) => `Bearer ${t}`) } });
      assert.equal(refusal(result), '401 Jwt is expired');
    }
  });
});

describe('token locations and what is forwarded', async () => {
  const key = await issuer(ISS);
  const token = await key.sign({
    sub: 'alice',
    email: 'alice@example.com',
    groups: ['a', 'b'],
    nested: { team: 'x' },
  });

  test('default locations: Authorization with any-case Bearer, then ?access_token=', async () => {
    const a = authn([provider(key)], false);
    assert.equal(
      refusal((await run(a, { headers: { authorization: `bearer ${token}` } })).result),
      'accepted',
    );
    assert.equal(refusal((await run(a, { path: `/headers?x=1&access_token=${token}` })).result), 'accepted');
    assert.equal(
      refusal((await run(a, { headers: { authorization: `Basic ${token}` } })).result),
      '401 Jwt is missing',
    );
    const missing = (await run(a, {})).result;
    assert.ok(missing.action === 'deny');
    assert.deepEqual(missing.responseHeaders, [
      { name: 'www-authenticate', value: 'Bearer realm="http://httpbin.foo:8000/headers"' },
    ]);
  });

  test('a token in a query parameter is ignored when the provider only reads a header', async () => {
    const headerOnly = authn([provider(key, { fromHeaders: [{ name: 'x-jwt', valuePrefix: 'Bearer ' }] })]);
    const { result, ctx } = await run(headerOnly, {
      path: `/headers?access_token=${token}`,
      headers: bearer(token),
    });
    assert.deepEqual(
      result.action === 'continue' && result.principal,
      undefined,
      'anonymous: no location of the provider had a token',
    );
    assert.equal(ctx.metadata.has('istio_authn'), false);
    const strict = authn(
      [provider(key, { fromHeaders: [{ name: 'x-jwt', valuePrefix: 'Bearer ' }] })],
      false,
    );
    assert.equal(
      refusal((await run(strict, { path: `/?access_token=${token}` })).result),
      '401 Jwt is missing',
    );
    assert.equal(
      refusal((await run(strict, { headers: { 'x-jwt': `Bearer ${token}` } })).result),
      'accepted',
    );
  });

  test('fromParams and fromCookies', async () => {
    const a = authn([provider(key, { fromParams: ['jwt'], fromCookies: ['session'] })], false);
    assert.equal(refusal((await run(a, { path: `/?jwt=${token}` })).result), 'accepted');
    assert.equal(
      refusal((await run(a, { headers: { cookie: `theme=dark; session=${token}` } })).result),
      'accepted',
    );
    assert.equal(
      refusal((await run(a, { headers: { cookie: 'session=forged.token.here' } })).result).startsWith('401'),
      true,
    );
  });

  test('a token found where only another issuer looks is refused as unknown issuer', async () => {
    const other = await issuer('other@example.com');
    const a = authn([
      provider(key, { fromHeaders: [{ name: 'x-a', valuePrefix: '' }] }),
      provider(other, { fromHeaders: [{ name: 'x-b', valuePrefix: '' }] }),
    ]);
    assert.equal(
      refusal((await run(a, { headers: { 'x-b': token } })).result),
      '401 Jwt issuer is not configured',
    );
    assert.equal(refusal((await run(a, { headers: { 'x-a': token } })).result), 'accepted');
  });

  test('forward: false strips the token; forward: true keeps it', async () => {
    const strip = (await run(authn([provider(key)]), { headers: bearer(token) })).result;
    assert.ok(strip.action === 'continue' && strip.headers.remove.includes('authorization'));
    const keep = (await run(authn([provider(key, { forward: true })]), { headers: bearer(token) })).result;
    assert.ok(keep.action === 'continue' && !keep.headers.remove.includes('authorization'));
  });

  test('forward_payload_header carries the payload segment; claim_to_headers copies claims', async () => {
    const a = authn([
      provider(key, {
        forwardPayloadHeader: 'x-jwt-payload',
        claimToHeaders: [
          { headerName: 'x-jwt-email', claimName: 'email' },
          { headerName: 'x-jwt-groups', claimName: 'groups' },
          { headerName: 'x-jwt-team', claimName: 'nested.team' },
          { headerName: 'x-jwt-absent', claimName: 'nope' },
        ],
      }),
    ]);
    const { result } = await run(a, { headers: bearer(token) });
    assert.ok(result.action === 'continue');
    assert.deepEqual(result.headers.set, [
      { name: 'x-jwt-payload', value: token.split('.')[1] },
      { name: 'x-jwt-email', value: 'alice@example.com' },
      { name: 'x-jwt-groups', value: 'a,b' },
      { name: 'x-jwt-team', value: 'x' },
    ]);
    assert.deepEqual(
      JSON.parse(Buffer.from(result.headers.set[0]!.value, 'base64url').toString()).sub,
      'alice',
    );
  });

  test('client copies of the payload and claim headers are removed, even on anonymous requests', async () => {
    const a = authn([
      provider(key, {
        forwardPayloadHeader: 'x-jwt-payload',
        claimToHeaders: [{ headerName: 'x-jwt-email', claimName: 'email' }],
      }),
    ]);
    const forged = {
      'x-jwt-payload': base64url.encode('{"sub":"admin"}'),
      'x-jwt-email': 'admin@example.com',
    };
    const { result } = await run(a, { headers: forged });
    assert.ok(result.action === 'continue');
    assert.deepEqual(result.headers.remove.sort(), ['x-jwt-email', 'x-jwt-payload']);
    assert.deepEqual(result.headers.set, []);
  });

  test('a claim holding CR/LF is never written into a header', async () => {
    const evil = await key.sign({ sub: 'mallory', email: 'm@example.com\r\nx-admin: true' });
    const a = authn([provider(key, { claimToHeaders: [{ headerName: 'x-jwt-email', claimName: 'email' }] })]);
    const { result } = await run(a, { headers: bearer(evil) });
    assert.ok(result.action === 'continue');
    assert.deepEqual(result.headers.set, []);
  });

  test('two providers, two valid tokens: both payloads in metadata, identity from the first', async () => {
    const other = await issuer('other@example.com');
    const a = authn([
      provider(key),
      provider(other, { fromHeaders: [{ name: 'x-other', valuePrefix: '' }] }),
    ]);
    const { result, ctx } = await run(a, {
      headers: { ...bearer(token), 'x-other': await other.sign({ sub: 'bob' }) },
    });
    assert.equal(result.action === 'continue' && result.principal, `${ISS}/alice`);
    assert.deepEqual(Object.keys(ctx.metadata.get('envoy.filters.http.jwt_authn') ?? {}).sort(), [
      'other@example.com',
      ISS,
    ]);
  });

  test('a remembered signature never outlives the token: expiry is checked on every request', async () => {
    const local = new ManualClock(clock.now());
    const a = new JwtAuthenticator({ providers: [provider(key)], allowMissing: true }, { clock: local });
    const shortLived = await key.sign({ sub: 'alice', exp: NOW + 120 });
    const once = async () => refusal(await a.authenticate(requestContext({ headers: bearer(shortLived) })));
    assert.equal(await once(), 'accepted');
    assert.equal(await once(), 'accepted');
    assert.deepEqual(
      a.stats,
      { allowed: 2, denied: 0, jwt_cache_hit: 1, jwt_cache_miss: 1 },
      'the second came from the cache',
    );
    local.advance(200_000);
    assert.equal(await once(), '401 Jwt is expired');
    assert.equal(a.stats.jwt_cache_hit, 2);
    const other = await issuer('other@example.com');
    const elsewhere = new JwtAuthenticator(
      {
        providers: [
          provider(key, { fromHeaders: [{ name: 'x-a', valuePrefix: '' }] }),
          provider(other, { fromHeaders: [{ name: 'x-b', valuePrefix: '' }] }),
        ],
        allowMissing: true,
      },
      { clock },
    );
    assert.equal(
      refusal(await elsewhere.authenticate(requestContext({ headers: { 'x-a': token } }))),
      'accepted',
    );
    assert.equal(
      refusal(await elsewhere.authenticate(requestContext({ headers: { 'x-b': token } }))),
      '401 Jwt issuer is not configured',
      'a cached token is still bound to the locations of its issuer',
    );
  });

  test('audiences compare without scheme or trailing slash, as jwt_verify_lib does', async () => {
    const a = authn([provider(key, { audiences: ['https://bookinfo.example/'] })]);
    const t = await key.sign({ sub: 'x', aud: 'bookinfo.example' });
    assert.equal(refusal((await run(a, { headers: bearer(t) })).result), 'accepted');
  });
});
