/** Escapes text from tool output or configs for a markdown table cell (no HTML, pipes or line breaks). */
export function escapeCell(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|]/g, (ch) => `\\${ch}`)
    .replace(/@/g, '@\u200b')
    .replace(/[\r\n]+/g, ' ');
}
