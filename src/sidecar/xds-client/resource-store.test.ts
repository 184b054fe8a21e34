// Unit tests: warming, held-back updates and the warming timeout.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResourceStore } from './resource-store.js';
import type { ResourceEntry } from './types.js';

interface Types {
  listener: string;
  route: string;
  cluster: string;
  endpoint: string;
}

const entry = (name: string, value: string, references: string[] = []): ResourceEntry<string> => ({
  name,
  version: value,
  value,
  any: { typeUrl: '', value: new Uint8Array() },
  references,
  updatedAt: 0,
});

test('a listener whose route config has not arrived is held back until it does', () => {
  const store = new ResourceStore<Types>({ warmingTimeoutMs: 15_000 });
  store.replaceAll('listener', [entry('l', 'l1', ['r'])]);
  assert.deepEqual(store.apply(0), []);
  assert.equal(store.applied('listener').size, 0);
  assert.deepEqual([...store.wanted('route')], ['r']);
  assert.equal(store.warm, false);
  store.upsert('route', [entry('r', 'r1')]);
  assert.deepEqual(store.apply(1).sort(), ['listener', 'route']);
  assert.equal(store.applied('listener').get('l')?.value, 'l1');
  assert.equal(store.warm, true);
});

test('an updated cluster waiting for new endpoints keeps serving its previous version', () => {
  const store = new ResourceStore<Types>({ warmingTimeoutMs: 15_000 });
  store.replaceAll('cluster', [entry('c', 'c1', ['e1'])]);
  store.upsert('endpoint', [entry('e1', 'e1')]);
  store.apply(0);
  store.replaceAll('cluster', [entry('c', 'c2', ['e2'])]);
  assert.deepEqual(store.apply(1), []);
  assert.equal(store.applied('cluster').get('c')?.value, 'c1');
  assert.deepEqual(
    [...store.wanted('endpoint')].sort(),
    ['e1', 'e2'],
    'both old and new endpoints stay wanted',
  );
  assert.equal(store.states('cluster')[0]?.state, 'warming');
  store.upsert('endpoint', [entry('e2', 'e2')]);
  store.apply(2);
  assert.equal(store.applied('cluster').get('c')?.value, 'c2');
  assert.deepEqual([...store.wanted('endpoint')], ['e2']);
});

test('what never arrives stops blocking after the warming timeout, as Envoy initial_fetch_timeout', () => {
  const store = new ResourceStore<Types>({ warmingTimeoutMs: 100 });
  store.replaceAll('cluster', [entry('c', 'c1', ['missing'])]);
  store.apply(1000);
  assert.equal(store.nextWarmingDeadline(), 1100);
  store.apply(1099);
  assert.equal(store.applied('cluster').size, 0);
  store.apply(1100);
  assert.equal(store.applied('cluster').get('c')?.value, 'c1');
  assert.equal(store.nextWarmingDeadline(), undefined);
});

test('a dependency known not to exist (delta removal) does not block', () => {
  const store = new ResourceStore<Types>({ warmingTimeoutMs: 15_000 });
  store.replaceAll('cluster', [entry('c', 'c1', ['gone'])]);
  store.remove('endpoint', ['gone']);
  store.apply(0);
  assert.equal(store.applied('cluster').get('c')?.value, 'c1');
});

test('removing a cluster removes it from what is served, and its endpoints stop being wanted', () => {
  const store = new ResourceStore<Types>({ warmingTimeoutMs: 15_000 });
  store.replaceAll('cluster', [entry('a', 'a', ['ea']), entry('b', 'b', ['eb'])]);
  store.upsert('endpoint', [entry('ea', 'ea'), entry('eb', 'eb')]);
  store.apply(0);
  store.replaceAll('cluster', [entry('a', 'a', ['ea'])]);
  store.apply(1);
  store.retain('endpoint', store.wanted('endpoint'));
  store.apply(2);
  assert.deepEqual([...store.applied('cluster').keys()], ['a']);
  assert.deepEqual([...store.applied('endpoint').keys()], ['ea']);
});
