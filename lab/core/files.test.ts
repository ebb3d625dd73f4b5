import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStrictJson } from './files.js';

describe('strict JSON', () => {
  it('parses what JSON.parse parses, to the same value', () => {
    const text = '{"a":[1,{"b":2},{"b":3}],"c":{"d":null,"e":"x"},"f":[{"g":{"h":[]}}]}';
    assert.deepEqual(parseStrictJson(text), JSON.parse(text));
  });

  it('refuses a key given twice in one object, saying which and where', () => {
    assert.throws(
      () => parseStrictJson('{"ratio": 0.9, "ratio": 1.2}'),
      /the key "ratio" appears twice in one object \(second at character 16\)/,
    );
    assert.throws(
      () => parseStrictJson('{"entries": [{"ok": true, "ok": false}]}'),
      /the key "ok" appears twice .*inside entries/,
    );
    // The same key in sibling objects is fine.
    assert.deepEqual(parseStrictJson('[{"a":1},{"a":2}]'), [{ a: 1 }, { a: 2 }]);
  });

  it('still refuses what is not JSON', () => {
    assert.throws(() => parseStrictJson('{"a": 1,}'), SyntaxError);
    assert.throws(() => parseStrictJson('{"a": 1'), SyntaxError);
  });
});
