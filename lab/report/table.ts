/*
 * Markdown tables from cell arrays: one place that writes the pipes, the alignment row and checks the column count.
 * Cells are markdown already (a caller escapes raw text with escapeCell); a line break in a cell would end the row,
 * so it becomes a space here.
 */

/** A column: its header (markdown), left-aligned, or with how it aligns. */
export type Column = string | { header: string; align: 'right' | 'center' };

export const right = (header: string): Column => ({ header, align: 'right' });
export const center = (header: string): Column => ({ header, align: 'center' });

const RULES = { left: '---', right: '---:', center: ':-:' } as const;

function tableRow(cells: readonly string[]): string {
  return `|${cells.map((cell) => (cell === '' ? ' ' : ` ${cell.replace(/[\r\n]+/g, ' ')} `)).join('|')}|`;
}

/** The table's lines: header, alignment rule, one line a row. */
export function tableLines(columns: readonly Column[], rows: readonly (readonly string[])[]): string[] {
  rows.forEach((cells, index) => {
    if (cells.length !== columns.length)
      throw new Error(`table row ${index + 1} has ${cells.length} cells for ${columns.length} columns`);
  });
  const headers = columns.map((column) => (typeof column === 'string' ? column : column.header));
  const rule = columns.map((column) => RULES[typeof column === 'string' ? 'left' : column.align]);
  return [tableRow(headers), `|${rule.join('|')}|`, ...rows.map(tableRow)];
}

export function markdownTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  return tableLines(columns, rows).join('\n');
}
