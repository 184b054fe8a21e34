import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { anyFromJson, anyToJson, messageToJson, pack, unpackAny, unpackAs } from './any.js';
import { ClusterSchema } from './gen/envoy/config/cluster/v3/cluster_pb.js';
import { RouterSchema } from './gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { ROUTER_TYPE } from './type-urls.js';

test('an Any round-trips through binary and proto3 JSON with its @type', () => {
  const any = pack(RouterSchema, { suppressEnvoyHeaders: true });
  assert.equal(any.typeUrl, ROUTER_TYPE);
  assert.deepEqual(anyToJson(any), { '@type': ROUTER_TYPE, suppressEnvoyHeaders: true });
  const back = anyFromJson({ '@type': ROUTER_TYPE, suppressEnvoyHeaders: true });
  assert.equal(unpackAs(back, RouterSchema).suppressEnvoyHeaders, true);
  assert.equal(unpackAny(back)?.$typeName, 'envoy.extensions.filters.http.router.v3.Router');
});

test('unpackAs names both types when they differ', () => {
  const any = pack(RouterSchema, {});
  assert.throws(
    () => unpackAs(any, ClusterSchema),
    /expected type.googleapis.com\/envoy.config.cluster.v3.Cluster, got .*Router/,
  );
});

test('a cluster prints as Envoy JSON', () => {
  const c = create(ClusterSchema, { name: 'outbound|9080||reviews.default.svc.cluster.local' });
  assert.deepEqual(messageToJson(ClusterSchema, c), {
    name: 'outbound|9080||reviews.default.svc.cluster.local',
  });
});
