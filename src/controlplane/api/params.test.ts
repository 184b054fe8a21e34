import assert from 'node:assert/strict';
import { test } from 'node:test';
import { niceStep, parseScope, parseTime, rangeParams, tagParams } from './params.js';

const NOW = 1_700_002_800_000;
const q = (s: string) => new URLSearchParams(s);

test('times: epoch ms, epoch seconds, RFC 3339, now and relative', () => {
  assert.equal(parseTime('1700002800000', NOW), NOW);
  assert.equal(parseTime('1700002800', NOW), NOW);
  assert.equal(parseTime('1700002800.5', NOW), NOW + 500);
  assert.equal(parseTime('2023-11-14T23:00:00Z', NOW), NOW);
  assert.equal(parseTime('now', NOW), NOW);
  assert.equal(parseTime('-15m', NOW), NOW - 900_000);
  assert.equal(parseTime('now-1h30m', NOW), NOW - 5_400_000);
  assert.equal(parseTime('yesterday', NOW), undefined);
  assert.equal(parseTime('-soon', NOW), undefined);
});

test('ranges default to the last 15 minutes in about 120 round steps, aligned to the step', () => {
  assert.deepEqual(rangeParams(q(''), NOW), { startMs: NOW - 900_000, endMs: NOW, stepMs: 10_000 });
  const r = rangeParams(q('start=-1h&step=1m'), NOW + 25_000);
  assert.deepEqual(r, { startMs: NOW - 3_600_000, endMs: NOW, stepMs: 60_000 });
  assert.equal(rangeParams(q('start=-10m&step=30'), NOW).stepMs, 30_000, 'a bare number is seconds');
  assert.throws(() => rangeParams(q('start=-1h&step=1s'), NOW), /3601 points requested .* raise step/);
  assert.throws(() => rangeParams(q('step=0s'), NOW), /not a positive duration/);
  assert.equal(niceStep(7000), 10_000);
  assert.equal(niceStep(7_200_001), 10_800_000);
});

test('scopes: service, workload and edge; anything else says what is accepted', () => {
  assert.deepEqual(parseScope('service:reviews.default.svc.cluster.local'), {
    service: 'reviews.default.svc.cluster.local',
  });
  assert.deepEqual(parseScope('workload:default/reviews-v1'), {
    workload: 'reviews-v1',
    namespace: 'default',
  });
  assert.deepEqual(parseScope('edge:default/reviews-v2->ratings.default.svc.cluster.local'), {
    sourceWorkload: 'reviews-v2',
    sourceNamespace: 'default',
    service: 'ratings.default.svc.cluster.local',
  });
  for (const bad of [null, '', 'service:', 'workload:reviews', 'edge:default/reviews-v2', 'pod:x']) {
    assert.throws(() => parseScope(bad), /must be service:<host>, workload:<namespace>\/<name> or edge:/);
  }
});

test('tags: key:value split at the first colon, or a JSON object for keys with colons', () => {
  assert.deepEqual(tagParams(q('tag=http.url:http://x/y&tag=response_flags:UH')), {
    'http.url': 'http://x/y',
    response_flags: 'UH',
  });
  assert.deepEqual(tagParams(q(`tags=${encodeURIComponent('{"guid:x-request-id":"abc"}')}`)), {
    'guid:x-request-id': 'abc',
  });
  assert.equal(tagParams(q('')), undefined);
  assert.throws(() => tagParams(q('tags=[1]')), /not a JSON object/);
});
