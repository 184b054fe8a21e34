// Pod names to sidecar admin addresses for `trellis proxy-config`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MeshStatus } from '../../runtime/mesh.js';
import type { PodStatus } from '../../runtime/pod.js';
import { adminOfPod, isAdminAddress } from './proxy-config.js';

function pod(name: string, deployment: string, ready: boolean, sidecar = true): PodStatus {
  return {
    name,
    deployment,
    ready,
    ...(sidecar && {
      sidecar: { admin: `unix:/s/${name}.sock`, adminSocket: `/s/${name}.sock`, stats: '', readiness: '' },
    }),
  } as PodStatus;
}

const status = {
  mesh: 'm',
  pods: [
    pod('reviews-v1-aa-0', 'reviews-v1', false),
    pod('reviews-v1-aa-1', 'reviews-v1', true),
    pod('legacy-bb-0', 'legacy', true, false),
  ],
  ingress: { admin: 'unix:/s/gw.sock' },
} as unknown as MeshStatus;

test('admin addresses are told apart from pod names', () => {
  for (const a of ['unix:/x.sock', '/x.sock', 'http://127.0.0.1:15000', '127.0.0.1:15000'])
    assert.equal(isAdminAddress(a), true, a);
  for (const p of ['reviews-v1-aa-0', 'deploy/reviews-v1', 'istio-ingressgateway'])
    assert.equal(isAdminAddress(p), false, p);
});

test('a pod name, deploy/<name> (a ready pod first) and the ingress gateway resolve to their admin sockets', () => {
  assert.equal(adminOfPod(status, 'reviews-v1-aa-0'), 'unix:/s/reviews-v1-aa-0.sock');
  assert.equal(adminOfPod(status, 'deploy/reviews-v1'), 'unix:/s/reviews-v1-aa-1.sock');
  assert.equal(adminOfPod(status, 'istio-ingressgateway'), 'unix:/s/gw.sock');
});

test('unknown pods and pods without a sidecar are refused with what exists', () => {
  assert.throws(
    () => adminOfPod(status, 'ratings'),
    /no pod "ratings" \(pods: reviews-v1-aa-0, reviews-v1-aa-1, legacy-bb-0\)/,
  );
  assert.throws(() => adminOfPod(status, 'deploy/legacy'), /"legacy-bb-0" has no sidecar/);
});
