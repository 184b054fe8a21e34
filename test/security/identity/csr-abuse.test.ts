// Every way a workload might talk the CA into a certificate it should not have is refused, precisely, and counted.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateKeyPair, importPKCS8 } from 'jose';
import { WorkloadTokenIssuer } from '../../../src/controlplane/ca/index.js';
import { ManualClock } from '../../../src/shared/clock.js';
import { isTrellisError } from '../../../src/shared/errors.js';
import {
  type CertificateCall,
  createWorkloadCsr,
  GrpcCaClient,
} from '../../../src/sidecar/identity/index.js';
import { craftCsr, foreignCa, leafCertificate, type RunningCa, startCa, tokenFor } from './fixtures.js';

const REVIEWS = 'spiffe://cluster.local/ns/default/sa/reviews';
const RATINGS = 'spiffe://cluster.local/ns/default/sa/ratings';
/** How many times each abuse is attempted: every attempt must be refused. */
const ATTEMPTS = 3;

let running: RunningCa;
let client: GrpcCaClient;
let reviewsToken: string;

before(async () => {
  running = await startCa();
  client = new GrpcCaClient({ address: running.address });
  reviewsToken = await tokenFor(running.ca, 'reviews');
});
after(() => running.close());

function call(c: Partial<CertificateCall> & { csrPem: string }): Promise<string[]> {
  return client.createCertificate({ validitySeconds: 0, caRootsPem: running.ca.trustBundle.pem, ...c });
}

/** Attempts `make()` ATTEMPTS times; each must be refused with `status` and a message matching `message`. */
async function alwaysRefused(
  reason: string,
  make: () => Promise<Partial<CertificateCall> & { csrPem: string }>,
  grpcStatus: 'UNAUTHENTICATED' | 'PERMISSION_DENIED' | 'INVALID_ARGUMENT',
  message: RegExp,
) {
  const before = running.service.metrics.snapshot();
  for (let i = 0; i < ATTEMPTS; i++) {
    await assert.rejects(call(await make()), (e: unknown) => {
      assert.ok(isTrellisError(e, 'CA_REFUSED'), `expected a refusal, got ${e}`);
      assert.match((e as Error).message, new RegExp(`refused the request: ${grpcStatus} `));
      assert.match((e as Error).message, message);
      return true;
    });
  }
  const after = running.service.metrics.snapshot();
  assert.equal(after.issued, before.issued, 'nothing was issued');
  assert.equal(
    after.refused[reason as keyof typeof after.refused] -
      before.refused[reason as keyof typeof before.refused],
    ATTEMPTS,
  );
}

test('control: a workload with its own token and a clean CSR gets its certificate', async () => {
  const { csrPem } = await createWorkloadCsr(REVIEWS);
  const chain = await call({ csrPem, token: reviewsToken });
  assert.equal(chain.length, 2);
  assert.match(chain[0]!, /BEGIN CERTIFICATE/);
});

test('no token', async () => {
  await alwaysRefused(
    'UNAUTHENTICATED',
    async () => ({ csrPem: (await createWorkloadCsr(REVIEWS)).csrPem }),
    'UNAUTHENTICATED',
    /no credentials/,
  );
});

test('a malformed authorization header', async () => {
  await alwaysRefused(
    'TOKEN_INVALID',
    async () => ({ csrPem: (await createWorkloadCsr(REVIEWS)).csrPem, token: 'not a jwt' }),
    'UNAUTHENTICATED',
    /Bearer <token>|malformed/,
  );
});

test('an expired token', async () => {
  const keyPem = await readFile(join(running.stateDir, 'token-key.pem'), 'utf8');
  const past = new ManualClock(Date.now() - 2 * 3_600_000);
  const stale = new WorkloadTokenIssuer({
    key: await importPKCS8(keyPem, 'ES256'),
    kid: running.ca.tokenJwks.keys[0]!.kid!,
    clock: past,
  });
  const token = await stale.issue({
    namespace: 'default',
    serviceAccount: 'reviews',
    podName: 'r',
    podUid: 'u',
  });
  await alwaysRefused(
    'TOKEN_EXPIRED',
    async () => ({ csrPem: (await createWorkloadCsr(REVIEWS)).csrPem, token }),
    'UNAUTHENTICATED',
    /token expired at/,
  );
});

test('a token signed by another key', async () => {
  const { privateKey } = await generateKeyPair('ES256');
  const forger = new WorkloadTokenIssuer({ key: privateKey, kid: running.ca.tokenJwks.keys[0]!.kid! });
  const token = await forger.issue({
    namespace: 'default',
    serviceAccount: 'reviews',
    podName: 'r',
    podUid: 'u',
  });
  await alwaysRefused(
    'TOKEN_INVALID',
    async () => ({ csrPem: (await createWorkloadCsr(REVIEWS)).csrPem, token }),
    'UNAUTHENTICATED',
    /signature does not verify/,
  );
});

test('a valid token for another service account', async () => {
  const ratingsToken = await tokenFor(running.ca, 'ratings');
  await alwaysRefused(
    'CSR_IDENTITY_MISMATCH',
    async () => ({ csrPem: (await createWorkloadCsr(REVIEWS)).csrPem, token: ratingsToken }),
    'PERMISSION_DENIED',
    /asks for spiffe:\/\/cluster.local\/ns\/default\/sa\/reviews but the caller is authenticated as spiffe:\/\/cluster.local\/ns\/default\/sa\/ratings/,
  );
});

test('extra SANs: DNS, IP, email, a second URI', async () => {
  const extras: [{ type: 'dns' | 'ip' | 'email' | 'url'; value: string }, string, RegExp][] = [
    [{ type: 'dns', value: 'istiod.istio-system.svc' }, 'CSR_EXTRA_SAN', /DNS:istiod\.istio-system\.svc/],
    [{ type: 'ip', value: '127.0.0.1' }, 'CSR_EXTRA_SAN', /IP:127\.0\.0\.1/],
    [{ type: 'email', value: 'root@example.com' }, 'CSR_EXTRA_SAN', /email:root@example\.com/],
    [
      { type: 'url', value: RATINGS },
      'CSR_IDENTITY_MISMATCH',
      /asks for spiffe:\/\/cluster.local\/ns\/default\/sa\/ratings/,
    ],
  ];
  for (const [extra, reason, message] of extras) {
    await alwaysRefused(
      reason,
      async () => ({
        csrPem: await craftCsr({ sans: [{ type: 'url', value: REVIEWS }, extra] }),
        token: reviewsToken,
      }),
      'PERMISSION_DENIED',
      message,
    );
  }
});

test('a tampered CSR (SAN rewritten after signing)', async () => {
  const { x509 } = await import('../../../src/controlplane/ca/x509.js');
  await alwaysRefused(
    'CSR_BAD_SIGNATURE',
    async () => {
      const signed = new x509.Pkcs10CertificateRequest(
        (await createWorkloadCsr(RATINGS.replace('ratings', 'reviewz'))).csrPem,
      );
      const der = Buffer.from(signed.rawData);
      der.write('sa/reviews', der.indexOf(Buffer.from('sa/reviewz')));
      return { csrPem: new x509.Pkcs10CertificateRequest(der).toString('pem'), token: reviewsToken };
    },
    'INVALID_ARGUMENT',
    /signature does not verify/,
  );
});

test('weak keys: P-384 and RSA 1024', async () => {
  await alwaysRefused(
    'CSR_WEAK_KEY',
    async () => ({
      csrPem: await craftCsr({ sans: [{ type: 'url', value: REVIEWS }], key: 'P-384' }),
      token: reviewsToken,
    }),
    'INVALID_ARGUMENT',
    /secp384r1/,
  );
  await alwaysRefused(
    'CSR_WEAK_KEY',
    async () => ({
      csrPem: await craftCsr({ sans: [{ type: 'url', value: REVIEWS }], key: 'RSA-1024' }),
      token: reviewsToken,
    }),
    'INVALID_ARGUMENT',
    /RSA 1024/,
  );
});

test('a client certificate from a foreign CA authenticates nothing', async () => {
  const rogue = await foreignCa();
  const cert = await leafCertificate(rogue, { spiffeId: REVIEWS });
  await alwaysRefused(
    'UNAUTHENTICATED',
    async () => ({
      csrPem: (await createWorkloadCsr(REVIEWS)).csrPem,
      clientCertificate: { certChainPem: cert.certPem, privateKeyPem: cert.keyPem },
    }),
    'UNAUTHENTICATED',
    /no credentials/,
  );
});

test('a valid mesh client certificate renews without a token, but only its own identity', async () => {
  const { csrPem, privateKeyPem } = await createWorkloadCsr(REVIEWS);
  const chain = await call({ csrPem, token: reviewsToken });
  const clientCertificate = { certChainPem: chain[0]!, privateKeyPem };
  const renewed = await call({ csrPem: (await createWorkloadCsr(REVIEWS)).csrPem, clientCertificate });
  assert.equal(renewed.length, 2);
  await alwaysRefused(
    'CSR_IDENTITY_MISMATCH',
    async () => ({ csrPem: (await createWorkloadCsr(RATINGS)).csrPem, clientCertificate }),
    'PERMISSION_DENIED',
    /authenticated as spiffe:\/\/cluster.local\/ns\/default\/sa\/reviews/,
  );
  await alwaysRefused(
    'CREDENTIALS_DISAGREE',
    async () => ({
      csrPem: (await createWorkloadCsr(RATINGS)).csrPem,
      clientCertificate,
      token: await tokenFor(running.ca, 'ratings'),
    }),
    'PERMISSION_DENIED',
    /token is for .*ratings but the client certificate is .*reviews/,
  );
});

test('the refusals are exported as metrics with Istio names', () => {
  const text = running.service.metrics.prometheus();
  assert.match(text, /^citadel_server_csr_count \d+$/m);
  assert.match(text, /^citadel_server_authentication_failure_count [1-9]\d*$/m);
  assert.match(text, /^trellis_ca_refusals_total\{reason="CSR_EXTRA_SAN"\} [1-9]\d*$/m);
  const s = running.service.metrics.snapshot();
  const refused = Object.values(s.refused).reduce((a, b) => a + b, 0);
  assert.equal(s.requests, s.issued + refused, 'every request is either issued or counted as refused');
});
