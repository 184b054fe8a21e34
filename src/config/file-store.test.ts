// FileConfigStore: the shared conformance suite, plus what only a folder of files does (edits, broken files).

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ConfigMessage } from '../api/messages.js';
import { FileConfigStore } from './file-store.js';
import type { StoreEvent } from './store.js';
import { reviewsRule, storeConformance } from './store-conformance.js';

storeConformance('FileConfigStore', async ({ clock }) => {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-store-'));
  // The conformance suite drives a manual clock; the watcher is not needed to observe the store's own writes.
  const store = await FileConfigStore.open({ dir, clock, watch: false });
  return { store, clock, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

const DR = (subsets: string[]) => `# the reviews subsets
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
${subsets.map((s) => `  - name: ${s}\n    labels:\n      version: ${s}`).join('\n')}
`;

const VS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
`;

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'trellis-files-'));
}

/** Resolves with the next event the store emits that satisfies `pred` (the watcher is real: no fixed sleeps). */
function nextEvent(store: FileConfigStore, pred: (e: StoreEvent) => boolean): Promise<StoreEvent> {
  return new Promise((resolve) => {
    const stop = store.watch((e) => {
      if (pred(e)) {
        stop();
        resolve(e);
      }
    });
  });
}

function nextProblems(
  store: FileConfigStore,
  pred: (p: readonly ConfigMessage[]) => boolean,
): Promise<readonly ConfigMessage[]> {
  return new Promise((resolve) => {
    const stop = store.onProblems((p) => {
      if (pred(p)) {
        stop();
        resolve(p);
      }
    });
  });
}

const subsetsOf = (store: FileConfigStore) =>
  (
    (store.get({ kind: 'DestinationRule', namespace: 'default', name: 'reviews' })?.spec as {
      subsets: { name: string }[];
    }) ?? { subsets: [] }
  ).subsets.map((s) => s.name);

test('FileConfigStore reads the folder at open, and an edit on disk becomes a modified event', async () => {
  const dir = await tempDir();
  const store = await (async () => {
    await writeFile(join(dir, 'dr.yaml'), `${DR(['v1'])}---\n${VS}`);
    return FileConfigStore.open({ dir, debounceMs: 20 });
  })();
  try {
    assert.deepEqual(subsetsOf(store), ['v1']);
    assert.equal(store.list().length, 2);
    const modified = nextEvent(store, (e) => e.type === 'modified' && e.resource.kind === 'DestinationRule');
    await writeFile(join(dir, 'dr.yaml'), `${DR(['v1', 'v2'])}---\n${VS}`);
    const e = await modified;
    assert.equal(e.resource.metadata.generation, 2);
    assert.deepEqual(subsetsOf(store), ['v1', 'v2']);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('FileConfigStore: an edit that breaks a file is reported and the last good version keeps serving', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'dr.yaml'), DR(['v1']));
  const store = await FileConfigStore.open({ dir, debounceMs: 20 });
  try {
    const reported = nextProblems(store, (p) => p.length > 0);
    await writeFile(join(dir, 'dr.yaml'), DR(['v1', 'V 2']));
    const problems = await reported;
    assert.match(problems[0]!.message, /subset name "V 2" must be a lowercase DNS label/);
    assert.equal(problems[0]!.position?.file, join(dir, 'dr.yaml'));
    assert.equal(problems[0]!.position?.line, 12);
    assert.deepEqual(subsetsOf(store), ['v1'], 'the previous good version still serves');

    const fixed = nextEvent(store, (e) => e.type === 'modified');
    const cleared = nextProblems(store, (p) => p.length === 0);
    await writeFile(join(dir, 'dr.yaml'), DR(['v1', 'v2']));
    await Promise.all([fixed, cleared]);
    assert.deepEqual(subsetsOf(store), ['v1', 'v2']);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('FileConfigStore: removing a file deletes its resources; a syntax error at open is reported, not thrown', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'dr.yaml'), DR(['v1']));
  await writeFile(join(dir, 'broken.yaml'), 'kind: [unclosed\n');
  const store = await FileConfigStore.open({ dir, debounceMs: 20 });
  try {
    assert.equal(store.list().length, 1);
    assert.match(store.problems()[0]!.message, /YAML/);
    const deleted = nextEvent(store, (e) => e.type === 'deleted');
    await rm(join(dir, 'dr.yaml'));
    assert.equal((await deleted).resource.metadata.name, 'reviews');
    assert.equal(store.list().length, 0);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('FileConfigStore: apply rewrites only its own document in a multi-document file and writes new ones to new files', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'bookinfo.yaml'), `${DR(['v1'])}---\n# routes\n${VS}`);
  const store = await FileConfigStore.open({ dir, watch: false });
  try {
    const result = await store.apply([reviewsRule(['v1', 'v3'])]);
    assert.equal(result.ok, true);
    const text = await readFile(join(dir, 'bookinfo.yaml'), 'utf8');
    assert.match(text, /name: v3/);
    assert.match(text, /# routes\n/, 'the other document keeps its comment');
    assert.match(text, /kind: VirtualService/);
    assert.doesNotMatch(
      text,
      /resourceVersion|creationTimestamp/,
      'server-set fields stay out of user files',
    );
    await store.apply([reviewsRule(['v1'], { namespace: 'prod' })]);
    await store.delete([{ kind: 'VirtualService', namespace: 'default', name: 'reviews' }]);

    const reopened = await FileConfigStore.open({ dir, watch: false });
    assert.deepEqual(
      reopened.list().map((r) => `${r.kind} ${r.metadata.namespace}/${r.metadata.name}`),
      ['DestinationRule default/reviews', 'DestinationRule prod/reviews'],
    );
    await reopened.close();
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('FileConfigStore: a resource defined in two files is served from the first and reported for the second', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'a.yaml'), DR(['v1']));
  await writeFile(join(dir, 'b.yaml'), DR(['v2']));
  await writeFile(
    join(dir, 'c.yaml'),
    'apiVersion: networking.istio.io/v1\nkind: VirtualServce\nmetadata: {name: x}\n',
  );
  const store = await FileConfigStore.open({ dir, watch: false });
  try {
    assert.deepEqual(subsetsOf(store), ['v1']);
    const problems = store.problems().map((p) => `${p.position?.file.slice(dir.length + 1)}: ${p.message}`);
    assert.deepEqual(problems.sort(), [
      `b.yaml: also defined in ${join(dir, 'a.yaml')}; this definition is ignored`,
      'c.yaml: unknown kind "VirtualServce"; did you mean "VirtualService"? (Trellis reads VirtualService, DestinationRule, Gateway, ServiceEntry, WorkloadEntry, Sidecar, EnvoyFilter, PeerAuthentication, AuthorizationPolicy, RequestAuthentication, Telemetry, Namespace, ServiceAccount, Service, ConfigMap, Deployment)',
    ]);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('FileConfigStore: apply refuses to rewrite a file that currently has errors, and changes nothing', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'dr.yaml'), DR(['v1']));
  const store = await FileConfigStore.open({ dir, watch: false });
  try {
    await writeFile(join(dir, 'dr.yaml'), `${DR(['v1'])}  - name: BAD\n`);
    await store.rescan();
    const result = await store.apply([reviewsRule(['v1', 'v2'])]);
    assert.equal(result.ok, false);
    assert.match(result.messages[0]!.message, /cannot update .*dr\.yaml: it has errors; fix the file first/);
    assert.deepEqual(subsetsOf(store), ['v1']);
    assert.match(await readFile(join(dir, 'dr.yaml'), 'utf8'), /BAD/, 'the broken file was not touched');
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
