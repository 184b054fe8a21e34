// The conformance suite every ConfigStore implementation must pass (run from each implementation's test file).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../api/types/meta.js';
import { ManualClock } from '../shared/clock.js';
import type { ConfigStore, StoreEvent } from './store.js';

export interface StoreFixture {
  store: ConfigStore;
  clock: ManualClock;
  cleanup(): Promise<void>;
}

export type StoreFactory = (opts: { clock: ManualClock }) => Promise<StoreFixture>;

export function reviewsRule(
  subsets: string[],
  opts: { namespace?: string; labels?: Record<string, string> } = {},
): Resource {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: {
      name: 'reviews',
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
      ...(opts.labels ? { labels: opts.labels } : {}),
    },
    spec: { host: 'reviews', subsets: subsets.map((s) => ({ name: s, labels: { version: s } })) },
  };
}

export function routeTo(name: string, subset: string, namespace?: string): Resource {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    spec: { hosts: [name], http: [{ route: [{ destination: { host: name, subset } }] }] },
  };
}

const ref = (kind: string, name: string, namespace = 'default') => ({ kind, name, namespace });

async function withStore(factory: StoreFactory, fn: (f: StoreFixture) => Promise<void>): Promise<void> {
  const f = await factory({ clock: new ManualClock(1_700_000_000_000) });
  try {
    await fn(f);
  } finally {
    await f.store.close();
    await f.cleanup();
  }
}

/** Registers the shared suite under `name`. */
export function storeConformance(name: string, factory: StoreFactory): void {
  test(`${name}: apply stores resources, defaulting the namespace; get and list find them by kind and namespace`, () =>
    withStore(factory, async ({ store }) => {
      const result = await store.apply([
        reviewsRule(['v1']),
        routeTo('reviews', 'v1'),
        routeTo('ratings', 'v1', 'prod'),
      ]);
      assert.equal(result.ok, true, JSON.stringify(result.messages));
      assert.equal(store.get(ref('DestinationRule', 'reviews'))?.metadata.namespace, 'default');
      assert.deepEqual(
        store.list({ kind: 'VirtualService' }).map((r) => `${r.metadata.namespace}/${r.metadata.name}`),
        ['default/reviews', 'prod/ratings'],
      );
      assert.deepEqual(
        store.list({ namespace: 'prod' }).map((r) => r.metadata.name),
        ['ratings'],
      );
      assert.equal(store.list().length, 3);
      assert.equal(store.get(ref('VirtualService', 'nope')), undefined);
    }));

  test(`${name}: versions: resourceVersion is the revision, generation follows the spec, creationTimestamp stays`, () =>
    withStore(factory, async ({ store, clock }) => {
      const first = await store.apply([reviewsRule(['v1'])]);
      const created = store.get(ref('DestinationRule', 'reviews'))!;
      assert.equal(created.metadata.resourceVersion, String(first.revision));
      assert.equal(created.metadata.generation, 1);
      assert.equal(created.metadata.creationTimestamp, new Date(1_700_000_000_000).toISOString());
      assert.ok(created.metadata.uid);

      const again = await store.apply([reviewsRule(['v1'])]);
      assert.deepEqual(again.events, [], 'applying the same resource changes nothing');
      assert.equal(again.revision, first.revision);

      clock.advance(60_000);
      const changed = await store.apply([reviewsRule(['v1', 'v2'])]);
      const updated = store.get(ref('DestinationRule', 'reviews'))!;
      assert.ok(changed.revision > first.revision);
      assert.equal(updated.metadata.resourceVersion, String(changed.revision));
      assert.equal(updated.metadata.generation, 2);
      assert.equal(updated.metadata.creationTimestamp, created.metadata.creationTimestamp);
      assert.equal(updated.metadata.uid, created.metadata.uid);

      await store.apply([reviewsRule(['v1', 'v2'], { labels: { team: 'books' } })]);
      const relabelled = store.get(ref('DestinationRule', 'reviews'))!;
      assert.equal(relabelled.metadata.generation, 2, 'a metadata-only change does not bump the generation');
      assert.notEqual(relabelled.metadata.resourceVersion, updated.metadata.resourceVersion);
    }));

  test(`${name}: a batch with one invalid resource changes nothing and says what is wrong`, () =>
    withStore(factory, async ({ store }) => {
      await store.apply([reviewsRule(['v1'])]);
      const before = store.revision;
      const bad = routeTo('ratings', 'v1');
      (bad.spec as { http: { timeout?: string }[] }).http[0]!.timeout = 'five seconds';
      const result = await store.apply([reviewsRule(['v1', 'v2']), bad]);
      assert.equal(result.ok, false);
      assert.deepEqual(result.events, []);
      assert.equal(store.revision, before);
      assert.deepEqual(
        store.get(ref('DestinationRule', 'reviews'))!.spec,
        reviewsRule(['v1']).spec,
        'the valid half was not applied',
      );
      const [m] = result.messages.filter((x) => x.severity === 'error');
      assert.equal(m!.path, 'spec.http[0].timeout');
      assert.deepEqual(m!.resource, ref('VirtualService', 'ratings'));
      assert.match(m!.message, /must be a duration/);
    }));

  test(`${name}: the same resource twice in one batch is refused`, () =>
    withStore(factory, async ({ store }) => {
      const result = await store.apply([reviewsRule(['v1']), reviewsRule(['v2'])]);
      assert.equal(result.ok, false);
      assert.match(result.messages.map((m) => m.message).join(), /more than once in the batch/);
      assert.equal(store.list().length, 0);
    }));

  test(`${name}: watchers see every change with its resource and revision; one batch is one revision`, () =>
    withStore(factory, async ({ store }) => {
      const events: StoreEvent[] = [];
      const stop = store.watch((e) => events.push(e));
      const r1 = await store.apply([reviewsRule(['v1']), routeTo('reviews', 'v1')]);
      assert.deepEqual(events.map((e) => [e.type, e.resource.kind, e.revision]).sort(), [
        ['added', 'DestinationRule', r1.revision],
        ['added', 'VirtualService', r1.revision],
      ]);
      const r2 = await store.apply([routeTo('reviews', 'v2')]);
      assert.deepEqual(
        events.slice(2).map((e) => [e.type, e.revision]),
        [['modified', r2.revision]],
      );
      assert.equal(
        (events[2]!.resource.spec as { http: { route: { destination: { subset: string } }[] }[] }).http[0]!
          .route[0]!.destination.subset,
        'v2',
      );
      const r3 = await store.delete([ref('VirtualService', 'reviews')]);
      assert.deepEqual(
        events.slice(3).map((e) => [e.type, e.resource.metadata.name, e.revision]),
        [['deleted', 'reviews', r3.revision]],
      );
      stop();
      await store.apply([routeTo('ratings', 'v1')]);
      assert.equal(events.length, 4, 'no events after the watcher stopped');
    }));

  test(`${name}: deleting a missing resource deletes nothing of the batch`, () =>
    withStore(factory, async ({ store }) => {
      await store.apply([reviewsRule(['v1'])]);
      const result = await store.delete([ref('DestinationRule', 'reviews'), ref('VirtualService', 'ghost')]);
      assert.equal(result.ok, false);
      assert.deepEqual(
        result.messages.map((m) => [m.code, m.resource?.name]),
        [['NotFound', 'ghost']],
      );
      assert.ok(store.get(ref('DestinationRule', 'reviews')));
      const ok = await store.delete([ref('DestinationRule', 'reviews')]);
      assert.equal(ok.ok, true);
      assert.equal(store.get(ref('DestinationRule', 'reviews')), undefined);
    }));

  test(`${name}: a snapshot is an immutable view at one revision`, () =>
    withStore(factory, async ({ store }) => {
      await store.apply([reviewsRule(['v1'])]);
      const snap = store.snapshot();
      const rev = snap.revision;
      await store.apply([reviewsRule(['v1', 'v2']), routeTo('reviews', 'v2')]);
      assert.equal(snap.revision, rev);
      assert.equal(snap.list().length, 1);
      assert.equal(
        (snap.get(ref('DestinationRule', 'reviews'))!.spec as { subsets: unknown[] }).subsets.length,
        1,
      );
      assert.equal(store.snapshot().list().length, 2);
      const stored = snap.get(ref('DestinationRule', 'reviews'))!;
      assert.throws(() => {
        (stored.metadata as { name: string }).name = 'changed';
      }, TypeError);
      assert.ok(Object.isFrozen(stored.spec));
    }));

  test(`${name}: fields without a value are absent, and a resource without spec has an empty one`, () =>
    withStore(factory, async ({ store }) => {
      const result = await store.apply([
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: 'shop', labels: null },
        } as unknown as Resource,
        {
          ...routeTo('reviews', 'v1'),
          spec: {
            hosts: ['reviews'],
            gateways: null,
            http: [{ match: null, route: [{ destination: { host: 'reviews' } }] }],
          },
        },
      ]);
      assert.equal(result.ok, true, JSON.stringify(result.messages));
      assert.deepEqual(store.get({ kind: 'Namespace', namespace: '', name: 'shop' })?.spec, {});
      assert.equal(
        'labels' in store.get({ kind: 'Namespace', namespace: '', name: 'shop' })!.metadata,
        false,
      );
      const vs = store.get(ref('VirtualService', 'reviews'))!.spec as Record<string, unknown>;
      assert.equal('gateways' in vs, false);
      assert.deepEqual((vs.http as Record<string, unknown>[])[0], {
        route: [{ destination: { host: 'reviews' } }],
      });
    }));

  test(`${name}: the store keeps its own copy of what was applied`, () =>
    withStore(factory, async ({ store }) => {
      const input = reviewsRule(['v1']);
      await store.apply([input]);
      (input.spec as { host: string }).host = 'mutated';
      assert.equal((store.get(ref('DestinationRule', 'reviews'))!.spec as { host: string }).host, 'reviews');
    }));
}
