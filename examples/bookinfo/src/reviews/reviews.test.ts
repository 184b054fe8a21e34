// Tests of the reviews JSON and of how the environment picks v1, v2 or v3.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reviewsOptionsFromEnv } from './config.js';
import { ratingsTimeoutMs, reviewsResponse } from './reviews.js';

const base = { podName: 'reviews-v2-1', clusterName: 'null' };

test('without ratings (v1) the reviews carry no rating at all', () => {
  const r = reviewsResponse('0', undefined, { ...base, ratingsEnabled: false, starColor: 'black' });
  assert.deepEqual(Object.keys(r), ['id', 'podname', 'clustername', 'reviews']);
  assert.equal(r.id, '0');
  assert.ok(r.reviews.every((x) => !('rating' in x)));
});

test('with ratings each reviewer gets stars in the colour, or the error when ratings failed or lacks them', () => {
  const ok = reviewsResponse(
    '0',
    { Reviewer1: 5, Reviewer2: 4 },
    { ...base, ratingsEnabled: true, starColor: 'red' },
  );
  assert.deepEqual(
    ok.reviews.map((r) => r.rating),
    [
      { stars: 5, color: 'red' },
      { stars: 4, color: 'red' },
    ],
  );
  const partial = reviewsResponse(
    '0',
    { Reviewer1: 2 },
    { ...base, ratingsEnabled: true, starColor: 'black' },
  );
  assert.deepEqual(partial.reviews[1]!.rating, { error: 'Ratings service is currently unavailable' });
  const failed = reviewsResponse('0', undefined, { ...base, ratingsEnabled: true, starColor: 'black' });
  assert.ok(failed.reviews.every((r) => r.rating?.error === 'Ratings service is currently unavailable'));
});

test('the environment picks the version like Istio’s image: black waits 10 s for ratings, red 2.5 s', () => {
  const v1 = reviewsOptionsFromEnv({ HOSTNAME: 'reviews-v1-x' });
  assert.deepEqual(
    [v1.ratingsEnabled, v1.starColor, v1.podName, v1.clusterName],
    [false, 'black', 'reviews-v1-x', 'null'],
  );
  const v2 = reviewsOptionsFromEnv({ ENABLE_RATINGS: 'TRUE', POD_NAME: 'p', HOSTNAME: 'h' });
  assert.deepEqual([v2.ratingsEnabled, v2.podName, v2.ratingsUrl], [true, 'p', 'http://ratings:9080']);
  const v3 = reviewsOptionsFromEnv({
    ENABLE_RATINGS: 'true',
    STAR_COLOR: 'red',
    SERVICES_DOMAIN: 'default.svc.cluster.local',
  });
  assert.equal(v3.ratingsUrl, 'http://ratings.default.svc.cluster.local:9080');
  assert.equal(ratingsTimeoutMs(v2.starColor), 10_000);
  assert.equal(ratingsTimeoutMs(v3.starColor), 2_500);
});
