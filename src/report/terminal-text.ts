/**
 * Text from logs, rules, queries and file names shown on a terminal. A log field can carry escape
 * sequences that recolour, retitle or rewrite the responder's screen (ESC ] 0; … BEL sets the
 * window title; ESC [ 2 J clears it) and bidirectional overrides that reorder what is read. They
 * are shown as visible escapes (`\x1b`, `\u202e`) instead of being sent to the terminal.
 */

// C0 controls but tab and newline, DEL, C1 controls, bidi embedding/override/isolate marks.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// The same plus tab and newline, for text that must stay on one line (a table cell).
const CONTROL_OR_BREAK = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function visible(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  if (c === '\r') return '\\r';
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Text for one line of a table or message: every control character and line break made visible. */
export function printable(text: string): string {
  return text.replace(CONTROL_OR_BREAK, visible);
}

/** Text of several lines (a message with a caret under a query): line breaks and tabs kept. */
export function printableLines(text: string): string {
  return text.replace(CONTROL, visible);
}
