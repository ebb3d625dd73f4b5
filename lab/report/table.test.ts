import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { center, markdownTable, right } from './table.js';

describe('markdownTable', () => {
  it('writes the header, the alignment rule and one line a row; an empty cell stays one space wide', () => {
    assert.equal(
      markdownTable(
        ['dataset', right('MB/s'), center('ok')],
        [
          ['LOGS', '1,234.5', '✓'],
          ['SILESIA', '', '✗'],
        ],
      ),
      '| dataset | MB/s | ok |\n|---|---:|:-:|\n| LOGS | 1,234.5 | ✓ |\n| SILESIA | | ✗ |',
    );
  });

  it('keeps a row on one line when a cell holds a line break', () => {
    assert.equal(markdownTable(['a'], [['one\r\ntwo\nthree']]), '| a |\n|---|\n| one two three |');
  });

  it('refuses a row with a different number of cells than columns', () => {
    assert.throws(() => markdownTable(['a', 'b'], [['1', '2'], ['3']]), /table row 2 has 1 cells for 2 columns/);
  });
});
