// Unit tests: response validation lists every reason; default references.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { pack } from '../../xds/any.js';
import {
  Cluster_DiscoveryType,
  type Cluster_LbPolicy,
  ClusterSchema,
} from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ListenerSchema } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { HttpConnectionManagerSchema } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { CLUSTER_TYPE, LISTENER_TYPE } from '../../xds/type-urls.js';
import { decodeResources } from './decode.js';
import { defaultReferences } from './references.js';
import type { ProtoResources, XdsDecoders } from './types.js';

const identity: XdsDecoders<ProtoResources> = {
  listener: (m) => m,
  route: (m) => m,
  cluster: (m) => {
    const reasons: string[] = [];
    if (m.connectTimeout && m.connectTimeout.seconds < 0n) reasons.push('connect_timeout is negative');
    if ((m.lbPolicy as number) === 99) reasons.push('lb_policy 99 is not supported');
    if (reasons.length) throw new Error(reasons.join('; '));
    return m;
  },
  endpoint: (m) => m,
};

const clusterAny = (init: Parameters<typeof create<typeof ClusterSchema>>[1]) =>
  create(AnySchema, { typeUrl: CLUSTER_TYPE, value: toBinary(ClusterSchema, create(ClusterSchema, init)) });

test('every rejected resource and every reason is listed, naming the resource', () => {
  const { entries, errors } = decodeResources({
    kind: 'cluster',
    resources: [
      { any: clusterAny({ name: 'ok' }), version: 'v' },
      {
        any: clusterAny({ name: 'bad', connectTimeout: { seconds: -1n }, lbPolicy: 99 as Cluster_LbPolicy }),
        version: 'v',
      },
      { any: clusterAny({ name: 'ok' }), version: 'v' },
      { any: create(AnySchema, { typeUrl: LISTENER_TYPE, value: new Uint8Array() }), version: 'v' },
      {
        any: create(AnySchema, { typeUrl: CLUSTER_TYPE, value: new Uint8Array([0xff, 0xff]) }),
        version: 'v',
      },
    ],
    decoders: identity,
    references: defaultReferences,
    now: 0,
  });
  assert.equal(entries.length, 1);
  assert.deepEqual(errors, [
    'cluster "bad": connect_timeout is negative; lb_policy 99 is not supported',
    'cluster "ok": appears more than once in one response',
    `cluster #3: type_url is ${LISTENER_TYPE}, expected ${CLUSTER_TYPE}`,
    errors[3],
  ]);
  assert.match(errors[3]!, /^cluster #4: malformed type.googleapis.com\/envoy.config.cluster.v3.Cluster: /);
});

test('references: EDS clusters need their service_name, listeners their HCM route configs', () => {
  const eds = create(ClusterSchema, {
    name: 'outbound|80||a.default.svc.cluster.local',
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { serviceName: 'a-eds' },
  });
  assert.deepEqual(defaultReferences.cluster(eds), ['a-eds']);
  const hcm = (route: string) =>
    pack(HttpConnectionManagerSchema, {
      routeSpecifier: { case: 'rds', value: { routeConfigName: route } },
    });
  const listener = create(ListenerSchema, {
    name: '0.0.0.0_80',
    apiListener: { apiListener: hcm('api') },
    filterChains: [{ filters: [{ name: 'hcm', configType: { case: 'typedConfig', value: hcm('80') } }] }],
    defaultFilterChain: { filters: [{ name: 'hcm', configType: { case: 'typedConfig', value: hcm('80') } }] },
  });
  assert.deepEqual(defaultReferences.listener(listener), ['api', '80']);
});
