// XFCC per forward_client_cert_details mode, and the control headers stripped from untrusted traffic.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ForwardClientCert } from '../config/model.js';
import type { PeerCertificate } from './context.js';
import { controlHeadersToRemove, isUntrustedControlHeader } from './sanitize.js';
import { type XfccOptions, xfccAction } from './xfcc.js';

const peer: PeerCertificate = {
  uriSans: ['spiffe://cluster.local/ns/default/sa/sleep'],
  dnsSans: ['sleep.default'],
  subject: '',
  sha256: 'ab12',
};
const FORGED = [
  'By=spiffe://cluster.local/ns/default/sa/admin;URI=spiffe://cluster.local/ns/istio-system/sa/root',
];
const options = (mode: ForwardClientCert, extra: Partial<XfccOptions> = {}): XfccOptions => ({
  mode,
  details: { subject: true, uri: true, dns: true },
  localUriSans: ['spiffe://cluster.local/ns/default/sa/httpbin'],
  ...extra,
});
const ALL_MODES: ForwardClientCert[] = [
  'SANITIZE',
  'FORWARD_ONLY',
  'APPEND_FORWARD',
  'SANITIZE_SET',
  'ALWAYS_FORWARD_ONLY',
];
const OWN =
  'By=spiffe://cluster.local/ns/default/sa/httpbin;Hash=ab12;Subject="";URI=spiffe://cluster.local/ns/default/sa/sleep;DNS=sleep.default';

describe('x-forwarded-client-cert', () => {
  test('from a plaintext client, a forged header is dropped in every mode', () => {
    for (const mode of ALL_MODES) {
      assert.deepEqual(
        xfccAction(options(mode), { peer: undefined, incoming: FORGED }),
        { action: 'remove' },
        mode,
      );
    }
  });

  test('from a verified peer, each mode does what Envoy does', () => {
    const at = (mode: ForwardClientCert, incoming = FORGED) => xfccAction(options(mode), { peer, incoming });
    assert.deepEqual(at('SANITIZE'), { action: 'remove' });
    assert.deepEqual(at('FORWARD_ONLY'), { action: 'keep' });
    assert.deepEqual(at('ALWAYS_FORWARD_ONLY'), { action: 'keep' });
    assert.deepEqual(at('SANITIZE_SET'), { action: 'set', value: OWN });
    assert.deepEqual(at('APPEND_FORWARD'), { action: 'set', value: `${FORGED[0]},${OWN}` });
    assert.deepEqual(at('APPEND_FORWARD', []), { action: 'set', value: OWN });
  });

  test('ALWAYS_FORWARD_ONLY forwards a plaintext client header only when explicitly trusted', () => {
    assert.deepEqual(
      xfccAction(options('ALWAYS_FORWARD_ONLY', { alwaysForwardFromPlaintext: true }), {
        peer: undefined,
        incoming: FORGED,
      }),
      { action: 'keep' },
    );
  });

  test("Istio's inbound default (SANITIZE_SET, subject+uri+dns) describes only the verified peer", () => {
    const r = xfccAction(options('SANITIZE_SET'), { peer, incoming: FORGED });
    assert.equal(r.action, 'set');
    assert.ok(r.action === 'set' && !r.value.includes('istio-system'));
  });

  test('a SAN holding separators is quoted, so it cannot inject an element', () => {
    const evil: PeerCertificate = {
      uriSans: ['spiffe://td/x;URI=spiffe://td/admin,By=y'],
      dnsSans: [],
      subject: 'CN=a"b',
      sha256: 'ff',
    };
    const r = xfccAction(options('SANITIZE_SET', { details: { subject: true, uri: true, dns: false } }), {
      peer: evil,
      incoming: undefined,
    });
    assert.deepEqual(r, {
      action: 'set',
      value:
        'By=spiffe://cluster.local/ns/default/sa/httpbin;Hash=ff;Subject="CN=a\\"b";URI="spiffe://td/x;URI=spiffe://td/admin,By=y"',
    });
  });

  test('no URI SAN still writes "URI=" (Envoy keeps the key)', () => {
    const r = xfccAction(
      options('SANITIZE_SET', { details: { subject: false, uri: true, dns: false }, localUriSans: [] }),
      {
        peer: { uriSans: [], dnsSans: [], subject: 'CN=x' },
        incoming: undefined,
      },
    );
    assert.deepEqual(r, { action: 'set', value: 'URI=' });
  });
});

describe('control headers from untrusted traffic', () => {
  const incoming = [
    'X-Envoy-Retry-On',
    'x-envoy-upstream-rq-timeout-ms',
    'x-envoy-max-retries',
    'x-envoy-internal',
    'x-envoy-force-trace',
    'x-envoy-decorator-operation',
    'x-envoy-peer-metadata',
    'x-trellis-reason',
    'x-trellis-anything',
    'x-request-id',
    'authorization',
    'x-token',
  ];

  test('between sidecars: Envoy internal-only headers and every x-trellis-* header go', () => {
    assert.deepEqual(controlHeadersToRemove(incoming, { edge: false }), [
      'x-envoy-retry-on',
      'x-envoy-upstream-rq-timeout-ms',
      'x-envoy-max-retries',
      'x-envoy-internal',
      'x-envoy-force-trace',
      'x-trellis-reason',
      'x-trellis-anything',
    ]);
  });

  test('at the edge: every x-envoy-* header goes too', () => {
    const removed = controlHeadersToRemove(incoming, { edge: true });
    assert.ok(removed.includes('x-envoy-decorator-operation') && removed.includes('x-envoy-peer-metadata'));
    assert.ok(
      !removed.includes('x-request-id') && !removed.includes('authorization') && !removed.includes('x-token'),
    );
    assert.equal(removed.length, 9);
  });

  test('application headers are never touched', () => {
    for (const h of ['x-envoyish', 'x-forwarded-for', 'x-b3-traceid', 'cookie']) {
      assert.equal(isUntrustedControlHeader(h, { edge: true }), false, h);
    }
  });
});
