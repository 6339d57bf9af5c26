// Template expressions of mapping rules: captures, arithmetic, table lookups, misses, syntax errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capturesOf, fillTemplate, parseTemplate, templateNames, TemplateSyntaxError } from '../../src/mapping/template.js';

const tables = { start: [1, 2, 4, 7, 11, 13, 16], convbn: { '0': 'conv', '1': 'bn' }, last: 16 };

test('captures, arithmetic and table lookups fill a target name', () => {
  const m = /^blocks\.(?<s>\d+)\.(?<j>\d+)\.(?<m>[01])\.(\w+)$/.exec('blocks.3.2.1.weight')!;
  const caps = capturesOf(m);
  assert.equal(fillTemplate(parseTemplate('features.{start[s] + j}.{convbn[m]}.{$4}'), caps, tables), 'features.9.bn.weight');
  assert.equal(fillTemplate(parseTemplate('x.{(s + 1) * 2 - j}'), caps, tables), 'x.6');
  assert.equal(fillTemplate(parseTemplate('features.{last}.conv'), caps, tables), 'features.16.conv');
  assert.equal(fillTemplate(parseTemplate('no holes'), caps, tables), 'no holes');
});

test('a lookup that misses, or arithmetic on text, makes the template not apply', () => {
  const caps = capturesOf(/^(?<s>\d+)\.(?<p>\w+)$/.exec('9.weight')!);
  assert.equal(fillTemplate(parseTemplate('{start[s]}'), caps, tables), undefined);
  assert.equal(fillTemplate(parseTemplate('{convbn[p]}'), caps, tables), undefined);
  assert.equal(fillTemplate(parseTemplate('{p + 1}'), caps, tables), undefined);
});

test('templateNames lists captures and tables a template reads', () => {
  assert.deepEqual(templateNames(parseTemplate('features.{start[s] + j}.{convbn[m]}.{$1}')), ['start', 's', 'j', 'convbn', 'm', '$1']);
});

test('syntax errors say what is wrong', () => {
  const cases: Array<[string, string]> = [
    ['a.{i +}', 'expression ends early in {i +}'],
    ['a.{i', "unclosed '{' in 'a.{i'"],
    ['a.{}', 'empty expression in {}'],
    ['a.{start[i}', "missing ']' in {start[i}"],
    ['a.{i / 2}', "unexpected '/ 2' in {i / 2}"],
    ['a.{$1[i]}', "'$1' is a capture, not a table in {$1[i]}"],
    ['a}', "unbalanced braces in 'a}'"],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseTemplate(text), (e: Error) => e instanceof TemplateSyntaxError && e.message === message, text);
  }
});
