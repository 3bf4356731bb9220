/**
 * A table for the terminal: columns as wide as their widest cell up to `maxWidth` (longer cells
 * cut with "…"), two spaces between, a dashed line under the header. Cells come from logs, so
 * their control characters are shown as escapes.
 */
import { printable } from './terminal-text.js';

export function textTable(header: string[], rows: string[][], maxWidth: number): string {
  const shown = rows.map((r) => r.map(printable));
  // Widths by a loop, not Math.max(...rows): spreading 130,000 values overflows the call stack.
  const widths = header.map((h, i) => {
    let w = printable(h).length;
    for (const r of shown) if (w < maxWidth) w = Math.max(w, r[i].length);
    return Math.min(maxWidth, w);
  });
  const line = (row: string[]) =>
    row
      .map((c, i) => (c.length > widths[i] ? `${c.slice(0, widths[i] - 1)}…` : c.padEnd(widths[i])))
      .join('  ');
  return `${[line(header.map(printable)), widths.map((w) => '-'.repeat(w)).join('  '), ...shown.map(line)].join('\n')}\n`;
}
