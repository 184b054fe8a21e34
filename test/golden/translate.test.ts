import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { test } from 'node:test';
import { caseDirs, goldenPath, translateCase, writeGolden } from './harness.js';

const update = process.env.UPDATE_GOLDEN === '1';

for (const dir of caseDirs()) {
  test(`translation golden: ${basename(dir)}`, () => {
    const out = translateCase(dir);
    for (const [proxy, resources] of Object.entries(out)) {
      const path = goldenPath(dir, proxy);
      const actual = JSON.parse(JSON.stringify(resources));
      if (update) writeGolden(dir, proxy, actual);
      assert.ok(existsSync(path), `${path} is missing: run with UPDATE_GOLDEN=1 and review the file`);
      const expected = JSON.parse(readFileSync(path, 'utf8'));
      assert.deepEqual(
        actual,
        expected,
        `${basename(dir)}/${proxy}: translation differs from ${path} (UPDATE_GOLDEN=1 to accept)`,
      );
    }
  });
}
