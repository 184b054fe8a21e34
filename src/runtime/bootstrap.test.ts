// Bootstrap files match the runtime contract in each mode and for the ingress gateway.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BootstrapOptions, gatewayBootstrap, sidecarBootstrap } from './bootstrap.js';

const base: BootstrapOptions = {
  identity: {
    podName: 'productpage-v1-6f9c01-0',
    namespace: 'default',
    workloadName: 'productpage-v1',
    serviceAccount: 'bookinfo-productpage',
    labels: { app: 'productpage', version: 'v1' },
    ip: '10.213.0.10',
    locality: 'region1/zone1/',
    containerPorts: [{ containerPort: 9080, name: 'http' }],
    appContainers: ['productpage'],
  },
  xdsAddress: '10.213.0.1:15012',
  caCertificateFile: '/s/root-cert.pem',
  tokenFile: '/s/token',
  adminSocketPath: '/s/admin.sock',
  mode: 'netns',
  drainTimeoutMs: 5000,
};

test('netns sidecars: REDIRECT capture, bind 0.0.0.0, the contract node id and metadata', () => {
  const b = sidecarBootstrap(base);
  assert.equal(b.node.id, 'sidecar~10.213.0.10~productpage-v1-6f9c01-0.default~default.svc.cluster.local');
  assert.equal(b.node.cluster, 'productpage.default');
  assert.deepEqual(b.node.locality, { region: 'region1', zone: 'zone1', subZone: '' });
  assert.equal(b.node.metadata.INTERCEPTION_MODE, 'REDIRECT');
  assert.equal(b.node.metadata.POD_PORTS, '[{"containerPort":9080,"name":"http"}]');
  assert.equal(b.node.metadata.APP_CONTAINERS, 'productpage');
  assert.equal(b.bindAddress, '0.0.0.0');
  assert.deepEqual(b.xds, { address: '10.213.0.1:15012', tls: true, caCertificateFile: '/s/root-cert.pem' });
  assert.deepEqual(b.ca, { address: '10.213.0.1:15012', tokenFile: '/s/token' });
  assert.deepEqual(b.ports, { stats: 15090, mergedMetrics: 15020, readiness: 15021 });
  assert.equal(b.node.metadata.APP_ADDRESS, undefined);
});

test('host-mode sidecars: no capture, the explicit proxy port and the app address', () => {
  const b = sidecarBootstrap({
    ...base,
    mode: 'host',
    identity: { ...base.identity, ip: '127.1.0.1' },
    appAddress: '127.2.0.1',
  });
  assert.equal(b.node.metadata.INTERCEPTION_MODE, 'NONE');
  assert.equal(b.node.metadata.PROXY_HTTP_PORT, '15080');
  assert.equal(b.node.metadata.APP_ADDRESS, '127.2.0.1');
  assert.equal(b.bindAddress, '127.1.0.1');
});

test('the ingress gateway is a router node with the gateway bind address and port map', () => {
  const b = gatewayBootstrap({
    ...base,
    mode: 'host',
    identity: {
      ...base.identity,
      podName: 'istio-ingressgateway-0',
      namespace: 'istio-system',
      ip: '127.1.0.254',
    },
    portMap: { '8080': '8080', '80': '18080' },
  });
  assert.match(b.node.id, /^router~127\.1\.0\.254~istio-ingressgateway-0\.istio-system~/);
  assert.equal(b.node.metadata.GATEWAY_BIND_ADDRESS, '127.0.0.1');
  assert.deepEqual(b.node.metadata.GATEWAY_PORT_MAP, { '8080': '8080', '80': '18080' });
});
