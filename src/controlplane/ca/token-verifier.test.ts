import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { ManualClock } from '../../shared/clock.js';
import { isTrellisError } from '../../shared/errors.js';
import { JwtTokenVerifier } from './token-verifier.js';
import { WorkloadTokenIssuer } from './workload-token.js';

const ISSUER = 'https://trellis.local/ca';

async function keyPair() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { privateKey, kid, jwks: { keys: [{ ...jwk, kid, alg: 'ES256' }] } };
}

async function setup() {
  const clock = new ManualClock(Date.now());
  const key = await keyPair();
  const issuer = new WorkloadTokenIssuer({ key: key.privateKey, kid: key.kid, issuer: ISSUER, clock });
  const verifier = new JwtTokenVerifier({ jwks: key.jwks, issuer: ISSUER, clock });
  return { clock, key, issuer, verifier };
}

const POD = { namespace: 'default', serviceAccount: 'reviews', podName: 'reviews-v1-0', podUid: 'uid-1' };

async function refusedWith(verifier: JwtTokenVerifier, token: string, code: string, message: RegExp) {
  await assert.rejects(verifier.verify(token), (e: unknown) => {
    assert.ok(isTrellisError(e, code), `expected ${code}, got ${e}`);
    assert.match((e as Error).message, message);
    return true;
  });
}

test('a token resolves to the service account, pod name and uid it was issued for', async () => {
  const { issuer, verifier } = await setup();
  const id = await verifier.verify(await issuer.issue(POD));
  assert.equal(id.namespace, 'default');
  assert.equal(id.serviceAccount, 'reviews');
  assert.equal(id.podName, 'reviews-v1-0');
  assert.equal(id.podUid, 'uid-1');
  assert.equal(id.issuer, ISSUER);
});

test('the token carries Kubernetes projected-token claims', async () => {
  const { issuer } = await setup();
  const token = await issuer.issue(POD);
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
  assert.equal(payload.sub, 'system:serviceaccount:default:reviews');
  assert.deepEqual(payload.aud, ['istio-ca']);
  assert.equal(payload.iss, ISSUER);
  assert.deepEqual(payload['kubernetes.io'], {
    namespace: 'default',
    pod: { name: 'reviews-v1-0', uid: 'uid-1' },
    serviceaccount: { name: 'reviews' },
  });
  assert.equal(payload.exp - payload.iat, 3600);
});

test('an expired token is refused as expired, naming the expiry time', async () => {
  const { issuer, verifier, clock } = await setup();
  const token = await issuer.issue({ ...POD, ttlMs: 60_000 });
  clock.advance(60_001);
  await refusedWith(verifier, token, 'TOKEN_EXPIRED', /token expired at \d{4}-/);
});

test('a token signed by another key is refused, with or without our key id', async () => {
  const { verifier, key } = await setup();
  const rogue = await keyPair();
  const foreign = new WorkloadTokenIssuer({ key: rogue.privateKey, kid: rogue.kid, issuer: ISSUER });
  await refusedWith(
    verifier,
    await foreign.issue(POD),
    'TOKEN_INVALID',
    /not signed by any key the CA trusts/,
  );
  const spoofedKid = new WorkloadTokenIssuer({ key: rogue.privateKey, kid: key.kid, issuer: ISSUER });
  await refusedWith(verifier, await spoofedKid.issue(POD), 'TOKEN_INVALID', /signature does not verify/);
});

test('forged algorithms are refused: alg none and HS256', async () => {
  const { verifier } = await setup();
  const claims = { sub: 'system:serviceaccount:default:reviews', aud: ['istio-ca'], iss: ISSUER };
  const none = new UnsecuredJWT(claims).setExpirationTime('1h').encode();
  await refusedWith(verifier, none, 'TOKEN_INVALID', /./);
  const hs = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode('a shared secret of thirty-two bytes!'));
  await refusedWith(verifier, hs, 'TOKEN_INVALID', /./);
});

test('wrong audience and wrong issuer are refused, naming the claim', async () => {
  const { issuer, verifier, key, clock } = await setup();
  await refusedWith(
    verifier,
    await issuer.issue({ ...POD, audiences: ['kubernetes'] }),
    'TOKEN_INVALID',
    /claim "aud"/,
  );
  const other = new WorkloadTokenIssuer({
    key: key.privateKey,
    kid: key.kid,
    issuer: 'https://elsewhere',
    clock,
  });
  await refusedWith(
    verifier,
    await other.issue(POD),
    'TOKEN_INVALID',
    /claim "iss".*expected "https:\/\/trellis.local\/ca"/,
  );
});

test('a subject that disagrees with the kubernetes.io claim, or names no service account, is refused', async () => {
  const { verifier, key, clock } = await setup();
  const now = Math.floor(clock.now() / 1000);
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .setIssuer(ISSUER)
      .setAudience('istio-ca')
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(key.privateKey);
  await refusedWith(
    verifier,
    await sign({
      sub: 'system:serviceaccount:default:reviews',
      'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'admin' } },
    }),
    'TOKEN_INVALID',
    /disagrees with its subject/,
  );
  await refusedWith(
    verifier,
    await sign({ sub: 'admin' }),
    'TOKEN_INVALID',
    /not of the form system:serviceaccount/,
  );
  await refusedWith(
    verifier,
    await sign({ sub: 'system:serviceaccount:a/b:c' }),
    'TOKEN_INVALID',
    /cannot name a workload/,
  );
});

test('garbage and oversized tokens are refused without throwing anything but a TrellisError', async () => {
  const { verifier } = await setup();
  await refusedWith(verifier, 'not-a-jwt', 'TOKEN_INVALID', /malformed|cannot be verified/);
  await refusedWith(verifier, '', 'TOKEN_INVALID', /empty/);
  await refusedWith(verifier, 'a'.repeat(20_000), 'TOKEN_INVALID', /limit/);
});
