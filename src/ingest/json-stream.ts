/**
 * Splits a stream of JSON text into top-level values without holding the whole file: JSON lines
 * (one value a line), a top-level array, or concatenated pretty-printed values (evtx_dump's and
 * SigmaHQ's regression JSON). Each value is reported with the 1-based line it starts on; a value
 * that does not parse is reported as an error and the split carries on with the next one.
 */
export type JsonPiece = { line: number; value: unknown } | { line: number; error: string };

/** A single value larger than this is junk, not an event; cap it so memory stays bounded. */
const MAX_VALUE_CHARS = 32 * 1024 * 1024;

type Mode = 'unknown' | 'lines' | 'scan';

export class JsonSplitter {
  private mode: Mode = 'unknown';
  private carry = '';
  /** Line number of the first character of `carry`. */
  private carryLine = 1;
  private scanner: ValueScanner | null = null;

  /** Feeds the next piece of text; returns the values it completed. */
  push(text: string): JsonPiece[] {
    if (this.mode === 'unknown') {
      this.carry += text;
      const decided = this.decide(false);
      if (!decided) return [];
      text = this.carry;
      this.carry = '';
    }
    return this.mode === 'lines' ? this.pushLines(text, false) : this.scanner!.push(text, false);
  }

  /** Signals end of input; returns what was still pending (a truncated value becomes an error). */
  end(): JsonPiece[] {
    if (this.mode === 'unknown') {
      this.decide(true);
      const text = this.carry;
      this.carry = '';
      return (this.mode as Mode) === 'lines' ? this.pushLines(text, true) : this.scanner!.push(text, true);
    }
    return this.mode === 'lines' ? this.pushLines('', true) : this.scanner!.push('', true);
  }

  /**
   * JSON lines when the first non-blank line is a whole value on its own; otherwise a scan that
   * follows brackets and strings across lines.
   */
  private decide(atEnd: boolean): boolean {
    const text = this.carry;
    let start = 0;
    while (start < text.length && isSpace(text.charCodeAt(start))) start++;
    if (start === text.length) {
      if (atEnd) this.mode = 'lines';
      return atEnd;
    }
    const first = text[start];
    if (first === '[') {
      this.mode = 'scan';
      this.scanner = new ValueScanner(true, 1);
      return true;
    }
    const eol = text.indexOf('\n', start);
    if (eol < 0 && !atEnd) return false;
    const firstLine = text.slice(start, eol < 0 ? text.length : eol).trim();
    let whole = false;
    try {
      JSON.parse(firstLine);
      whole = true;
    } catch {
      whole = false;
    }
    this.mode = whole ? 'lines' : 'scan';
    if (!whole) this.scanner = new ValueScanner(false, 1);
    return true;
  }

  private pushLines(text: string, atEnd: boolean): JsonPiece[] {
    const out: JsonPiece[] = [];
    let buf = this.carry + text;
    let line = this.carryLine;
    let pos = 0;
    for (;;) {
      const nl = buf.indexOf('\n', pos);
      if (nl < 0) break;
      parseLine(buf, pos, nl, line, out);
      line++;
      pos = nl + 1;
    }
    buf = buf.slice(pos);
    if (atEnd) {
      if (buf.length > 0) parseLine(buf, 0, buf.length, line, out);
      buf = '';
    } else if (buf.length > MAX_VALUE_CHARS) {
      out.push({ line, error: `line longer than ${MAX_VALUE_CHARS} characters; skipped` });
      buf = '';
    }
    this.carry = buf;
    this.carryLine = line;
    return out;
  }
}

function parseLine(buf: string, start: number, end: number, line: number, out: JsonPiece[]): void {
  // Trim without allocating when the line has no padding (the common case).
  while (start < end && isSpace(buf.charCodeAt(start))) start++;
  while (end > start && isSpace(buf.charCodeAt(end - 1))) end--;
  if (start === end) return;
  const text = buf.slice(start, end);
  try {
    out.push({ line, value: JSON.parse(text) });
  } catch (err) {
    out.push({ line, error: jsonErrorMessage(err, text) });
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9 || c === 0xfeff;
}

export function jsonErrorMessage(err: unknown, text: string): string {
  const msg = err instanceof Error ? err.message : String(err);
  const preview = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return `${msg} in ${JSON.stringify(preview)}`;
}

/**
 * Follows `{`/`[` depth and string state to find where each top-level value ends. A raw newline
 * inside a string cannot occur in valid JSON, so it marks a broken value: we report it and
 * restart at the next line instead of letting one bad quote swallow the rest of the file.
 */
class ValueScanner {
  private buf = '';
  private pos = 0;
  /** After a broken value: skip to the next line that starts a new value, the error is already out. */
  private recovering = false;
  private atLineStart = true;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private valueStart = -1;
  private valueLine = 0;
  private line: number;
  private arrayOpen: boolean;

  constructor(
    private readonly inArray: boolean,
    firstLine: number,
  ) {
    this.line = firstLine;
    this.arrayOpen = false;
  }

  push(text: string, atEnd: boolean): JsonPiece[] {
    const out: JsonPiece[] = [];
    this.buf += text;
    const buf = this.buf;
    let i = this.pos;
    const n = buf.length;
    let scalarFrom = -1;
    while (i < n) {
      const c = buf.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 92 /* \ */) this.escaped = true;
        else if (c === 34 /* " */) {
          this.inString = false;
          if (this.depth === 0) this.finish(buf, i + 1, out);
        } else if (c === 10) {
          out.push({ line: this.valueLine, error: 'unterminated string (line break inside a string)' });
          this.reset();
          this.recovering = true;
          this.atLineStart = true;
          this.line++;
        }
        i++;
        continue;
      }
      if (c === 10) {
        this.line++;
        this.atLineStart = true;
        i++;
        continue;
      }
      if (this.recovering) {
        const startsValue = this.atLineStart && (c === 123 || c === 91);
        if (!startsValue) {
          if (!isSpace(c)) this.atLineStart = false;
          i++;
          continue;
        }
        this.recovering = false;
      }
      if (!isSpace(c)) this.atLineStart = false;
      if (this.valueStart < 0) {
        // Between values.
        if (isSpace(c) || c === 44 /* , */) {
          i++;
          continue;
        }
        if (this.inArray && !this.arrayOpen) {
          if (c === 91 /* [ */) {
            this.arrayOpen = true;
            i++;
            continue;
          }
        }
        if (this.inArray && c === 93 /* ] */) {
          this.arrayOpen = false;
          i++;
          continue;
        }
        this.valueStart = i;
        this.valueLine = this.line;
        if (c === 123 || c === 91) this.depth = 1;
        else if (c === 34) this.inString = true;
        else if (!isScalarStart(c)) {
          out.push({
            line: this.line,
            error: `unexpected text ${JSON.stringify(buf.slice(i, i + 20))} between JSON values`,
          });
          this.reset();
          this.recovering = true;
          i++;
          continue;
        } else {
          // A bare scalar (a number, true, false, null): runs to the next delimiter.
          let j = i;
          while (j < n && !isDelimiter(buf.charCodeAt(j))) j++;
          if (j === n && !atEnd) {
            // The scalar may go on in the next chunk: keep it and look again then.
            this.valueStart = -1;
            scalarFrom = i;
            break;
          }
          this.finish(buf, j, out);
          i = j;
          continue;
        }
        i++;
        continue;
      }
      if (c === 34) this.inString = true;
      else if (c === 123 || c === 91) this.depth++;
      else if (c === 125 || c === 93) {
        this.depth--;
        if (this.depth === 0) {
          i++;
          this.finish(buf, i, out);
          continue;
        }
      }
      i++;
    }
    // Keep only the unfinished value (or nothing) for the next push.
    if (scalarFrom >= 0) {
      this.buf = buf.slice(scalarFrom);
      this.pos = 0;
    } else if (this.valueStart >= 0) {
      if (atEnd) {
        out.push({ line: this.valueLine, error: 'truncated JSON value at end of input' });
        this.reset();
        this.buf = '';
        this.pos = 0;
      } else if (i - this.valueStart > MAX_VALUE_CHARS) {
        out.push({
          line: this.valueLine,
          error: `JSON value larger than ${MAX_VALUE_CHARS} characters; skipped`,
        });
        this.reset();
        this.buf = '';
        this.pos = 0;
      } else {
        this.buf = buf.slice(this.valueStart);
        this.pos = i - this.valueStart;
        this.valueStart = 0;
      }
    } else {
      this.buf = '';
      this.pos = 0;
    }
    return out;
  }

  private finish(buf: string, end: number, out: JsonPiece[]): void {
    const text = buf.slice(this.valueStart, end);
    try {
      out.push({ line: this.valueLine, value: JSON.parse(text) });
    } catch (err) {
      out.push({ line: this.valueLine, error: jsonErrorMessage(err, text) });
      this.reset();
      this.recovering = true;
      return;
    }
    this.reset();
  }

  private reset(): void {
    this.valueStart = -1;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
  }
}

function isScalarStart(c: number): boolean {
  return c === 45 || (c >= 48 && c <= 57) || c === 116 || c === 102 || c === 110; // - 0-9 t f n
}

function isDelimiter(c: number): boolean {
  return isSpace(c) || c === 44 || c === 93 || c === 125 || c === 123 || c === 91;
}

/**
 * JSON lines straight from bytes. Splitting at newline bytes and decoding each line on its own
 * keeps ASCII lines as one-byte strings: decoding a whole chunk that holds a single non-ASCII
 * character makes the entire chunk a two-byte string, which halves JSON.parse's speed.
 */
export class JsonLineBytesSplitter {
  private carry: Buffer | null = null;

  /** `line`: the number of the first line this splitter sees (ranges of a file start later). */
  constructor(private line = 1) {}

  push(chunk: Buffer): JsonPiece[] {
    const out: JsonPiece[] = [];
    let buf = chunk;
    let pos = 0;
    if (this.carry !== null) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        this.carry = Buffer.concat([this.carry, chunk]);
        if (this.carry.length > MAX_VALUE_CHARS) {
          out.push({ line: this.line, error: `line longer than ${MAX_VALUE_CHARS} bytes; skipped` });
          this.carry = null;
          this.skipping = true;
        }
        return out;
      }
      const first = Buffer.concat([this.carry, chunk.subarray(0, nl)]);
      this.carry = null;
      this.emit(first, 0, first.length, out);
      pos = nl + 1;
    } else if (this.skipping) {
      const nl = chunk.indexOf(10);
      if (nl < 0) return out;
      this.skipping = false;
      this.line++;
      pos = nl + 1;
    }
    buf = chunk;
    for (let nl = buf.indexOf(10, pos); nl >= 0; nl = buf.indexOf(10, pos)) {
      this.emit(buf, pos, nl, out);
      pos = nl + 1;
    }
    if (pos < buf.length) this.carry = buf.subarray(pos);
    return out;
  }

  end(): JsonPiece[] {
    const out: JsonPiece[] = [];
    if (this.carry !== null && !this.skipping) this.emit(this.carry, 0, this.carry.length, out);
    this.carry = null;
    return out;
  }

  private skipping = false;

  private emit(buf: Buffer, start: number, end: number, out: JsonPiece[]): void {
    const line = this.line++;
    // Blank lines (and a lone CR) are not values.
    while (start < end && (buf[start] === 32 || buf[start] === 9 || buf[start] === 13)) start++;
    if (start === end) return;
    const text = buf.toString('utf8', start, end);
    try {
      out.push({ line, value: JSON.parse(text) });
    } catch (err) {
      out.push({ line, error: jsonErrorMessage(err, text.trim()) });
    }
  }
}

/**
 * Whether text that starts a JSON input is JSON lines: its first non-blank line is a whole value.
 * Returns null when the head does not yet hold a complete first line.
 */
export function looksLikeJsonLines(head: string, complete: boolean): boolean | null {
  let start = 0;
  while (start < head.length && isSpace(head.charCodeAt(start))) start++;
  if (start === head.length) return complete ? true : null;
  if (head[start] === '[') return false;
  const eol = head.indexOf('\n', start);
  if (eol < 0 && !complete) return null;
  try {
    JSON.parse(head.slice(start, eol < 0 ? head.length : eol));
    return true;
  } catch {
    return false;
  }
}
