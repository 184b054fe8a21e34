// Kind names as kubectl accepts them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isRuntimeKind, resolveKind } from './kinds.js';

test('kinds resolve from kind, plural, short name or plural.group, in any case', () => {
  for (const [name, kind] of [
    ['deploy', 'Deployment'],
    ['Deployments', 'Deployment'],
    ['deployment.apps', 'Deployment'],
    ['svc', 'Service'],
    ['po', 'Pod'],
    ['pods', 'Pod'],
    ['vs', 'VirtualService'],
    ['virtualservices.networking.istio.io', 'VirtualService'],
    ['dr', 'DestinationRule'],
    ['gw', 'Gateway'],
    ['AuthorizationPolicy', 'AuthorizationPolicy'],
    ['ns', 'Namespace'],
  ]) {
    assert.equal(resolveKind(name!).kind, kind, name);
  }
  assert.throws(() => resolveKind('widgets'), /unknown resource type "widgets"; known: .*virtualservices/);
  assert.throws(() => resolveKind('deployment.networking.istio.io'), /unknown resource type/);
});

test('the runtime owns the Kubernetes kinds; Istio kinds belong to the control plane', () => {
  assert.equal(isRuntimeKind('Deployment'), true);
  assert.equal(isRuntimeKind('Service'), true);
  assert.equal(isRuntimeKind('VirtualService'), false);
  assert.equal(isRuntimeKind('Gateway'), false);
});
