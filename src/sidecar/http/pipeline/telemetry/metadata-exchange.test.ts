// Metadata exchange headers: Istio's Struct keys, a round trip, and the endpoint-metadata fallback.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromBinary, toJson } from '@bufbuild/protobuf';
import { StructSchema } from '@bufbuild/protobuf/wkt';
import {
  decodePeerMetadata,
  encodePeerMetadata,
  podNameFromNodeId,
  workloadFromEndpointMetadata,
} from './metadata-exchange.js';

const local = {
  nodeId: 'sidecar~10.0.0.7~reviews-v2-5b4d-x8z.default~default.svc.cluster.local',
  workloadName: 'reviews-v2',
  namespace: 'default',
  app: 'reviews',
  version: 'v2',
  canonicalService: 'reviews',
  canonicalRevision: 'v2',
  cluster: 'Kubernetes',
  meshId: 'cluster.local',
};

test("the header is base64 of a google.protobuf.Struct with Istio's keys", () => {
  const h = encodePeerMetadata({ ...local, appContainers: 'reviews' });
  assert.equal(h.id, local.nodeId);
  const json = toJson(StructSchema, fromBinary(StructSchema, Buffer.from(h.value, 'base64')));
  assert.deepEqual(json, {
    APP_CONTAINERS: 'reviews',
    CLUSTER_ID: 'Kubernetes',
    LABELS: {
      app: 'reviews',
      'service.istio.io/canonical-name': 'reviews',
      'service.istio.io/canonical-revision': 'v2',
      version: 'v2',
    },
    MESH_ID: 'cluster.local',
    NAME: 'reviews-v2-5b4d-x8z',
    NAMESPACE: 'default',
    OWNER: 'kubernetes://apis/apps/v1/namespaces/default/deployments/reviews-v2',
    WORKLOAD_NAME: 'reviews-v2',
  });
});

test('decoding gives back the workload facts metric labels are made of', () => {
  const facts = decodePeerMetadata(encodePeerMetadata(local).value)!;
  assert.equal(facts.workloadName, 'reviews-v2');
  assert.equal(facts.namespace, 'default');
  assert.equal(facts.app, 'reviews');
  assert.equal(facts.version, 'v2');
  assert.equal(facts.canonicalService, 'reviews');
  assert.equal(facts.canonicalRevision, 'v2');
  assert.equal(facts.cluster, 'Kubernetes');
});

test('garbage decodes to nothing rather than throwing', () => {
  assert.equal(decodePeerMetadata('%%%not base64'), undefined);
});

test('pod names from node ids; the endpoint fallback reads name;namespace;service;revision;cluster', () => {
  assert.equal(podNameFromNodeId(local.nodeId, 'default'), 'reviews-v2-5b4d-x8z');
  assert.deepEqual(workloadFromEndpointMetadata('ratings-v1;default;ratings;v1;Kubernetes'), {
    workloadName: 'ratings-v1',
    namespace: 'default',
    canonicalService: 'ratings',
    canonicalRevision: 'v1',
    cluster: 'Kubernetes',
  });
  assert.equal(workloadFromEndpointMetadata('too;short'), undefined);
});
