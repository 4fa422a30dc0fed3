// Where a body stops being JSON (src/http/json-position.ts): the offset V8 leaves out of some of
// its messages, and -1 for every valid text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describePosition, jsonErrorOffset } from '../../src/http/json-position.ts';

const broken: [string, number][] = [
  ['{"from": x}', 9],
  ['[1,2,]', 5],
  ['{"a":1}}', 7],
  ['{"a":1,}', 7],
  ['"abc', 4],
  ['tru', 3],
  ['{"a":"\\q"}', 7],
  ['{"a":"\\u12G4"}', 8],
  ['-', 1],
  ['01', 1],
  ['{"a" 1}', 5],
  [' ', 1],
  ['[1 2]', 3],
  ['"a\tb"', 2],
  ['{"a":1}\n\n x', 10],
];

for (const [text, offset] of broken) {
  test(`${JSON.stringify(text)} breaks at ${offset}`, () => assert.equal(jsonErrorOffset(text), offset));
}

test('valid JSON has no error offset, however deep', () => {
  for (const text of ['{}', '[]', '0', '-1.5e+3', '"\\u00e9\\n"', ' {"a":[1,{"b":null}],"c":true, "d": false} ', '['.repeat(100_000) + ']'.repeat(100_000)]) {
    assert.equal(jsonErrorOffset(text), -1, text.slice(0, 40));
  }
});

test('a position names its line and column', () => {
  assert.equal(describePosition('{"a":1}\n\n x', 10), 'at position 10 (line 3, column 2)');
  assert.equal(describePosition('{"a" 1}', 5), 'at position 5 (line 1, column 6)');
});
