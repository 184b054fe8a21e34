// Listener and filter chain selection on the goldens: inbound mTLS modes, TCP by VIP, sniffing, SNI, host mode.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ConnectionInfo,
  type FilterChain,
  listenerForOriginalDestination,
  pickTcpCluster,
  type SidecarConfig,
  selectFilterChain,
} from '../../../src/sidecar/config/index.js';
import { seededRandom } from '../../../src/sidecar/upstream/lb/conformance.js';
import { goldenConfig } from './goldens.js';

function chainFor(
  config: SidecarConfig,
  listener: string,
  conn: Partial<ConnectionInfo> & { destinationIp: string; destinationPort: number },
): FilterChain | undefined {
  return selectFilterChain(config.listeners.get(listener)!, {
    sourceIp: '10.1.0.9',
    sourcePort: 40000,
    ...conn,
  });
}

function tcpClusters(chain: FilterChain | undefined): string[] {
  assert.equal(chain?.terminal.kind, 'tcp', `expected a tcp_proxy chain, got ${chain?.name}`);
  return chain!.terminal.kind === 'tcp' ? chain!.terminal.tcp.clusters.map((c) => c.name) : [];
}

test('inbound port under STRICT mTLS: TLS gets the mTLS chain, a plaintext connection matches no chain', () => {
  // peer-authentication: mesh-wide STRICT; productpage has no override.
  const config = goldenConfig('peer-authentication/productpage');
  const inbound = config.listeners.get('virtualInbound')!;
  assert.deepEqual(inbound.listenerFilters, { originalDst: true, tlsInspector: true, httpInspector: true });
  const mtls = chainFor(config, 'virtualInbound', {
    destinationIp: '10.1.0.1',
    destinationPort: 9080,
    transportProtocol: 'tls',
    applicationProtocols: ['istio-http/1.1'],
  });
  assert.equal(mtls?.name, '9080-mtls-http');
  assert.equal(mtls?.tls?.requireClientCertificate, true);
  assert.equal(mtls?.tls?.certificateSecret, 'default');
  assert.equal(mtls?.tls?.validationSecret, 'ROOTCA');
  assert.equal(mtls?.tls?.minimumProtocol, 'TLSv1_3');
  assert.equal(mtls?.terminal.kind === 'http' && mtls.terminal.hcm.routeConfig?.name, 'inbound|9080||');
  assert.equal(
    chainFor(config, 'virtualInbound', {
      destinationIp: '10.1.0.1',
      destinationPort: 9080,
      transportProtocol: 'raw_buffer',
    }),
    undefined,
  );
  assert.equal(
    chainFor(config, 'virtualInbound', { destinationIp: '10.1.0.1', destinationPort: 9080 }),
    undefined,
  );
  // An undeclared port is STRICT too: only the TLS passthrough exists.
  assert.equal(
    chainFor(config, 'virtualInbound', { destinationIp: '10.1.0.1', destinationPort: 3306 }),
    undefined,
  );
  assert.deepEqual(
    tcpClusters(
      chainFor(config, 'virtualInbound', {
        destinationIp: '10.1.0.1',
        destinationPort: 3306,
        transportProtocol: 'tls',
      }),
    ),
    ['InboundPassthroughCluster'],
  );
});

test('a port whose mTLS is DISABLEd takes only plaintext; a PERMISSIVE TCP port takes both', () => {
  const config = goldenConfig('peer-authentication/reviews-v1');
  const plain = chainFor(config, 'virtualInbound', { destinationIp: '10.1.0.5', destinationPort: 9080 });
  assert.equal(plain?.name, '9080-plaintext-http');
  assert.equal(plain?.tls, undefined);
  assert.equal(
    chainFor(config, 'virtualInbound', {
      destinationIp: '10.1.0.5',
      destinationPort: 9080,
      transportProtocol: 'tls',
    }),
    undefined,
  );
  assert.deepEqual(
    tcpClusters(chainFor(config, 'virtualInbound', { destinationIp: '10.1.0.5', destinationPort: 9100 })),
    ['inbound|9100||'],
  );
  assert.deepEqual(
    tcpClusters(
      chainFor(config, 'virtualInbound', {
        destinationIp: '10.1.0.5',
        destinationPort: 9100,
        transportProtocol: 'tls',
      }),
    ),
    ['inbound|9100||'],
  );
});

test('TCP chains are picked by the destination VIP; other addresses on the port take the passthrough', () => {
  // tcp-tls: tcp-echo (VIP 10.96.0.1) ports 9000/9001, 80/20 v1/v2 on 9000.
  const config = goldenConfig('tcp-tls/curl');
  const listener = listenerForOriginalDestination(config, '10.96.0.1', 9000)!;
  assert.equal(listener.name, '0.0.0.0_9000');
  const chain = selectFilterChain(listener, {
    destinationIp: '10.96.0.1',
    destinationPort: 9000,
    sourceIp: '10.1.0.9',
    sourcePort: 1,
  });
  assert.deepEqual(tcpClusters(chain), [
    'outbound|9000|v1|tcp-echo.istio-io-tcp-traffic-shifting.svc.cluster.local',
    'outbound|9000|v2|tcp-echo.istio-io-tcp-traffic-shifting.svc.cluster.local',
  ]);
  // Istio's TCP traffic shifting: about 20% of connections reach v2.
  assert.ok(chain?.terminal.kind === 'tcp');
  const tcp = chain.terminal.tcp;
  const random = seededRandom(11);
  let v2 = 0;
  const n = 5000;
  for (let i = 0; i < n; i++) if (pickTcpCluster(tcp, random)?.name.includes('|v2|')) v2++;
  assert.ok(Math.abs(v2 / n - 0.2) < 0.02, `v2 got ${v2} of ${n}`);
  assert.deepEqual(
    tcpClusters(
      selectFilterChain(listener, {
        destinationIp: '10.96.0.99',
        destinationPort: 9000,
        sourceIp: '10.1.0.9',
        sourcePort: 1,
      }),
    ),
    ['PassthroughCluster'],
  );
});

test('a sniffed port goes to HTTP only when http_inspector saw http/1.1 or h2c; anything else is TCP', () => {
  const config = goldenConfig('tcp-tls/curl');
  const listener = config.listeners.get('0.0.0.0_7070')!;
  assert.equal(listener.listenerFilters.httpInspector, true);
  assert.equal(listener.continueOnListenerFiltersTimeout, true);
  const at = (applicationProtocols?: string[]) =>
    selectFilterChain(listener, {
      destinationIp: '10.96.0.2',
      destinationPort: 7070,
      sourceIp: '10.1.0.9',
      sourcePort: 1,
      ...(applicationProtocols ? { applicationProtocols } : {}),
    });
  for (const alpn of [['http/1.1'], ['h2c'], ['http/1.0']]) {
    const chain = at(alpn);
    assert.equal(chain?.terminal.kind === 'http' && chain.terminal.hcm.rds, '7070', alpn[0]);
  }
  for (const alpn of [undefined, ['h2'], ['istio']]) {
    assert.deepEqual(
      tcpClusters(at(alpn)),
      ['outbound|7070||secure.istio-io-tcp-traffic-shifting.svc.cluster.local'],
      String(alpn),
    );
  }
});

test('TLS services are picked by SNI; an unknown SNI takes the passthrough', () => {
  const config = goldenConfig('tcp-tls/curl');
  const sni = (serverName: string) =>
    chainFor(config, '0.0.0.0_443', {
      destinationIp: '10.96.0.2',
      destinationPort: 443,
      transportProtocol: 'tls',
      serverName,
    });
  assert.deepEqual(tcpClusters(sni('login.secure.example')), [
    'outbound|9001||tcp-echo.istio-io-tcp-traffic-shifting.svc.cluster.local',
  ]);
  assert.deepEqual(tcpClusters(sni('secure.istio-io-tcp-traffic-shifting.svc.cluster.local')), [
    'outbound|443||secure.istio-io-tcp-traffic-shifting.svc.cluster.local',
  ]);
  assert.deepEqual(tcpClusters(sni('example.org')), ['PassthroughCluster']);
});

test('host mode: bound listeners on the pod address, the explicit HTTP proxy on 15080', () => {
  const config = goldenConfig('host-mode/productpage');
  const proxy = listenerForOriginalDestination(config, '127.1.0.1', 15080)!;
  assert.equal(proxy.name, '127.1.0.1_15080');
  const chain = selectFilterChain(proxy, {
    destinationIp: '127.1.0.1',
    destinationPort: 15080,
    sourceIp: '127.0.0.1',
    sourcePort: 1,
  });
  assert.equal(chain?.terminal.kind === 'http' && chain.terminal.hcm.rds, 'http_proxy');
  assert.equal(listenerForOriginalDestination(config, '127.1.0.2', 15080), undefined);
});
