// CVE-2021-31920 (ISTIO-SECURITY-2021-005): `DENY paths: ["/admin"]` against path tricks, in each normalization mode.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  normalizationForMode,
  normalizeRequestPath,
  type PathNormalizationMode,
} from '../../../src/sidecar/security/path-normalize.js';
import { decide, spiffe, statusOf } from './harness.js';
import { translateSecurity } from './istio.js';

const DENY_ADMIN = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-admin, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/admin", "/admin/*"] } }] }]
`;

const ATTACKS = [
  '/admin',
  '/admin/',
  '/admin/users',
  '/admin?debug=1',
  '/admin#top',
  '//admin',
  '///admin/users',
  '/./admin',
  '/x/../admin',
  '/x/y/../../admin',
  '/%2e/admin',
  '/x/%2E%2E/admin',
  '/%61dmin',
  '/adm%69n/users',
  '/\\admin',
  '/x\\..\\admin',
  '/%2Fadmin',
  '/%2fadmin',
  '/%5Cadmin',
  '/x/..%2fadmin',
  '/x/..%5cadmin',
  '/x%2f..%2fadmin',
];

/** What a lenient application might do with the path it receives: decode everything, then resolve. */
function lenientResolve(path: string): string {
  const decoded = path
    .split(/[?#]/)[0]!
    .replace(/%([0-9a-f]{2})/gi, (_, h) => String.fromCharCode(Number.parseInt(h, 16)));
  const segments: string[] = [];
  for (const s of decoded.replaceAll('\\', '/').split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') segments.pop();
    else segments.push(s);
  }
  return `/${segments.join('/')}`;
}

async function bypasses(mode: PathNormalizationMode): Promise<string[]> {
  const filters = translateSecurity(DENY_ADMIN, [
    { app: 'httpbin', namespace: 'foo', serviceAccount: 'httpbin', ports: [{ name: 'http', port: 8000 }] },
  ])('httpbin', '8000-mtls-http').http;
  const through: string[] = [];
  for (const attack of ATTACKS) {
    const n = normalizeRequestPath(attack, normalizationForMode(mode));
    if (n.action === 'reject') continue;
    const status = statusOf((await decide(filters, { path: n.path, peer: spiffe('foo', 'sleep') })).outcome);
    const reached = lenientResolve(n.path);
    if (status === 200 && (reached === '/admin' || reached.startsWith('/admin/'))) through.push(attack);
  }
  return through;
}

describe('DENY paths ["/admin"] against path tricks', () => {
  test('DECODE_AND_MERGE_SLASHES: 100% refused, even by the standard of a lenient application', async () => {
    assert.deepEqual(await bypasses('DECODE_AND_MERGE_SLASHES'), []);
  });

  test('MERGE_SLASHES: only escaped slashes still get through (Istio: use DECODE_AND_MERGE_SLASHES)', async () => {
    assert.deepEqual(await bypasses('MERGE_SLASHES'), [
      '/%2Fadmin',
      '/%2fadmin',
      '/%5Cadmin',
      '/x/..%2fadmin',
      '/x/..%5cadmin',
      '/x%2f..%2fadmin',
    ]);
  });

  test('BASE (the default): double slashes and escaped slashes get through, as CVE-2021-31920 describes', async () => {
    assert.deepEqual(await bypasses('BASE'), [
      '//admin',
      '///admin/users',
      '/\\admin',
      '/%2Fadmin',
      '/%2fadmin',
      '/%5Cadmin',
      '/x/..%2fadmin',
      '/x/..%5cadmin',
      '/x%2f..%2fadmin',
    ]);
  });

  test('NONE: dot segments, backslashes and encodings all get through', async () => {
    const through = await bypasses('NONE');
    assert.ok(through.length >= 15, `${through.length} bypasses`);
    assert.ok(through.includes('/x/../admin') && through.includes('/%61dmin'));
  });

  test('%00 never reaches authorization', () => {
    for (const mode of ['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'] as const) {
      assert.equal(normalizeRequestPath('/admin%00.html', normalizationForMode(mode)).action, 'reject', mode);
    }
  });
});
