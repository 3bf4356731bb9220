/**
 * Format sniffing from content: the first bytes decide, the file name only breaks ties. Logs
 * arrive renamed, extension-less, gzipped inside zips and saved as UTF-16 by Windows tools.
 */
export type Container = 'gzip' | 'zip' | 'evtx';
export type TextFormat = 'json' | 'xml' | 'csv';
export type Encoding = 'utf8' | 'utf16le' | 'utf16be';

export type Sniffed =
  | { kind: 'container'; container: Container }
  | { kind: 'text'; format: TextFormat; encoding: Encoding; bomLength: number; delimiter?: string }
  | { kind: 'unknown'; reason: string };

export function sniffBytes(head: Buffer, name: string): Sniffed {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b)
    return { kind: 'container', container: 'gzip' };
  if (head.length >= 4 && head.readUInt32LE(0) === 0x04034b50) return { kind: 'container', container: 'zip' };
  if (head.length >= 4 && head.readUInt32LE(0) === 0x06054b50)
    return { kind: 'unknown', reason: 'empty zip archive' };
  if (head.length >= 8 && head.toString('latin1', 0, 8) === 'ElfFile\0')
    return { kind: 'container', container: 'evtx' };
  if (head.length === 0) return { kind: 'unknown', reason: 'empty file' };

  let encoding: Encoding = 'utf8';
  let bomLength = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) bomLength = 3;
  else if (head[0] === 0xff && head[1] === 0xfe) {
    encoding = 'utf16le';
    bomLength = 2;
  } else if (head[0] === 0xfe && head[1] === 0xff) {
    encoding = 'utf16be';
    bomLength = 2;
  } else if (head.length >= 4 && head[0] !== 0 && head[1] === 0 && head[2] !== 0 && head[3] === 0) {
    encoding = 'utf16le'; // UTF-16 without a BOM, as PowerShell's Out-File writes
  }
  const text = decodeHead(head.subarray(bomLength), encoding);
  if (text.includes('\0'))
    return { kind: 'unknown', reason: 'binary content (NUL bytes) in a file that is not EVTX, zip or gzip' };

  const trimmed = text.replace(/^[\s\uFEFF]+/, '');
  if (trimmed === '') return { kind: 'unknown', reason: 'file holds only white space' };
  const first = trimmed[0];
  if (first === '{' || first === '[') return { kind: 'text', format: 'json', encoding, bomLength };
  if (first === '<') {
    if (/<Event[\s>]/.test(trimmed)) return { kind: 'text', format: 'xml', encoding, bomLength };
    return { kind: 'unknown', reason: 'XML without <Event> elements' };
  }
  const delimiter = csvDelimiter(trimmed, name);
  if (delimiter) return { kind: 'text', format: 'csv', encoding, bomLength, delimiter };
  return { kind: 'unknown', reason: 'not JSON, XML, CSV, EVTX, zip or gzip' };
}

function decodeHead(bytes: Buffer, encoding: Encoding): string {
  if (encoding === 'utf16be') return new TextDecoder('utf-16be').decode(bytes);
  return bytes.toString(encoding === 'utf16le' ? 'utf16le' : 'utf8');
}

const HEADER_CELL = /^"?[\w .@:#$()\-/[\]]{1,80}"?$/;

/**
 * A CSV needs a header of at least two plausible column names and a next line with as many
 * fields; that keeps prose with commas (a README) from being read as a table.
 */
function csvDelimiter(text: string, name: string): string | null {
  const lines = text.split(/\r?\n/, 3);
  const header = lines[0];
  const candidates = [',', '\t', ';', '|'];
  let best: string | null = null;
  let bestCount = 0;
  for (const d of candidates) {
    const cells = header.split(d);
    if (cells.length < 2 || !cells.every((c) => HEADER_CELL.test(c.trim()))) continue;
    if (cells.length > bestCount) {
      best = d;
      bestCount = cells.length;
    }
  }
  if (!best) return null;
  const second = lines[1];
  // A one-line file is a header with no rows: still a CSV if it is named like one.
  if (second === undefined || second === '') return /\.(csv|tsv)$/i.test(name) ? best : null;
  const fields = countFields(second, best);
  return fields === bestCount || /\.(csv|tsv)$/i.test(name) ? best : null;
}

function countFields(line: string, delimiter: string): number {
  let n = 1;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === delimiter && !quoted) n++;
  }
  return n;
}
