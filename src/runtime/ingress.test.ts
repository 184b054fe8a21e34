// Which Gateways run on the local ingress gateway, and on which host ports.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../api/types/meta.js';
import { ingressGateways, ingressPortMap } from './ingress.js';

function gateway(name: string, selector: Record<string, string>, ports: [number, string][]): Resource {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace: 'default' },
    spec: {
      selector,
      servers: ports.map(([number, protocol]) => ({
        port: { number, protocol, name: `p${number}` },
        hosts: ['*'],
      })),
    },
  };
}

test('only Gateways that select istio: ingressgateway run on the local ingress gateway', () => {
  const gws = [
    gateway('a', { istio: 'ingressgateway' }, [[8080, 'HTTP']]),
    gateway('b', { istio: 'egressgateway' }, [[80, 'HTTP']]),
    gateway('c', {}, [[80, 'HTTP']]),
  ];
  assert.deepEqual(
    ingressGateways(gws).map((g) => g.metadata.name),
    ['a'],
  );
});

test("the Gateway's main port takes --ingress-port; privileged ports move to 18000 + port", () => {
  assert.deepEqual(
    ingressPortMap(
      [
        gateway('g', { istio: 'ingressgateway' }, [
          [8080, 'HTTP'],
          [80, 'HTTP'],
        ]),
      ],
      8080,
    ),
    { '80': '18080', '8080': '8080' },
  );
  assert.deepEqual(
    ingressPortMap(
      [
        gateway('g', { istio: 'ingressgateway' }, [
          [80, 'HTTP'],
          [443, 'HTTPS'],
          [31400, 'TCP'],
        ]),
      ],
      9000,
    ),
    {
      '80': '9000',
      '443': '18443',
      '31400': '31400',
    },
  );
  assert.deepEqual(ingressPortMap([gateway('g', { istio: 'ingressgateway' }, [[31400, 'TCP']])], 8080), {
    '31400': '8080',
  });
  assert.deepEqual(ingressPortMap([], 8080), {});
});
