/**
 * Derived command-line fields that make detections robust to the ways a command can be written.
 * Both are matching aids, never shown as the command that ran:
 *  - `normalizeCommandLine`: cmd.exe caret escapes and double quotes removed, switch introducers
 *    (`/`, en and em dashes at the start of a word) written `-`, runs of spaces and tabs made one;
 *  - `decodeEncodedCommand`: the script given to PowerShell's `-EncodedCommand` (any of its
 *    abbreviations: `-e`, `-ec`, `-enc`, …), Base64 of UTF-16LE, decoded and normalized.
 */

/** Strings are capped before matching: a 64 KiB command line is already absurd. */
const MAX = 64 * 1024;

export function normalizeCommandLine(cmd: string): string {
  const s = cmd.length > MAX ? cmd.slice(0, MAX) : cmd;
  return s
    .replace(/[\^"]/g, '')
    .replace(/[\s\u00a0]+/g, ' ')
    .replace(/(^| )[/\u2013\u2014\u2015](?=[A-Za-z?])/g, '$1-')
    .trim();
}

/**
 * `-EncodedCommand` and every prefix PowerShell accepts for it (it resolves `-e` and `-en…` to
 * EncodedCommand, `-ec` is its alias), then the Base64 argument, optionally quoted.
 */
const ENCODED =
  /(?:^| )-(?:ec|e(?:n(?:c(?:o(?:d(?:e(?:d(?:c(?:o(?:m(?:m(?:a(?:n(?:d)?)?)?)?)?)?)?)?)?)?)?)?)?)[ :]+'?([A-Za-z0-9+/]{8,}={0,2})/i;

export function decodeEncodedCommand(cmd: string): string | undefined {
  const script = encodedScript(cmd);
  return script === undefined ? undefined : normalizeCommandLine(script);
}

/** The script behind `-EncodedCommand` as it was written (for display); undefined when none. */
export function encodedScript(cmd: string): string | undefined {
  const m = ENCODED.exec(normalizeCommandLine(cmd));
  if (!m) return undefined;
  const bytes = Buffer.from(m[1], 'base64');
  if (bytes.length < 4 || bytes.length % 2 !== 0) return undefined;
  const script = bytes.toString('utf16le');
  // UTF-16LE of a script is mostly printable; random Base64 that happens to follow -e is not.
  let printable = 0;
  for (let i = 0; i < script.length; i++) {
    const c = script.charCodeAt(i);
    if ((c >= 0x20 && c < 0x7f) || c === 9 || c === 10 || c === 13 || c >= 0xa0) printable++;
  }
  if (printable < script.length * 0.9) return undefined;
  return script;
}
