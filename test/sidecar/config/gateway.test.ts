// The ingress gateway goldens: exact routes and 404s, host-bound servers, the TCP server.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  findRoute,
  listenerForOriginalDestination,
  selectFilterChain,
} from '../../../src/sidecar/config/index.js';
import { request } from '../../../src/sidecar/config/testing/resources.js';
import { goldenConfig } from './goldens.js';

// Istio's ingress tasks (test/golden/translate/gateways): Bookinfo on 8080, httpbin.example.com on 80 (bound
// on 18080 by the runtime's port map), tcp-echo on 31400.
const config = goldenConfig('gateways/ingressgateway');

function gatewayRoute(listenerName: string, authority: string, path: string) {
  const listener = config.listeners.get(listenerName)!;
  const chain = selectFilterChain(listener, {
    destinationIp: listener.address.address,
    destinationPort: listener.address.port,
    sourceIp: '127.0.0.1',
    sourcePort: 40000,
  });
  assert.ok(chain?.terminal.kind === 'http');
  const table = config.routes.get(chain.terminal.hcm.rds!)!;
  const vhost = table.findVirtualHost(authority);
  return {
    table,
    vhost,
    route: vhost ? findRoute(vhost, request(path, { ':authority': authority })) : undefined,
  };
}

test('the Bookinfo gateway routes /productpage exactly and answers 404 for /headers', () => {
  const product = gatewayRoute('127.0.0.1_8080', '127.0.0.1:8080', '/productpage');
  assert.equal(product.table.name, 'http.8080');
  assert.equal(
    product.route?.action.kind === 'route' && product.route.action.clusters[0]?.name,
    'outbound|9080||productpage.default.svc.cluster.local',
  );
  assert.ok(gatewayRoute('127.0.0.1_8080', 'bookinfo.local', '/productpage?u=normal').route);
  assert.equal(gatewayRoute('127.0.0.1_8080', 'bookinfo.local', '/productpage/x').route, undefined);
  assert.equal(gatewayRoute('127.0.0.1_8080', 'bookinfo.local', '/headers').route, undefined);
  assert.ok(gatewayRoute('127.0.0.1_8080', 'bookinfo.local', '/static/img/izzy.png').route);
  assert.ok(gatewayRoute('127.0.0.1_8080', 'bookinfo.local', '/api/v1/products/0/reviews').route);
  assert.ok(gatewayRoute('127.0.0.1_8080', 'bookinfo.local', '/login').route);
});

test('httpbin.example.com is bound only on the httpbin gateway (port 80), whatever port the client used', () => {
  const listener = config.listeners.get('127.0.0.1_80')!;
  assert.deepEqual(listener.address, { address: '127.0.0.1', port: 18080 });
  for (const authority of ['httpbin.example.com', 'httpbin.example.com:80', 'HTTPBIN.example.com:18080']) {
    const r = gatewayRoute('127.0.0.1_80', authority, '/status/418');
    assert.equal(r.vhost?.name, 'httpbin.example.com:80', authority);
    assert.equal(
      r.route?.action.kind === 'route' && r.route.action.clusters[0]?.name,
      'outbound|8000||httpbin.default.svc.cluster.local',
    );
  }
  assert.ok(gatewayRoute('127.0.0.1_80', 'httpbin.example.com', '/delay/1').route);
  assert.equal(gatewayRoute('127.0.0.1_80', 'httpbin.example.com', '/headers').route, undefined);
  // Another host on port 80 has no virtual host at all (404), and httpbin's routes do not exist on 8080.
  assert.equal(gatewayRoute('127.0.0.1_80', 'other.example.com', '/status/418').vhost, undefined);
  const on8080 = gatewayRoute('127.0.0.1_8080', 'httpbin.example.com', '/status/418');
  assert.equal(on8080.vhost?.name, '*:8080');
  assert.equal(on8080.route, undefined);
});

test('the TCP gateway on 31400 proxies every connection to tcp-echo:9000', () => {
  const listener = listenerForOriginalDestination(config, '127.0.0.1', 31400)!;
  assert.equal(listener.name, '127.0.0.1_31400');
  assert.equal(listener.bindToPort, true);
  const chain = selectFilterChain(listener, {
    destinationIp: '127.0.0.1',
    destinationPort: 31400,
    sourceIp: '127.0.0.1',
    sourcePort: 1,
  });
  assert.ok(chain?.terminal.kind === 'tcp');
  assert.deepEqual(chain.terminal.tcp.clusters, [
    { name: 'outbound|9000||tcp-echo.default.svc.cluster.local', weight: 1 },
  ]);
});
