import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layeredLayout } from './graph-layout.js';

test('callers sit left of what they call, each column centred, and the layout is deterministic', () => {
  const nodes = ['productpage', 'reviews', 'details', 'reviews-v1', 'reviews-v2', 'ratings'];
  const edges = [
    { source: 'productpage', target: 'reviews' },
    { source: 'productpage', target: 'details' },
    { source: 'reviews', target: 'reviews-v1' },
    { source: 'reviews', target: 'reviews-v2' },
    { source: 'reviews-v2', target: 'ratings' },
  ];
  const p = layeredLayout(nodes, edges, { columnGap: 100, rowGap: 10 });
  assert.equal(p.get('productpage')!.x, 0);
  assert.equal(p.get('reviews')!.x, 100);
  assert.equal(p.get('reviews-v2')!.x, 200);
  assert.equal(p.get('ratings')!.x, 300);
  assert.deepEqual(
    [p.get('details')!.y, p.get('reviews')!.y].sort((a, b) => a - b),
    [-5, 5],
  );
  assert.deepEqual(
    layeredLayout([...nodes].reverse(), [...edges].reverse(), { columnGap: 100, rowGap: 10 }),
    p,
  );
});

test('cycles and self-loops do not hang the layout; every node gets a position', () => {
  const p = layeredLayout(
    ['a', 'b', 'c'],
    [
      { source: 'a', target: 'b' },
      { source: 'b', target: 'c' },
      { source: 'c', target: 'a' },
      { source: 'c', target: 'c' },
      { source: 'a', target: 'ghost' },
    ],
  );
  assert.equal(p.size, 3);
  assert.ok(p.get('a')!.x < p.get('b')!.x && p.get('b')!.x < p.get('c')!.x);
});
