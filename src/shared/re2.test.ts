// RE2 semantics in JavaScript: full matches, flags, classes, and the constructs RE2 rejects.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTrellisError } from './errors.js';
import { checkRe2, compileRe2 } from './re2.js';

const full = (p: string) => compileRe2(p, { fullMatch: true });

test('full-match semantics: Envoy safe_regex must match the whole string', () => {
  assert.equal(full('/api/v1/products/[1-9]{1,2}').test('/api/v1/products/12'), true);
  assert.equal(full('/api/v1/products/[1-9]{1,2}').test('/api/v1/products/123'), false);
  assert.equal(full('/api/v1/products/[1-9]{1,2}').test('x/api/v1/products/1'), false);
  assert.equal(compileRe2('b').test('abc'), true, 'without fullMatch a pattern may match anywhere');
  assert.equal(full('a|b').test('a'), true, 'alternation stays inside the anchors');
  assert.equal(full('a|b').test('ab'), false);
});

test('named groups in both RE2 spellings are kept as JavaScript named groups', () => {
  const m = compileRe2('^/users/(?P<id>[0-9]+)/(?<tab>\\w+)$').exec('/users/42/posts');
  assert.equal(m?.groups?.id, '42');
  assert.equal(m?.groups?.tab, 'posts');
  assert.match(checkRe2('(?P<x>a)(?P<x>b)') ?? '', /duplicate capture group name: x/);
});

test('\\A and \\z anchor to the text, and $ does not match before a final newline', () => {
  assert.equal(compileRe2('\\Afoo\\z').test('foo'), true);
  assert.equal(compileRe2('\\Afoo\\z').test('foo\n'), false);
  assert.equal(compileRe2('foo$').test('foo\n'), false);
  assert.match(checkRe2('foo\\Z') ?? '', /invalid escape sequence: \\Z/);
});

test('inline flags: (?i) at the start, in the middle, scoped (?i:...) and turned off again', () => {
  assert.equal(full('(?i)hello').test('HeLLo'), true);
  assert.equal(full('ab(?i)cd').test('abCD'), true);
  assert.equal(full('ab(?i)cd').test('ABcd'), false, 'flags apply only after they are set');
  assert.equal(full('(?i:a)b').test('Ab'), true);
  assert.equal(full('(?i:a)b').test('AB'), false);
  assert.equal(full('(?i)a(?-i)b').test('Ab'), true);
  assert.equal(full('(?i)a(?-i)b').test('AB'), false);
  assert.equal(full('(?i)[a-c]+').test('AbC'), true, 'case folding applies to classes too');
  assert.equal(full('(?i)k').test('\u212a'), true, 'the Kelvin sign folds to k, as in RE2');
  assert.equal(full('(?i)\\p{Lu}+').test('aB'), true, 'folding applies to Unicode case classes');
  assert.equal(full('\\p{Lu}+').test('aB'), false);
  assert.equal(full('(?s)a.b').test('a\nb'), true);
  assert.equal(full('a.b').test('a\nb'), false, 'without s, . does not match a newline');
  assert.equal(compileRe2('(?m)^b$').test('a\nb\nc'), true);
  assert.equal(compileRe2('^b$').test('a\nb\nc'), false);
  assert.equal(compileRe2('(?U)a+').exec('aaa')?.[0], 'a', 'U makes repetition lazy');
  assert.equal(compileRe2('(?U)a+?').exec('aaa')?.[0], 'aaa', 'and lazy greedy again');
  assert.equal(compileRe2('x', { ignoreCase: true }).test('X'), true);
});

test('POSIX, Perl and Unicode classes follow RE2 (ASCII for \\d \\s \\w)', () => {
  assert.equal(full('[[:alpha:]]+').test('abcXYZ'), true);
  assert.equal(full('[[:alpha:]]+').test('abc1'), false);
  assert.equal(full('[[:^digit:]]+').test('abc'), true);
  assert.equal(full('[[:xdigit:]]+').test('0fA9'), true);
  assert.equal(full('\\d+').test('٣'), false, '\\d is ASCII only in RE2');
  assert.equal(full('\\s').test('\u00a0'), false, '\\s is [\\t\\n\\f\\r ] in RE2');
  assert.equal(full('\\s').test('\v'), false);
  assert.equal(full('\\w+').test('héllo'), false);
  assert.equal(full('\\pL+').test('héllo'), true);
  assert.equal(full('\\p{Greek}+').test('αβγ'), true);
  assert.equal(full('\\P{Greek}').test('α'), false);
  assert.equal(full('\\p{^Greek}').test('a'), true);
  assert.equal(full('\\pN+').test('42٣'), true);
  assert.equal(full('[\\d\\p{Lu}]+').test('A1B2'), true);
  assert.equal(full('[^\\D]+').test('123'), true);
  assert.equal(full('[a\\W]+').test('a-!'), true);
  assert.match(checkRe2('\\p{Klingon}') ?? '', /invalid character class range/);
  assert.match(checkRe2('[[:foo:]]') ?? '', /invalid character class range/);
});

test('literals, escapes and classes that JavaScript spells differently', () => {
  assert.equal(full('a{,2}').test('a{,2}'), true, 'a brace that starts no repeat is a literal');
  assert.equal(full('[]a]+').test(']a]'), true, '] first in a class is a literal');
  assert.equal(full('[a-]+').test('a-a'), true);
  assert.equal(full('\\Q.*+\\E').test('.*+'), true);
  assert.equal(full('\\x41\\x{1F600}').test('A😀'), true);
  assert.equal(full('\\101').test('A'), true, 'octal escapes need two or more digits after \\1-\\7');
  assert.equal(full('\\0').test('\0'), true);
  assert.equal(full('a\\-b\\!').test('a-b!'), true, 'punctuation may always be escaped');
  assert.equal(full('/api/v1/(products|reviews)/[0-9]+').test('/api/v1/reviews/0'), true);
  assert.equal(full('.').test('😀'), true, 'RE2 matches code points, not UTF-16 units');
  assert.equal(full('\\b\\w+\\b').test('word'), true);
  assert.equal(full('(?:\\b)+x').test('x'), true, 'assertions can be repeated');
});

test('constructs RE2 rejects are reported, not silently translated', () => {
  const cases: [string, RegExp][] = [
    ['(a)\\1', /backreferences are not supported/],
    ['(?=a)b', /invalid or unsupported Perl syntax: `\(\?=`/],
    ['(?!a)b', /unsupported Perl syntax/],
    ['(?<=a)b', /unsupported Perl syntax/],
    ['(?<!a)b', /unsupported Perl syntax/],
    ['(?>a)', /unsupported Perl syntax/],
    ['(?P=name)', /unsupported Perl syntax/],
    ['\\k<n>', /invalid escape sequence: \\k/],
    ['a**', /bad repetition operator: \*\*/],
    ['a*+', /bad repetition operator: \*\+/],
    ['*a', /missing argument to repetition operator: \*/],
    ['a|*', /missing argument to repetition operator/],
    ['a{1001}', /invalid repeat count/],
    ['a{3,2}', /invalid repeat count/],
    ['(ab', /missing closing \)/],
    ['ab)', /unexpected \)/],
    ['[ab', /missing closing \]/],
    ['[z-a]', /invalid character class range: z-a/],
    ['\\y', /invalid escape sequence: \\y/],
    ['\\8', /backreferences/],
    ['abc\\', /trailing backslash/],
    ['(?z)a', /unsupported Perl syntax/],
  ];
  for (const [pattern, expected] of cases) {
    const problem = checkRe2(pattern);
    assert.ok(problem, `RE2 rejects ${pattern}`);
    assert.match(problem, expected, pattern);
  }
  for (const ok of [
    '',
    'a*?',
    'a??',
    '(a)(b)',
    'a{2}',
    'a{2,}',
    'a{2,5}?',
    '[^a-z]',
    '(?i)abc',
    '(?i:a)',
    '(?:)',
    '^$',
    '[\\]]',
    '.*',
  ]) {
    assert.equal(checkRe2(ok), undefined, `RE2 accepts ${JSON.stringify(ok)}`);
  }
});

test('compileRe2 throws a coded error naming the pattern', () => {
  assert.throws(
    () => compileRe2('(?=x)'),
    (e) => isTrellisError(e, 'InvalidRegex') && e.message.includes('"(?=x)"'),
  );
});

test('global flag for rewrites: every match is replaced', () => {
  assert.equal('/a/b/c'.replace(compileRe2('/', { global: true }), '_'), '_a_b_c');
});
