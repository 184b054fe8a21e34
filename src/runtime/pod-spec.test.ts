// Pod plans from Deployments: names, policies, locality.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deployment } from '../api/types/index.js';
import { podLocality, podPlans } from './pod-spec.js';

function deployment(
  template: Partial<Deployment['spec']['template']['spec']> = {},
  labels: Record<string, string> = { app: 'web' },
  annotations?: Record<string, string>,
): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web-v1', namespace: 'shop' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels, ...(annotations ? { annotations } : {}) },
        spec: { containers: [{ name: 'web', command: ['x'] }], ...template },
      },
    },
  };
}

test('one pod per replica, named <deployment>-<template hash>-<n>; a new template changes the hash', () => {
  const plans = podPlans(deployment(), '/m');
  assert.deepEqual(
    plans.map((p) => p.replica),
    [0, 1],
  );
  assert.match(plans[0]!.name, /^web-v1-[0-9a-f]{6}-0$/);
  assert.equal(plans[0]!.key, `shop.${plans[0]!.name}`);
  assert.equal(plans[0]!.serviceAccount, 'default');
  assert.equal(plans[0]!.restartPolicy, 'Always');
  assert.equal(plans[0]!.hasSidecar, true);
  assert.equal(plans[0]!.terminationGraceMs, 10_000);
  const changed = podPlans(deployment({ serviceAccountName: 'web' }), '/m');
  assert.notEqual(changed[0]!.templateHash, plans[0]!.templateHash);
  assert.equal(podPlans(deployment(), '/m')[0]!.name, plans[0]!.name, 'stable for the same template');
});

test('restart policy, grace period and sidecar injection come from the template', () => {
  const p = podPlans(
    deployment(
      { restartPolicy: 'OnFailure', terminationGracePeriodSeconds: 0 } as never,
      { app: 'web' },
      { 'sidecar.istio.io/inject': 'false' },
    ),
    '/m',
  )[0]!;
  assert.equal(p.restartPolicy, 'OnFailure');
  assert.equal(p.terminationGraceMs, 0);
  assert.equal(p.hasSidecar, false);
});

test('locality: istio-locality first, then the topology labels', () => {
  assert.equal(podLocality({ 'istio-locality': 'region1.zone2.sub3' }), 'region1/zone2/sub3');
  assert.equal(
    podLocality({ 'topology.kubernetes.io/region': 'r', 'topology.kubernetes.io/zone': 'z' }),
    'r/z/',
  );
  assert.equal(podLocality({ app: 'x' }), undefined);
});
