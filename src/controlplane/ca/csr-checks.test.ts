import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { test } from 'node:test';
import { checkCsr } from './csr-checks.js';
import { CertificateRefused, type RefusalReason } from './refusals.js';
import { x509 } from './x509.js';

const ME = 'spiffe://cluster.local/ns/default/sa/reviews';
const OTHER = 'spiffe://cluster.local/ns/default/sa/ratings';

type KeyKind = 'P-256' | 'P-384' | 'RSA-1024' | 'RSA-2048';

async function keys(kind: KeyKind) {
  const alg = kind.startsWith('RSA')
    ? {
        name: 'RSASSA-PKCS1-v1_5',
        hash: 'SHA-256',
        publicExponent: new Uint8Array([1, 0, 1]),
        modulusLength: Number(kind.slice(4)),
      }
    : { name: 'ECDSA', namedCurve: kind };
  const pair = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const signing = kind.startsWith('RSA')
    ? alg
    : { name: 'ECDSA', hash: kind === 'P-384' ? 'SHA-384' : 'SHA-256' };
  return { pair, signing };
}

async function csr(opts: {
  sans?: { type: 'url' | 'dns' | 'ip' | 'email'; value: string }[];
  key?: KeyKind;
}) {
  const { pair, signing } = await keys(opts.key ?? 'P-256');
  const extensions = opts.sans ? [new x509.SubjectAlternativeNameExtension(opts.sans)] : [];
  const req = await x509.Pkcs10CertificateRequestGenerator.create({
    keys: pair as never,
    signingAlgorithm: signing as never,
    extensions,
  });
  return req.toString('pem');
}

async function refusal(pem: string, expected = ME): Promise<{ reason: RefusalReason; message: string }> {
  try {
    await checkCsr(pem, expected);
  } catch (e) {
    assert.ok(e instanceof CertificateRefused, `expected a refusal, got ${e}`);
    return { reason: e.reason, message: e.message };
  }
  assert.fail('the CSR was accepted');
}

test('a P-256 CSR with exactly the caller identity is accepted, and so is RSA 2048', async () => {
  const ok = await checkCsr(await csr({ sans: [{ type: 'url', value: ME }] }), ME);
  assert.equal(ok.keyDescription, 'ECDSA P-256');
  const rsa = await checkCsr(await csr({ sans: [{ type: 'url', value: ME }], key: 'RSA-2048' }), ME);
  assert.equal(rsa.keyDescription, 'RSA 2048');
});

test('a CSR for another identity is refused and names both identities', async () => {
  const r = await refusal(await csr({ sans: [{ type: 'url', value: OTHER }] }));
  assert.equal(r.reason, 'CSR_IDENTITY_MISMATCH');
  assert.match(r.message, /asks for spiffe:\/\/cluster.local\/ns\/default\/sa\/ratings/);
  assert.match(r.message, /authenticated as spiffe:\/\/cluster.local\/ns\/default\/sa\/reviews/);
});

test('every extra SAN is refused: DNS, IP, email, a second URI, the same URI twice', async () => {
  const cases: [{ type: 'url' | 'dns' | 'ip' | 'email'; value: string }[], RefusalReason, RegExp][] = [
    [
      [
        { type: 'url', value: ME },
        { type: 'dns', value: 'reviews.default.svc.cluster.local' },
      ],
      'CSR_EXTRA_SAN',
      /DNS:reviews/,
    ],
    [
      [
        { type: 'url', value: ME },
        { type: 'ip', value: '10.0.0.1' },
      ],
      'CSR_EXTRA_SAN',
      /IP:10\.0\.0\.1/,
    ],
    [
      [
        { type: 'url', value: ME },
        { type: 'email', value: 'a@b.c' },
      ],
      'CSR_EXTRA_SAN',
      /email:a@b\.c/,
    ],
    [
      [
        { type: 'url', value: ME },
        { type: 'url', value: OTHER },
      ],
      'CSR_IDENTITY_MISMATCH',
      /ratings/,
    ],
    [
      [
        { type: 'url', value: ME },
        { type: 'url', value: ME },
      ],
      'CSR_EXTRA_SAN',
      /repeats the URI SAN/,
    ],
    [[{ type: 'dns', value: 'evil.example' }], 'CSR_EXTRA_SAN', /DNS:evil\.example/],
  ];
  for (const [sans, reason, message] of cases) {
    const r = await refusal(await csr({ sans }));
    assert.equal(r.reason, reason, JSON.stringify(sans));
    assert.match(r.message, message);
  }
});

test('a CSR without any SAN is refused', async () => {
  const r = await refusal(await csr({}));
  assert.equal(r.reason, 'CSR_NO_IDENTITY');
});

test('weak or unexpected keys are refused: P-384, RSA 1024', async () => {
  const p384 = await refusal(await csr({ sans: [{ type: 'url', value: ME }], key: 'P-384' }));
  assert.equal(p384.reason, 'CSR_WEAK_KEY');
  assert.match(p384.message, /secp384r1/);
  const rsa = await refusal(await csr({ sans: [{ type: 'url', value: ME }], key: 'RSA-1024' }));
  assert.equal(rsa.reason, 'CSR_WEAK_KEY');
  assert.match(rsa.message, /RSA 1024 bits/);
});

test('a tampered CSR (identity rewritten after signing) is refused for its signature', async () => {
  // Sign a CSR for one identity, then rewrite its SAN bytes to the identity the caller can prove.
  const victim = 'spiffe://cluster.local/ns/default/sa/ratings';
  const signed = new x509.Pkcs10CertificateRequest(await csr({ sans: [{ type: 'url', value: victim }] }));
  const der = Buffer.from(signed.rawData);
  const at = der.indexOf(Buffer.from('sa/ratings'));
  assert.ok(at > 0);
  der.write('sa/reviewz', at);
  const tamperedId = 'spiffe://cluster.local/ns/default/sa/reviewz';
  const pem = new x509.Pkcs10CertificateRequest(der).toString('pem');
  const r = await refusal(pem, tamperedId);
  assert.equal(r.reason, 'CSR_BAD_SIGNATURE');
});

test('garbage, empty, oversized and doubled CSRs are refused as malformed', async () => {
  const good = await csr({ sans: [{ type: 'url', value: ME }] });
  for (const pem of [
    '',
    'hello',
    '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n',
    good + good,
    `${good}${'x'.repeat(40_000)}`,
  ]) {
    assert.equal((await refusal(pem)).reason, 'CSR_MALFORMED');
  }
});
