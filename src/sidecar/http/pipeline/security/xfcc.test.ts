// The XFCC seam: which connections may carry a client certificate's details, and whose `By` is written.
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { test } from 'node:test';
import type { ForwardClientCert } from '../../../config/model.js';
import type { DownstreamConnection } from '../../../runtime/contracts.js';
import { xfccBuilder } from './xfcc.js';

const PEER = 'spiffe://cluster.local/ns/default/sa/sleep';
const US = 'spiffe://cluster.local/ns/default/sa/httpbin';
const FORGED = ['By=spiffe://x;URI=spiffe://cluster.local/ns/istio-system/sa/admin'];
const ALL = { subject: true, uri: true, dns: true };

/** A connection the listener verified as mTLS from `PEER` (no TLS socket: the identity stands in). */
function connection(tls: DownstreamConnection['tls']): DownstreamConnection {
  return {
    socket: new Socket(),
    direction: 'inbound',
    listenerName: 'virtualInbound',
    filterChainName: '8000-mtls-http',
    destination: { address: '10.1.0.1', port: 8000 },
    source: { address: '10.1.0.2', port: 40000 },
    ...(tls && { tls }),
    acceptedAt: 0,
  };
}

test('SANITIZE_SET from a verified peer: the element names us (By) and the peer (URI), the client header goes', () => {
  const build = xfccBuilder();
  const conn = connection({ peerIdentity: PEER, localIdentity: US });
  assert.deepEqual(build({ connection: conn, incoming: FORGED, mode: 'SANITIZE_SET', details: ALL }), {
    action: 'set',
    value: `By=${US};Subject="";URI=${PEER}`,
  });
});

test('the sidecar identity given to the builder stands in when the connection does not name ours', () => {
  const build = xfccBuilder({ localPrincipal: US });
  const conn = connection({ peerIdentity: PEER });
  const r = build({ connection: conn, incoming: undefined, mode: 'SANITIZE_SET', details: ALL });
  assert.deepEqual(r, { action: 'set', value: `By=${US};Subject="";URI=${PEER}` });
});

test('plaintext or one-way TLS: a client XFCC is dropped in every mode', () => {
  const build = xfccBuilder({ localPrincipal: US });
  const modes: ForwardClientCert[] = [
    'SANITIZE',
    'FORWARD_ONLY',
    'APPEND_FORWARD',
    'SANITIZE_SET',
    'ALWAYS_FORWARD_ONLY',
  ];
  for (const conn of [connection(undefined), connection({ localIdentity: US })]) {
    for (const mode of modes) {
      assert.deepEqual(
        build({ connection: conn, incoming: FORGED, mode, details: ALL }),
        { action: 'remove' },
        mode,
      );
    }
  }
});

test('APPEND_FORWARD keeps what a verified peer sent and adds this hop', () => {
  const build = xfccBuilder();
  const conn = connection({ peerIdentity: PEER, localIdentity: US });
  const r = build({
    connection: conn,
    incoming: ['By=a;URI=b'],
    mode: 'APPEND_FORWARD',
    details: { subject: false, uri: true, dns: false },
  });
  assert.deepEqual(r, { action: 'set', value: `By=a;URI=b,By=${US};URI=${PEER}` });
});
