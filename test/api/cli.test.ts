// `trellis validate` and `trellis analyze` as a user runs them: exit codes, summaries, JSON, and no stack
// traces whatever the input.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runAnalyze } from '../../src/cli/commands/analyze.js';
import { runValidate } from '../../src/cli/commands/validate.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const bookinfo = join(repo, 'examples/bookinfo/networking');
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trellis-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function validate(inputs: string[], opts: { output?: 'text' | 'json'; stdin?: string } = {}) {
  let out = '';
  const code = await runValidate({
    inputs,
    output: opts.output ?? 'text',
    write: (t) => {
      out += t;
    },
    ...(opts.stdin !== undefined ? { stdin: Readable.from([Buffer.from(opts.stdin)]) } : {}),
  });
  return { code, out };
}

test("Istio's Bookinfo networking samples validate cleanly, with a one-line summary", async () => {
  const { code, out } = await validate([bookinfo]);
  assert.equal(code, 0);
  assert.equal(out, '36 resources in 20 files are valid\n');
});

test('a broken Bookinfo route is refused with file:line:col, resource and field path', async () => {
  const file = join(dir, 'reviews-80-20.yaml');
  await writeFile(
    file,
    `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 80
    - destination:
        host: reviews
        subset: v2
      weight: "20"
`,
  );
  const { code, out } = await validate([file]);
  assert.equal(code, 1);
  assert.equal(
    out.split('\n')[0],
    `${file}:17:15: VirtualService default/reviews: spec.http[0].route[1].weight: must be an integer 0-100, got "20"`,
  );
  assert.match(out, /^1 error in 1 resource from 1 file$/m);
});

test('-o json gives scripts every message with its structure', async () => {
  const { code, out } = await validate(['-'], {
    output: 'json',
    stdin: 'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec: {servers: []}\n',
  });
  assert.equal(code, 1);
  const parsed = JSON.parse(out) as {
    valid: boolean;
    resources: number;
    messages: { code: string; path: string; position: { file: string; line: number } }[];
  };
  assert.equal(parsed.valid, false);
  assert.equal(parsed.resources, 1);
  assert.equal(parsed.messages[0]!.path, 'spec.servers');
  assert.equal(parsed.messages[0]!.position.file, '<stdin>');
  assert.equal(parsed.messages[0]!.position.line, 4);
});

test('garbage, binary, empty and missing inputs are explained, never thrown', async () => {
  await writeFile(join(dir, 'garbage.yaml'), '{{{ not yaml ::: [');
  await writeFile(join(dir, 'binary.yaml'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]));
  await writeFile(join(dir, 'latin1.yaml'), Buffer.from([0x6b, 0x69, 0x6e, 0x64, 0x3a, 0x20, 0xe9]));
  await writeFile(join(dir, 'empty.yaml'), '');
  await writeFile(join(dir, 'scalar.json'), '42');
  await mkdir(join(dir, 'no-yaml'));
  await writeFile(join(dir, 'no-yaml', 'notes.txt'), 'hello');
  const cases: [string, RegExp][] = [
    [join(dir, 'garbage.yaml'), /garbage\.yaml:1:\d+: YAML: /],
    [join(dir, 'binary.yaml'), /binary\.yaml is a binary file, not YAML or JSON/],
    [join(dir, 'latin1.yaml'), /latin1\.yaml is not UTF-8 text/],
    [join(dir, 'scalar.json'), /must be a Kubernetes resource .* got 42/],
    [join(dir, 'no-yaml'), /no \*\.yaml, \*\.yml or \*\.json files in .*no-yaml/],
    [join(dir, 'missing.yaml'), /cannot read .*missing\.yaml: no such file or directory/],
  ];
  for (const [input, expected] of cases) {
    const { code, out } = await validate([input]);
    assert.equal(code, 1, input);
    assert.match(out, expected);
    assert.doesNotMatch(out, /\n\s+at /, 'no stack trace');
  }
  const empty = await validate([join(dir, 'empty.yaml')]);
  assert.equal(empty.out, '0 resources in 1 file are valid\n');
});

test('an unreadable file is reported with the reason', {
  skip: process.getuid?.() === 0 ? 'root can read any file' : false,
}, async () => {
  const file = join(dir, 'secret.yaml');
  await writeFile(file, 'kind: Namespace\n');
  await chmod(file, 0);
  const { code, out } = await validate([file]);
  assert.equal(code, 1);
  assert.match(out, /cannot read .*secret\.yaml: permission denied/);
});

test('a symlink loop in a folder does not hang the walk', async () => {
  const loop = join(dir, 'loop');
  await mkdir(loop);
  await writeFile(join(loop, 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n');
  await symlink(loop, join(loop, 'again'));
  const { code, out } = await validate([loop]);
  assert.equal(code, 0);
  assert.equal(out, '1 resource in 1 file is valid\n');
});

test('analyze reports a shadowed rule and a missing subset with codes, positions and fixes', async () => {
  let out = '';
  const code = await runAnalyze({
    inputs: [
      join(bookinfo, 'fault-injection-details-v1.yaml'),
      join(bookinfo, 'virtual-service-reviews-test-v2.yaml'),
    ],
    output: 'text',
    write: (t) => {
      out += t;
    },
  });
  assert.equal(code, 1, 'a missing subset is an error');
  assert.match(
    out,
    /^Warning \[IST0130\] \(VirtualService default\/details .*fault-injection-details-v1\.yaml:\d+\) VirtualService rule #1 not used .* Fix: /m,
  );
  assert.match(
    out,
    /^Error \[IST0101\] \(VirtualService default\/reviews .*virtual-service-reviews-test-v2\.yaml:\d+\) Referenced host\+subset in destinationrule not found: "reviews\+v2" Fix: create a DestinationRule/m,
  );
});

test('analyze exits 0 when there are only warnings', async () => {
  let out = '';
  const code = await runAnalyze({
    inputs: [
      join(bookinfo, 'destination-rule-all.yaml'),
      join(bookinfo, 'virtual-service-all-v1.yaml'),
      join(bookinfo, 'egress-rule-google-apis.yaml'),
    ],
    output: 'text',
    write: (t) => {
      out += t;
    },
  });
  assert.equal(code, 0, out);
  assert.match(out, /Warning \[IST0129\]/);
});

test('the trellis binary prints messages, not stack traces, and exits 1 on invalid input', () => {
  const bin = join(repo, 'bin/trellis.js');
  const garbage = spawnSync(process.execPath, [bin, 'validate', '-f', '-'], {
    input: '\u0000\u0001binary',
    encoding: 'utf8',
  });
  assert.equal(garbage.status, 1);
  assert.match(garbage.stdout, /<stdin> is a binary file/);
  assert.doesNotMatch(garbage.stdout + garbage.stderr, /\n\s+at /);
  const analyze = spawnSync(process.execPath, [bin, 'analyze', '-f', bookinfo, '-o', 'json'], {
    encoding: 'utf8',
  });
  assert.equal(analyze.stderr, '');
  assert.ok(JSON.parse(analyze.stdout).analysis.length > 0);
  const badFlag = spawnSync(process.execPath, [bin, 'validate', '-f', bookinfo, '-o', 'xml'], {
    encoding: 'utf8',
  });
  assert.notEqual(badFlag.status, 0);
  assert.match(badFlag.stderr, /--output must be text or json/);
  assert.doesNotMatch(badFlag.stderr, /\n\s+at /);
});
