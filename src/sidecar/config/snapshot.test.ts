// The consistent snapshot: warming dependencies, missing resources, listener addresses.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTrellisError } from '../../shared/errors.js';
import { listenerForOriginalDestination } from './match/listener.js';
import type { ClusterConfig, ListenerConfig } from './model.js';
import {
  buildSidecarConfig,
  clusterDependencies,
  listenerDependencies,
  missingResources,
  type SnapshotInput,
} from './snapshot.js';
import {
  clusterFromJson,
  endpointsFromJson,
  listenerFromJson,
  routeTableFromJson,
} from './testing/resources.js';

const T = 'type.googleapis.com/';

function httpListener(
  name: string,
  address: string,
  port: number,
  rds: string,
  bindToPort = false,
): ListenerConfig {
  return listenerFromJson({
    name,
    address: { socketAddress: { address, portValue: port } },
    bindToPort,
    filterChains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typedConfig: {
              '@type': `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
              statPrefix: name,
              rds: { configSource: { ads: {} }, routeConfigName: rds },
              httpFilters: [
                {
                  name: 'router',
                  typedConfig: { '@type': `${T}envoy.extensions.filters.http.router.v3.Router` },
                },
              ],
            },
          },
        ],
      },
    ],
  });
}

function edsCluster(name: string, serviceName?: string): ClusterConfig {
  return clusterFromJson({
    name,
    type: 'EDS',
    edsClusterConfig: { edsConfig: { ads: {} }, ...(serviceName ? { serviceName } : {}) },
  });
}

const routes9080 = routeTableFromJson({
  name: '9080',
  virtualHosts: [{ name: 'all', domains: ['*'], routes: [] }],
});
const reviewsEndpoints = endpointsFromJson({ clusterName: 'outbound|9080||reviews' });

function input(parts: Partial<SnapshotInput>): SnapshotInput {
  return { listeners: new Map(), routes: new Map(), clusters: new Map(), endpoints: new Map(), ...parts };
}

test('dependencies: the RDS names a listener uses and the EDS name a cluster waits for', () => {
  assert.deepEqual(listenerDependencies(httpListener('0.0.0.0_9080', '0.0.0.0', 9080, '9080')), ['9080']);
  assert.deepEqual(clusterDependencies(edsCluster('outbound|9080||reviews')), ['outbound|9080||reviews']);
  assert.deepEqual(clusterDependencies(edsCluster('c', 'svc-name')), ['svc-name']);
  assert.deepEqual(clusterDependencies(clusterFromJson({ name: 'static', type: 'STATIC' })), []);
});

test('a snapshot with an unarrived route config or endpoint set is held back, naming what is missing', () => {
  const partial = input({
    listeners: new Map([['0.0.0.0_9080', httpListener('0.0.0.0_9080', '0.0.0.0', 9080, '9080')]]),
    clusters: new Map([['outbound|9080||reviews', edsCluster('outbound|9080||reviews')]]),
  });
  assert.deepEqual(missingResources(partial), {
    routes: [{ name: '9080', neededBy: ['0.0.0.0_9080'] }],
    endpoints: [{ name: 'outbound|9080||reviews', neededBy: ['outbound|9080||reviews'] }],
  });
  assert.throws(
    () => buildSidecarConfig(partial),
    (e: unknown) =>
      isTrellisError(e, 'XDS_INCONSISTENT') &&
      e.message ===
        'RouteConfiguration "9080" is missing (used by Listener "0.0.0.0_9080")\n' +
          'ClusterLoadAssignment "outbound|9080||reviews" is missing (used by Cluster "outbound|9080||reviews")',
  );
  const complete = {
    ...partial,
    routes: new Map([['9080', routes9080]]),
    endpoints: new Map([['outbound|9080||reviews', reviewsEndpoints]]),
  };
  assert.deepEqual(missingResources(complete), { routes: [], endpoints: [] });
  const config = buildSidecarConfig({ ...complete, versions: { listeners: 'v7' } });
  assert.equal(config.versions.listeners, 'v7');
  assert.equal(config.versions.routes, '');
});

test('listeners are indexed by address for original-destination lookup; two listeners on one address are refused', () => {
  const config = buildSidecarConfig(
    input({
      listeners: new Map([
        ['0.0.0.0_9080', httpListener('0.0.0.0_9080', '0.0.0.0', 9080, '9080')],
        ['10.96.0.7_9080', httpListener('10.96.0.7_9080', '10.96.0.7', 9080, '9080')],
        ['[::]_9080', httpListener('[::]_9080', '::', 9080, '9080')],
      ]),
      routes: new Map([['9080', routes9080]]),
    }),
  );
  assert.equal(listenerForOriginalDestination(config, '10.96.0.7', 9080)?.name, '10.96.0.7_9080');
  assert.equal(listenerForOriginalDestination(config, '::ffff:10.96.0.7', 9080)?.name, '10.96.0.7_9080');
  assert.equal(listenerForOriginalDestination(config, '10.96.0.8', 9080)?.name, '0.0.0.0_9080');
  assert.equal(listenerForOriginalDestination(config, 'fd00::8', 9080)?.name, '[::]_9080');
  assert.equal(listenerForOriginalDestination(config, '10.96.0.8', 9081), undefined);
  assert.throws(
    () =>
      buildSidecarConfig(
        input({
          listeners: new Map([
            ['a', httpListener('a', '0.0.0.0', 9080, '9080')],
            ['b', httpListener('b', '0.0.0.0', 9080, '9080')],
          ]),
          routes: new Map([['9080', routes9080]]),
        }),
      ),
    /Listener "b" has the same address 0.0.0.0:9080 as Listener "a"/,
  );
});
