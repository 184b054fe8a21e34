// Every kind has valid fixtures (which must validate without a message) and invalid ones (which must produce
// the messages their `# expect:` lines list, at the positions given).

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadText } from '../../src/api/load/load.js';
import { type ConfigMessage, formatMessage } from '../../src/api/messages.js';
import { KINDS } from '../../src/api/types/index.js';
import { validateResources } from '../../src/api/validate/validate.js';

const root = fileURLToPath(new URL('../../../test/fixtures/api/', import.meta.url));

function yamlFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => /\.(ya?ml|json)$/.test(f))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

function check(file: string): { text: string; messages: ConfigMessage[]; lines: string[] } {
  const text = readFileSync(file, 'utf8');
  const loaded = loadText(text, file);
  const messages = [...loaded.messages, ...validateResources(loaded.resources)];
  const lines = messages.map(
    (m) => `${m.position?.line ?? 0}:${m.position?.col ?? 0} ${formatMessage({ ...m, position: undefined })}`,
  );
  return { text, messages, lines };
}

test('every kind in KINDS has valid and invalid fixtures', () => {
  const missing: string[] = [];
  for (const kind of Object.keys(KINDS)) {
    if (yamlFiles(join(root, kind, 'valid')).length === 0) missing.push(`${kind}/valid`);
    if (yamlFiles(join(root, kind, 'invalid')).length === 0) missing.push(`${kind}/invalid`);
  }
  assert.deepEqual(missing, [], `add fixtures under test/fixtures/api/ for: ${missing.join(', ')}`);
});

for (const kind of Object.keys(KINDS)) {
  test(`${kind}: valid fixtures produce no message at all`, () => {
    for (const file of yamlFiles(join(root, kind, 'valid'))) {
      const { lines, messages } = check(file);
      assert.deepEqual(lines, [], `${file} should be clean`);
      assert.ok(messages.length === 0);
    }
  });

  test(`${kind}: invalid fixtures are refused with the expected messages and positions`, () => {
    for (const file of yamlFiles(join(root, kind, 'invalid'))) {
      const { text, messages, lines } = check(file);
      const expected = [...text.matchAll(/^# expect: (.+)$/gm)].map((m) => m[1]!.trim());
      assert.ok(expected.length > 0, `${file} has no "# expect:" line`);
      assert.ok(
        messages.some((m) => m.severity === 'error'),
        `${file} should be refused:\n${lines.join('\n')}`,
      );
      for (const e of expected) {
        assert.ok(
          lines.some((l) => l.includes(e)),
          `${file}: no message contains\n  ${e}\ngot:\n  ${lines.join('\n  ')}`,
        );
      }
    }
  });
}
