// The schema library: messages for unknown fields, wrong types and ranges, and when refinements run.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arrayOf, type CheckContext, enumOf, int, object, opt, refine, report, req, str } from './schema.js';
import { suggest } from './suggest.js';

const ctx = (): CheckContext => ({ kind: 'Test', namespace: 'default', name: 't', issues: [] });

interface Pet {
  name: string;
  legs?: number;
  kind?: 'cat' | 'dog';
  tags?: string[];
}

const pet = object<Pet>({
  name: req(str({ nonEmpty: true })),
  legs: opt(int({ min: 0, max: 8 })),
  kind: opt(enumOf(['cat', 'dog'])),
  tags: opt(arrayOf(str())),
});

test('unknown fields get a suggestion; snake_case and transposed letters are recognised', () => {
  const c = ctx();
  pet.check({ name: 'rex', lges: 4, Kind: 'dog' }, ['spec'], c);
  assert.deepEqual(
    c.issues.map((i) => [i.path.join('.'), i.message, i.atKey]),
    [
      ['spec.lges', 'unknown field "lges"; did you mean "legs"?', true],
      ['spec.Kind', 'unknown field "Kind"; did you mean "kind"?', true],
    ],
  );
  assert.equal(suggest('http_status', ['httpStatus', 'grpcStatus']), 'httpStatus');
  assert.equal(suggest('zzzz', ['httpStatus']), undefined, 'no far-fetched suggestions');
});

test('wrong types, ranges, enums and missing required fields each say what was expected and what came', () => {
  const c = ctx();
  pet.check({ legs: '4', kind: 'parrot', tags: ['a', 2] }, [], c);
  assert.deepEqual(
    c.issues.map((i) => `${i.code} ${i.path.join('.')}: ${i.message}`),
    [
      'MissingField name: required field "name" is missing',
      'WrongType legs: must be an integer 0-8, got "4"',
      'InvalidValue kind: must be one of cat, dog, got "parrot"',
      'WrongType tags.1: must be a string, got 2',
    ],
  );
});

test('refinements run only on well-typed values, and every independent problem is reported at once', () => {
  let calls = 0;
  const checked = refine(pet, (p, path, c) => {
    calls++;
    if (p.kind === 'cat' && (p.legs ?? 4) !== 4) report(c, [...path, 'legs'], 'cats have 4 legs');
  });
  const c1 = ctx();
  checked.check({ name: 'tom', kind: 'cat', legs: 3, extra: true }, [], c1);
  assert.deepEqual(
    c1.issues.map((i) => i.message),
    ['unknown field "extra"', 'cats have 4 legs'],
  );
  const c2 = ctx();
  checked.check({ name: 'tom', kind: 'cat', legs: 'three' }, [], c2);
  assert.equal(calls, 1, 'not called when a field has the wrong type');
});
