// Filter chain selection: Envoy's criteria order, most-specific-wins without fallback, duplicate refusal.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConnectionInfo } from '../model.js';
import { listenerFromJson, rejectionOf } from '../testing/resources.js';
import { selectFilterChain } from './filter-chain.js';

const TLS_INSPECTOR = {
  name: 'envoy.filters.listener.tls_inspector',
  typedConfig: {
    '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
  },
};

function chain(name: string, match?: unknown): unknown {
  return {
    name,
    ...(match ? { filterChainMatch: match } : {}),
    filters: [
      {
        name: 'envoy.filters.network.tcp_proxy',
        typedConfig: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
          statPrefix: name,
          cluster: name,
        },
      },
    ],
  };
}

function listener(chains: unknown[], extra: Record<string, unknown> = {}) {
  return listenerFromJson({
    name: 'test',
    address: { socketAddress: { address: '0.0.0.0', portValue: 15006 } },
    listenerFilters: [TLS_INSPECTOR],
    filterChains: chains,
    ...extra,
  });
}

const base: ConnectionInfo = {
  destinationIp: '10.1.0.1',
  destinationPort: 9080,
  sourceIp: '10.1.0.9',
  sourcePort: 40000,
};

function pick(l: ReturnType<typeof listener>, conn: Partial<ConnectionInfo>): string | undefined {
  return selectFilterChain(l, { ...base, ...conn })?.name;
}

test('a port with its own chains never falls back to port-less chains (STRICT mTLS refuses plaintext)', () => {
  const l = listener([
    chain('9080-mtls', { destinationPort: 9080, transportProtocol: 'tls' }),
    chain('passthrough-tls', { transportProtocol: 'tls' }),
    chain('passthrough-plain', { transportProtocol: 'raw_buffer' }),
  ]);
  assert.equal(pick(l, { transportProtocol: 'tls' }), '9080-mtls');
  assert.equal(pick(l, { transportProtocol: 'raw_buffer' }), undefined);
  // Envoy's default transport protocol is raw_buffer.
  assert.equal(pick(l, {}), undefined);
  assert.equal(pick(l, { destinationPort: 8000 }), 'passthrough-plain');
  assert.equal(pick(l, { destinationPort: 8000, transportProtocol: 'tls' }), 'passthrough-tls');
});

test('the default filter chain serves connections no chain matches', () => {
  const l = listener([chain('vip', { prefixRanges: [{ addressPrefix: '10.96.0.1', prefixLen: 32 }] })], {
    defaultFilterChain: chain('passthrough'),
  });
  assert.equal(pick(l, { destinationIp: '10.96.0.1' }), 'vip');
  assert.equal(pick(l, { destinationIp: '10.96.0.2' }), 'passthrough');
});

test('destination IP: the longest matching prefix wins, and its subtree is final', () => {
  const l = listener([
    chain('wide', { prefixRanges: [{ addressPrefix: '10.0.0.0', prefixLen: 8 }] }),
    chain('narrow-tls', {
      prefixRanges: [{ addressPrefix: '10.96.0.0', prefixLen: 16 }],
      transportProtocol: 'tls',
    }),
    chain('any'),
  ]);
  assert.equal(pick(l, { destinationIp: '10.1.2.3' }), 'wide');
  assert.equal(pick(l, { destinationIp: '10.96.0.5', transportProtocol: 'tls' }), 'narrow-tls');
  // 10.96/16 is the best prefix; its only chain wants TLS, so plaintext matches nothing (no backtracking).
  assert.equal(pick(l, { destinationIp: '10.96.0.5' }), undefined);
  assert.equal(pick(l, { destinationIp: '192.168.0.1' }), 'any');
  assert.equal(pick(l, { destinationIp: '::ffff:10.1.2.3' }), 'wide');
});

test('server names: exact, then the most specific *. wildcard, then chains without server names', () => {
  const l = listener([
    chain('exact', { serverNames: ['api.example.com'], transportProtocol: 'tls' }),
    chain('wild', { serverNames: ['*.example.com'], transportProtocol: 'tls' }),
    chain('wild-deep', { serverNames: ['*.eu.example.com'], transportProtocol: 'tls' }),
    chain('no-sni', { transportProtocol: 'tls' }),
  ]);
  const tls = { transportProtocol: 'tls' };
  assert.equal(pick(l, { ...tls, serverName: 'API.example.com' }), 'exact');
  assert.equal(pick(l, { ...tls, serverName: 'www.example.com' }), 'wild');
  assert.equal(pick(l, { ...tls, serverName: 'a.b.example.com' }), 'wild');
  assert.equal(pick(l, { ...tls, serverName: 'www.eu.example.com' }), 'wild-deep');
  assert.equal(pick(l, { ...tls, serverName: 'example.com' }), 'no-sni');
  assert.equal(pick(l, { ...tls }), 'no-sni');
});

test('application protocols: the first of the connection’s protocols that a chain lists, else chains without', () => {
  const l = listener([
    chain('http', { applicationProtocols: ['http/1.0', 'http/1.1', 'h2c'] }),
    chain('h2-only', { applicationProtocols: ['h2'] }),
    chain('opaque'),
  ]);
  assert.equal(pick(l, { applicationProtocols: ['http/1.1'] }), 'http');
  assert.equal(pick(l, { applicationProtocols: ['h2', 'http/1.1'] }), 'h2-only');
  assert.equal(pick(l, { applicationProtocols: ['http/1.1', 'h2'] }), 'http');
  assert.equal(pick(l, { applicationProtocols: ['istio'] }), 'opaque');
  assert.equal(pick(l, {}), 'opaque');
});

test('source type, direct source IP, source IP and source port narrow last, in that order', () => {
  const l = listener([
    chain('local', { sourceType: 'SAME_IP_OR_LOOPBACK' }),
    chain('external-port', { sourceType: 'EXTERNAL', sourcePorts: [40000] }),
    chain('external', {
      sourceType: 'EXTERNAL',
      sourcePrefixRanges: [{ addressPrefix: '10.1.0.0', prefixLen: 16 }],
    }),
    chain('any'),
  ]);
  assert.equal(pick(l, { sourceIp: '127.0.0.6' }), 'local');
  assert.equal(pick(l, { sourceIp: '10.1.0.1', destinationIp: '10.1.0.1' }), 'local');
  // EXTERNAL has entries, so an external connection never reaches ANY: its source IP subtree decides.
  assert.equal(pick(l, { sourceIp: '10.1.5.5', sourcePort: 1234 }), 'external');
  assert.equal(pick(l, { sourceIp: '192.168.1.1', sourcePort: 40000 }), 'external-port');
  assert.equal(pick(l, { sourceIp: '192.168.1.1', sourcePort: 1234 }), undefined);
  const direct = listener([
    chain('lb', { directSourcePrefixRanges: [{ addressPrefix: '10.0.0.0', prefixLen: 8 }] }),
    chain('others'),
  ]);
  assert.equal(pick(direct, { sourceIp: '203.0.113.7', directSourceIp: '10.0.0.2' }), 'lb');
  assert.equal(pick(direct, { sourceIp: '10.0.0.2', directSourceIp: '203.0.113.7' }), 'others');
});

test('two chains with the same match are refused, naming both', () => {
  const lines = rejectionOf(() =>
    listener([
      chain('first', { destinationPort: 9080, transportProtocol: 'tls' }),
      chain('second', { destinationPort: 9080, transportProtocol: 'tls', serverNames: [] }),
    ]),
  );
  assert.deepEqual(lines, [
    'Listener "test": filter_chains[1]: same filter_chain_match as filter_chains[0] ("first"); Envoy refuses duplicate matches',
  ]);
  // Overlap on one value of a list is a duplicate too.
  const overlap = rejectionOf(() =>
    listener([
      chain('a', { applicationProtocols: ['h2', 'http/1.1'] }),
      chain('b', { applicationProtocols: ['http/1.1'] }),
    ]),
  );
  assert.equal(overlap.length, 1);
  assert.match(overlap[0]!, /filter_chains\[1\]: same filter_chain_match as filter_chains\[0\]/);
});
