// Whatever shape a resource has, validation and analysis explain it: they never throw and never hit an
// internal error. Random specs for every kind, and valid fixtures with one field replaced by random data.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { analyze } from '../../src/api/analyze/analyze.js';
import { loadText } from '../../src/api/load/load.js';
import { unpositioned } from '../../src/api/load/loaded-resource.js';
import { KINDS } from '../../src/api/types/index.js';
import type { Resource } from '../../src/api/types/meta.js';
import { validateResource } from '../../src/api/validate/validate.js';

const root = fileURLToPath(new URL('../../../test/fixtures/api/', import.meta.url));

function envelope(kind: string, spec: unknown): Resource {
  const info = KINDS[kind as keyof typeof KINDS];
  return {
    apiVersion: info.group ? `${info.group}/${info.versions[0]}` : info.versions[0]!,
    kind,
    metadata: { name: 'x', namespace: 'default' },
    spec,
  } as Resource;
}

function noInternalErrors(r: Resource): void {
  const messages = validateResource(r);
  const internal = messages.filter((m) => m.code === 'InternalError');
  assert.deepEqual(internal, [], JSON.stringify(r.spec));
  // Analysis takes resources that passed validation (as `trellis analyze` does).
  if (messages.some((m) => m.severity === 'error')) return;
  for (const m of analyze([unpositioned(r)])) assert.notEqual(m.code, 'IST0001', m.message);
}

test('random specs of every kind are explained, never thrown', () => {
  for (const kind of Object.keys(KINDS)) {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (spec) => noInternalErrors(envelope(kind, spec))),
      { numRuns: 150, seed: 7 },
    );
  }
});

/** Every path to a value inside `v`. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return [at, ...v.flatMap((x, i) => paths(x, [...at, i]))];
  if (v && typeof v === 'object') return [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))];
  return [at];
}

function replaced(v: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? replaced(x, rest, value) : x));
  return {
    ...(v as Record<string, unknown>),
    [head!]: replaced((v as Record<string, unknown>)[head!], rest, value),
  };
}

test('valid fixtures with one field replaced by anything are explained, never thrown', () => {
  const resources: Resource[] = [];
  for (const kind of Object.keys(KINDS)) {
    const dir = join(root, kind, 'valid');
    for (const f of readdirSync(dir))
      resources.push(...loadText(readFileSync(join(dir, f), 'utf8'), f).resources.map((l) => l.resource));
  }
  fc.assert(
    fc.property(fc.constantFrom(...resources), fc.nat(), fc.jsonValue({ maxDepth: 2 }), (r, pick, value) => {
      const all = paths(r.spec);
      const spec = replaced(r.spec, all[pick % all.length]!, value);
      noInternalErrors({ ...r, spec });
    }),
    { numRuns: 3000, seed: 11 },
  );
});
