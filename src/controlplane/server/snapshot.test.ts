// Unit tests: encoding once, content versions, stitched responses and diffs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import {
  DeltaDiscoveryResponseSchema,
  DiscoveryResponseSchema,
} from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE } from '../../xds/type-urls.js';
import { concatBytes } from './bytes.js';
import { encodeResource } from './resource.js';
import { Snapshot } from './snapshot.js';

const cluster = (name: string, timeoutSeconds = 1) =>
  encodeResource(
    ClusterSchema,
    create(ClusterSchema, { name, connectTimeout: { seconds: BigInt(timeoutSeconds) } }),
  );
const cla = (name: string, port: number) =>
  encodeResource(
    ClusterLoadAssignmentSchema,
    create(ClusterLoadAssignmentSchema, {
      clusterName: name,
      endpoints: [
        {
          lbEndpoints: [
            {
              hostIdentifier: {
                case: 'endpoint',
                value: {
                  address: {
                    address: {
                      case: 'socketAddress',
                      value: { address: '10.0.0.1', portSpecifier: { case: 'portValue', value: port } },
                    },
                  },
                },
              },
            },
          ],
        },
      ],
    }),
  );

test('a response concatenated from cached chunks decodes exactly like one encoded whole', () => {
  const a = cluster('a');
  const b = cluster('b', 2);
  const header = toBinary(
    DiscoveryResponseSchema,
    create(DiscoveryResponseSchema, { versionInfo: 'v1', typeUrl: CLUSTER_TYPE, nonce: 'n1' }),
  );
  const stitched = fromBinary(DiscoveryResponseSchema, concatBytes([a.sotwChunk, b.sotwChunk, header]));
  const whole = create(DiscoveryResponseSchema, {
    versionInfo: 'v1',
    typeUrl: CLUSTER_TYPE,
    nonce: 'n1',
    resources: [a.any, b.any],
  });
  assert.deepEqual(toBinary(DiscoveryResponseSchema, stitched), toBinary(DiscoveryResponseSchema, whole));
  assert.equal(fromBinary(ClusterSchema, stitched.resources[1]!.value).name, 'b');

  const delta = fromBinary(DeltaDiscoveryResponseSchema, concatBytes([a.deltaChunk, b.deltaChunk]));
  assert.deepEqual(
    delta.resources.map((r) => [r.name, r.version, r.resource?.typeUrl]),
    [
      ['a', a.version, CLUSTER_TYPE],
      ['b', b.version, CLUSTER_TYPE],
    ],
  );
  assert.deepEqual(
    toBinary(AnySchema, delta.resources[0]!.resource!),
    toBinary(AnySchema, create(AnySchema, { typeUrl: CLUSTER_TYPE, value: a.bytes })),
  );
});

test('a message is encoded once; equal content has equal versions, different content different ones', () => {
  const msg = create(ClusterSchema, { name: 'x' });
  assert.equal(encodeResource(ClusterSchema, msg), encodeResource(ClusterSchema, msg));
  assert.equal(cluster('x').version, cluster('x').version);
  assert.notEqual(cluster('x').version, cluster('x', 5).version);
});

test('type versions depend only on content, so rebuilding a snapshot changes only what changed', () => {
  const s1 = Snapshot.create([cluster('a'), cluster('b'), cla('a', 80), cla('b', 80)]);
  const s2 = Snapshot.create([cluster('b'), cluster('a'), cla('a', 80), cla('b', 81)]);
  assert.equal(s1.version(CLUSTER_TYPE), s2.version(CLUSTER_TYPE));
  assert.notEqual(s1.version(ENDPOINT_TYPE), s2.version(ENDPOINT_TYPE));
  const shared = s2.sharingWith(s1);
  assert.equal(shared.get(CLUSTER_TYPE), s1.get(CLUSTER_TYPE), 'unchanged type keeps its cached set');
  assert.equal(shared.get(ENDPOINT_TYPE), s2.get(ENDPOINT_TYPE));
  const diff = s2.get(ENDPOINT_TYPE).diffFrom(s1.get(ENDPOINT_TYPE));
  assert.deepEqual(
    diff.changed.map((r) => r.name),
    ['b'],
  );
  assert.deepEqual(diff.removed, []);
  assert.equal(
    s2.get(ENDPOINT_TYPE).diffFrom(s1.get(ENDPOINT_TYPE)),
    diff,
    'diffs are computed once per pair',
  );
});

test('withResources replaces one type and keeps the others', () => {
  const s1 = Snapshot.create([cluster('a'), cla('a', 80)]);
  const s2 = s1.withResources(ENDPOINT_TYPE, []);
  assert.equal(s2.get(CLUSTER_TYPE), s1.get(CLUSTER_TYPE));
  assert.equal(s2.get(ENDPOINT_TYPE).size, 0);
  assert.deepEqual(s2.get(ENDPOINT_TYPE).diffFrom(s1.get(ENDPOINT_TYPE)).removed, ['a']);
});

test('a snapshot refuses two different resources with one name, naming it', () => {
  assert.throws(
    () => Snapshot.create([cluster('a'), cluster('a', 9)]),
    /two different .*Cluster resources are named "a"/,
  );
});
