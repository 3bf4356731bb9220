/**
 * Reads every input the user named — files, directories, archives — and yields events and input
 * problems in batches, in a deterministic order (directory entries sorted by name). Nothing is
 * held whole: files stream through gunzip, zip members stream out of the archive, and text is
 * split into events as it arrives. Every failure becomes an InputProblem and reading carries on.
 */
import {
  closeSync,
  createReadStream,
  type Dirent,
  promises as fs,
  openSync,
  readFileSync,
  readSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { splitCsvRows } from './csv-events.js';
import { knownTable } from './defender-tables.js';
import { type EvtxReadOptions, readEvtx } from './evtx/reader.js';
import { jsonToRawEvent } from './json-events.js';
import { JsonLineBytesSplitter, type JsonPiece, JsonSplitter, looksLikeJsonLines } from './json-stream.js';
import { cutDeepValues, MAX_NESTING } from './limits.js';
import { isInside } from './paths.js';
import type { InputProblem, ProblemCode, ReadItem } from './raw-event.js';
import { type Encoding, type Sniffed, sniffBytes } from './sniff.js';
import { XmlEventSplitter } from './xml-events.js';
import { ZipSource } from './zip.js';

export interface ReadOptions {
  /** EVTX: read records in chunk slack and chunks with bad checksums; keep XML for `dump --format xml`. */
  evtx?: EvtxReadOptions;
  /** Called as input bytes are consumed (outer files, before decompression), for progress bars. */
  onBytes?: (n: number) => void;
  /** Called when a new input file is opened. */
  onFile?: (file: string) => void;
  /**
   * Memory to read small files into, each piece given back when its file is done (see
   * WholeFileBuffers). Without it, each small file is read into memory of its own.
   */
  wholeFiles?: WholeFileBuffers;
}

/**
 * Memory for files read whole, used again from file to file. Reading a folder of small logs into
 * fresh memory each time left tens of megabytes of finished files waiting for the collector (the
 * 671 EVTX files of the shared data: about 60 MB more at the peak). A piece is given back only
 * when its file's reading has ended, and nothing read keeps a view of it: events hold strings,
 * and chunks handed to parser threads are copied.
 */
export class WholeFileBuffers {
  private readonly free: Buffer[] = [];

  take(size: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= size);
    if (i >= 0) return this.free.splice(i, 1)[0];
    let capacity = 64 * 1024;
    while (capacity < size) capacity *= 2;
    return Buffer.allocUnsafeSlow(capacity);
  }

  give(buf: Buffer): void {
    // Two are in use at a time (a file and the next one, read ahead); a few spare are plenty.
    if (this.free.length < 4) this.free.push(buf);
  }
}

export interface InputFile {
  path: string;
  size: number;
  /** Named by the user (not found by walking a directory): junk here is an error, not a skip. */
  explicit: boolean;
}

const SNIFF_BYTES = 64 * 1024;
/** How far a head of only white space is read to find the first byte that names the format. */
const BLANK_HEAD_MAX = 64 * 1024 * 1024;

/** Whether a piece of the head is ASCII white space (the first may start with a UTF-8 BOM). */
function isBlank(bytes: Buffer, first: boolean): boolean {
  const start = first && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  for (let i = start; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return false;
  }
  return true;
}

/**
 * Lists the files behind the given paths (directories walked, sorted), with problems for the rest.
 * A symbolic link met while walking is followed only when it stays inside the folder named: a
 * collected tree can hold links to /proc, / or the responder's home, which are not its logs.
 */
export async function listInputs(paths: string[]): Promise<{ files: InputFile[]; problems: InputProblem[] }> {
  const files: InputFile[] = [];
  const problems: InputProblem[] = [];
  const seenDirs = new Set<string>();
  async function visit(p: string, explicit: boolean, root: string | null, link: boolean): Promise<void> {
    let st: Awaited<ReturnType<typeof fs.stat>>;
    try {
      st = await fs.stat(p);
    } catch (err) {
      problems.push(problem(p, 'UNREADABLE', errText(err)));
      return;
    }
    if (link && root !== null) {
      const target = await fs.realpath(p).catch(() => null);
      if (target === null || !isInside(target, root)) {
        problems.push(
          problem(p, 'SKIPPED_FILE', `a link out of the folder (to ${target ?? '?'}): not followed`),
        );
        return;
      }
    }
    if (st.isDirectory()) {
      const real = await fs.realpath(p).catch(() => p);
      if (seenDirs.has(real)) return; // a symlink back up the tree
      seenDirs.add(real);
      let entries: Dirent[];
      try {
        entries = await fs.readdir(p, { withFileTypes: true });
      } catch (err) {
        problems.push(problem(p, 'UNREADABLE', errText(err)));
        return;
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of entries) await visit(path.join(p, e.name), false, root ?? real, e.isSymbolicLink());
      return;
    }
    if (!st.isFile()) {
      // FIFOs, sockets and devices would block or never end; only named files are read.
      if (explicit) problems.push(problem(p, 'UNREADABLE', 'not a regular file'));
      else problems.push(problem(p, 'UNREADABLE', 'skipped: not a regular file (FIFO, socket or device)'));
      return;
    }
    files.push({ path: p, size: st.size, explicit });
  }
  for (const p of paths) await visit(p, true, null, false);
  return { files, problems };
}

/** Reads the given paths; yields batches of events and problems. */
export async function* readInputs(paths: string[], options: ReadOptions = {}): AsyncGenerator<ReadItem[]> {
  const { files, problems } = await listInputs(paths);
  if (problems.length > 0) yield problems.map((p) => ({ kind: 'problem', problem: p }));
  for (const file of files) yield* readFile(file.path, options, file.explicit);
}

export async function* readFile(
  file: string,
  options: ReadOptions = {},
  explicit = true,
): AsyncGenerator<ReadItem[]> {
  options.onFile?.(file);
  const ctx: StreamContext = { name: file, diskPath: file, explicit, options };
  let whole: { bytes: Buffer; memory: Buffer | null } | null;
  try {
    whole = readSmallFile(file, options.wholeFiles);
  } catch (err) {
    yield [problemItem(file, 'UNREADABLE', errText(err))];
    return;
  }
  if (whole !== null) {
    options.onBytes?.(whole.bytes.length);
    try {
      yield* readStream(oneBuffer(whole.bytes), ctx);
    } catch (err) {
      yield [problemItem(file, 'UNREADABLE', errText(err))];
    } finally {
      if (whole.memory) options.wholeFiles?.give(whole.memory);
    }
    return;
  }
  let stream: Readable;
  try {
    stream = createReadStream(file, { highWaterMark: 256 * 1024 });
  } catch (err) {
    yield [problemItem(file, 'UNREADABLE', errText(err))];
    return;
  }
  const counted = countBytes(stream, options.onBytes);
  try {
    yield* readStream(counted, ctx);
  } catch (err) {
    yield [problemItem(file, 'UNREADABLE', errText(err))];
  } finally {
    stream.destroy();
  }
}

/**
 * Files up to this size are read whole, at once, on the calling thread. Each asynchronous open,
 * read and close is a round trip through libuv's thread pool, and with a folder of small logs those
 * trips, not parsing, were most of the time (the shared data's 671 EVTX files, 89 MB, read alone:
 * 0.84 s streamed, 0.55 s read whole). Larger files stream, so memory stays bounded.
 */
const WHOLE_FILE_MAX = 8 * 1024 * 1024;

/**
 * The whole content of a small regular file (as it was when looked at: what is appended meanwhile
 * waits for the next run), in memory of its own or taken from `buffers`; null when it should be
 * streamed.
 */
function readSmallFile(
  file: string,
  buffers: WholeFileBuffers | undefined,
): { bytes: Buffer; memory: Buffer | null } | null {
  const st = statSync(file);
  // Never a FIFO or device: even opening one can block until a writer comes.
  if (!st.isFile() || st.size > WHOLE_FILE_MAX) return null;
  if (!buffers) return { bytes: readFileSync(file), memory: null };
  const fd = openSync(file, 'r');
  const memory = buffers.take(st.size);
  let length = 0;
  try {
    for (let n = 1; n > 0 && length < st.size; length += n)
      n = readSync(fd, memory, length, st.size - length, length);
  } catch (err) {
    buffers.give(memory);
    throw err;
  } finally {
    closeSync(fd);
  }
  return { bytes: memory.subarray(0, length), memory };
}

async function* oneBuffer(buf: Buffer): AsyncGenerator<Buffer> {
  if (buf.length > 0) yield buf;
}

async function* countBytes(stream: Readable, onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const chunk of stream) {
    onBytes?.((chunk as Buffer).length);
    yield chunk as Buffer;
  }
}

interface StreamContext {
  /** What origins show: the path, or `archive.zip!member.json` inside archives. */
  name: string;
  /** The file on disk when the stream is a whole file (the zip reader needs random access). */
  diskPath: string | null;
  /** Named by the user rather than found by walking (junk is then an error, not a skip). */
  explicit: boolean;
  options: ReadOptions;
  /** How many gzip layers this stream is inside. */
  gzipDepth?: number;
}

/** The most gzip layers opened inside one another. */
const MAX_GZIP_DEPTH = 3;

/** Reads one byte stream: sniffs it, unwraps gzip/zip, parses EVTX, or splits text into events. */
async function* readStream(bytes: AsyncIterable<Buffer>, ctx: StreamContext): AsyncGenerator<ReadItem[]> {
  const { name, diskPath, explicit, options } = ctx;
  const iterator = bytes[Symbol.asyncIterator]();
  const headChunks: Buffer[] = [];
  let headLength = 0;
  let done = false;
  // A head of nothing but line breaks and spaces says nothing of the format: read on (up to
  // BLANK_HEAD_MAX) until the first byte that does, so a JSON-lines file that starts with blank
  // lines is still read as one.
  let blank = true;
  while (headLength < SNIFF_BYTES || (blank && headLength < BLANK_HEAD_MAX)) {
    const r = await iterator.next();
    if (r.done) {
      done = true;
      break;
    }
    headChunks.push(r.value);
    headLength += r.value.length;
    blank &&= isBlank(r.value, headChunks.length === 1);
  }
  // (One piece, as a file read whole is, is used as it is: concat would copy it all.)
  const head = headChunks.length === 1 ? headChunks[0] : Buffer.concat(headChunks);
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (done) return;
    for (;;) {
      const r = await iterator.next();
      if (r.done) return;
      yield r.value;
    }
  }
  const sniffed: Sniffed = sniffBytes(head, name);
  if (sniffed.kind === 'unknown') {
    if (explicit) yield [problemItem(name, 'UNKNOWN_FORMAT', sniffed.reason)];
    else yield [problemItem(name, 'SKIPPED_FILE', `not log data: ${sniffed.reason}`)];
    return;
  }
  if (sniffed.kind === 'container') {
    if (sniffed.container === 'gzip') {
      // gzip in gzip in gzip…: a few layers are real (a .gz of a .gz upload), more are an attack.
      if ((ctx.gzipDepth ?? 0) >= MAX_GZIP_DEPTH) {
        yield [problemItem(name, 'BAD_ARCHIVE', `gzip nested more than ${MAX_GZIP_DEPTH} deep: not opened`)];
        return;
      }
      yield* readGzip(all(), { ...ctx, diskPath: null, explicit: true, gzipDepth: (ctx.gzipDepth ?? 0) + 1 });
      return;
    }
    if (sniffed.container === 'zip') {
      // The zip reader opens the file itself: progress comes from its member streams.
      yield* readZip(diskPath, name, options);
      return;
    }
    yield* readEvtx(all(), name, options.evtx);
    return;
  }
  const tableHint = tableFromName(name);
  if (sniffed.format === 'json' && sniffed.encoding === 'utf8') {
    const head = headText(headChunks, sniffed.bomLength);
    // A first line that is a whole value means JSON lines: split bytes, decode line by line.
    if (looksLikeJsonLines(head, done) !== false) {
      yield* readJsonLines(skipBytes(all(), sniffed.bomLength), name, tableHint);
      return;
    }
  }
  const text = decodeText(all(), sniffed.encoding, sniffed.bomLength);
  if (sniffed.format === 'json') yield* readJson(text, name, tableHint);
  else if (sniffed.format === 'xml') yield* readXml(text, name);
  else yield* readCsv(text, name, sniffed.delimiter ?? ',', tableHint);
}

async function* decodeText(
  bytes: AsyncIterable<Buffer>,
  encoding: Encoding,
  bomLength: number,
): AsyncGenerator<string> {
  let first = true;
  if (encoding === 'utf16be') {
    const decoder = new TextDecoder('utf-16be');
    for await (let chunk of bytes) {
      if (first) chunk = chunk.subarray(bomLength);
      first = false;
      yield decoder.decode(chunk, { stream: true });
    }
    yield decoder.decode();
    return;
  }
  const decoder = new StringDecoder(encoding);
  for await (let chunk of bytes) {
    if (first) chunk = chunk.subarray(bomLength);
    first = false;
    const s = decoder.write(chunk);
    if (s.length > 0) yield s;
  }
  const tail = decoder.end();
  if (tail.length > 0) yield tail;
}

function headText(chunks: Buffer[], bomLength: number): string {
  return Buffer.concat(chunks).subarray(bomLength).toString('utf8');
}

async function* skipBytes(bytes: AsyncIterable<Buffer>, n: number): AsyncGenerator<Buffer> {
  let first = true;
  for await (const chunk of bytes) {
    yield first && n > 0 ? chunk.subarray(n) : chunk;
    first = false;
  }
}

async function* readJsonLines(
  bytes: AsyncIterable<Buffer>,
  file: string,
  tableHint: string | null,
  firstLine = 1,
): AsyncGenerator<ReadItem[]> {
  const splitter = new JsonLineBytesSplitter(firstLine);
  const convert = piecesToItems(file, tableHint);
  for await (const chunk of bytes) {
    const items = convert(splitter.push(chunk));
    if (items.length > 0) yield items;
  }
  const items = convert(splitter.end());
  if (items.length > 0) yield items;
}

async function* readJson(
  text: AsyncIterable<string>,
  file: string,
  tableHint: string | null,
): AsyncGenerator<ReadItem[]> {
  const splitter = new JsonSplitter();
  const convert = piecesToItems(file, tableHint);
  for await (const chunk of text) {
    const items = convert(splitter.push(chunk));
    if (items.length > 0) yield items;
  }
  const items = convert(splitter.end());
  if (items.length > 0) yield items;
}

/** JSON values → events, or problems for values that do not parse or are not events. */
function piecesToItems(file: string, tableHint: string | null): (pieces: JsonPiece[]) => ReadItem[] {
  const ctx = { file, line: 0, tableHint };
  return (pieces) => {
    const out: ReadItem[] = [];
    for (const piece of pieces) {
      if ('error' in piece) {
        out.push({
          kind: 'problem',
          problem: { file, line: piece.line, code: 'BAD_JSON', message: piece.error, rejected: 1 },
        });
        continue;
      }
      ctx.line = piece.line;
      if (cutDeepValues(piece.value))
        out.push({
          kind: 'problem',
          problem: {
            file,
            line: piece.line,
            code: 'CUT_VALUE',
            message: `a value nested deeper than ${MAX_NESTING} levels was cut; the event is kept`,
            rejected: 0,
          },
        });
      const event = jsonToRawEvent(piece.value, ctx);
      if (event) out.push({ kind: 'event', event });
      else
        out.push({
          kind: 'problem',
          problem: {
            file,
            line: piece.line,
            code: 'NOT_AN_EVENT',
            message: `a JSON ${describe(piece.value)} is not an event`,
            rejected: 1,
          },
        });
    }
    return out;
  };
}

async function* readXml(text: AsyncIterable<string>, file: string): AsyncGenerator<ReadItem[]> {
  const splitter = new XmlEventSplitter(file);
  const convert = (pieces: ReturnType<XmlEventSplitter['push']>): ReadItem[] =>
    pieces.map((p) =>
      'error' in p
        ? { kind: 'problem', problem: { file, line: p.line, code: 'BAD_XML', message: p.error, rejected: 1 } }
        : { kind: 'event', event: p.event },
    );
  for await (const chunk of text) {
    const items = convert(splitter.push(chunk));
    if (items.length > 0) yield items;
  }
  const items = convert(splitter.end());
  if (items.length > 0) yield items;
}

async function* readCsv(
  text: AsyncIterable<string>,
  file: string,
  delimiter: string,
  tableHint: string | null,
): AsyncGenerator<ReadItem[]> {
  const ctx = { file, line: 0, tableHint, container: 'csv' as const };
  try {
    for await (const pieces of splitCsvRows(text, delimiter)) {
      const out: ReadItem[] = [];
      for (const p of pieces) {
        if ('error' in p) {
          out.push({
            kind: 'problem',
            problem: { file, line: p.line, code: 'BAD_CSV', message: p.error, rejected: 1 },
          });
          continue;
        }
        ctx.line = p.line;
        const event = jsonToRawEvent(p.row, ctx);
        if (event) out.push({ kind: 'event', event });
        else
          out.push({
            kind: 'problem',
            problem: { file, line: p.line, code: 'NOT_AN_EVENT', message: 'empty row', rejected: 1 },
          });
      }
      yield out;
    }
  } catch (err) {
    yield [problemItem(file, 'BAD_CSV', `CSV reading stopped: ${errText(err)}`)];
  }
}

async function* readGzip(bytes: AsyncIterable<Buffer>, ctx: StreamContext): AsyncGenerator<ReadItem[]> {
  const name = ctx.name;
  const gunzip = createGunzip();
  let failure: Error | null = null;
  gunzip.on('error', (err) => {
    failure = err;
  });
  // Feed the gunzip stream ourselves so a corrupt or truncated stream ends our reading cleanly.
  (async () => {
    try {
      for await (const chunk of bytes) {
        if (!gunzip.write(chunk)) await new Promise((resolve) => gunzip.once('drain', resolve));
      }
      gunzip.end();
    } catch (err) {
      gunzip.destroy(err as Error);
    }
  })();
  async function* inflated(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } catch (err) {
      failure = failure ?? (err as Error);
    }
  }
  // A gzip holds one stream, so its events are attributed to the .gz file itself.
  yield* readStream(inflated(), ctx);
  if (failure) {
    yield [problemItem(name, 'BAD_ARCHIVE', `gzip stream is corrupt or truncated: ${errText(failure)}`)];
  }
}

async function* readZip(
  diskPath: string | null,
  name: string,
  options: ReadOptions,
): AsyncGenerator<ReadItem[]> {
  if (diskPath === null) {
    yield [
      problemItem(
        name,
        'SKIPPED_MEMBER',
        'a zip inside an archive is not opened; unpack the outer archive first',
      ),
    ];
    return;
  }
  let zip: ZipSource;
  let listing: Awaited<ReturnType<ZipSource['list']>>;
  try {
    zip = await ZipSource.open(diskPath);
  } catch (err) {
    yield [problemItem(name, 'UNREADABLE', errText(err))];
    return;
  }
  try {
    listing = await zip.list();
    if (listing.damage) yield [problemItem(name, 'BAD_ARCHIVE', `damaged zip: ${listing.damage}`)];
    for (const member of listing.members) {
      if (member.name.endsWith('/')) continue;
      const memberName = `${name}!${member.name}`;
      if (member.name.startsWith('__MACOSX/') || path.posix.basename(member.name).startsWith('._')) {
        yield [
          problemItem(memberName, 'SKIPPED_MEMBER', 'macOS resource-fork member (__MACOSX), not log data'),
        ];
        continue;
      }
      let memberStream: Readable;
      try {
        memberStream = await zip.open(member, options.onBytes);
      } catch (err) {
        yield [problemItem(memberName, 'BAD_ARCHIVE', `member cannot be read: ${errText(err)}`)];
        continue;
      }
      let failure: unknown = null;
      async function* guarded(): AsyncGenerator<Buffer> {
        try {
          for await (const c of memberStream) yield c as Buffer;
        } catch (err) {
          failure = err;
        }
      }
      try {
        yield* readStream(guarded(), { name: memberName, diskPath: null, explicit: true, options });
      } finally {
        memberStream.destroy();
      }
      if (failure)
        yield [problemItem(memberName, 'BAD_ARCHIVE', `member is corrupt or truncated: ${errText(failure)}`)];
    }
  } catch (err) {
    yield [problemItem(name, 'BAD_ARCHIVE', errText(err))];
  } finally {
    await zip.close();
  }
}

/** `DeviceProcessEvents.json`, `DeviceProcessEvents-2023-05.csv`: the table a Defender export holds. */
function tableFromName(name: string): string | null {
  const base = path.basename(name.split('!').pop() ?? name);
  const stem = base.replace(/\.(json|jsonl|ndjson|csv|tsv|txt)(\.gz)?$/i, '');
  const direct = knownTable(stem);
  if (direct) return direct;
  const m = /^([A-Za-z]+)/.exec(stem);
  return m ? knownTable(m[1]) : null;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'empty object';
  return typeof v;
}

function problem(file: string, code: ProblemCode, message: string): InputProblem {
  return { file, code, message, rejected: 0 };
}

function problemItem(file: string, code: ProblemCode, message: string): ReadItem {
  return { kind: 'problem', problem: problem(file, code, message) };
}

function errText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * A large JSON-lines file cut into ranges of whole lines, so that several threads can each read one:
 * null when the file is not plain UTF-8 JSON lines (or too small to be worth it). Each range starts
 * at a line start and knows its first line's number.
 */
export async function planJsonLinesRanges(
  file: string,
  parts: number,
  minBytes: number,
): Promise<{ start: number; end: number; firstLine: number }[] | null> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = (await fh.stat()).size;
    if (parts < 2 || size < minBytes) return null;
    const head = Buffer.alloc(Math.min(size, SNIFF_BYTES));
    await fh.read(head, 0, head.length, 0);
    const sniffed = sniffBytes(head, file);
    if (
      sniffed.kind !== 'text' ||
      sniffed.format !== 'json' ||
      sniffed.encoding !== 'utf8' ||
      sniffed.bomLength > 0
    )
      return null;
    if (looksLikeJsonLines(head.toString('utf8'), head.length === size) !== true) return null;
    // Cut points at line starts; line numbers by counting newlines up to each (one pass).
    const cuts: number[] = [0];
    const probe = Buffer.alloc(64 * 1024);
    for (let i = 1; i < parts; i++) {
      let at = Math.floor((size * i) / parts);
      for (;;) {
        const { bytesRead } = await fh.read(probe, 0, probe.length, at);
        if (bytesRead === 0) {
          at = size;
          break;
        }
        const nl = probe.subarray(0, bytesRead).indexOf(10);
        if (nl >= 0) {
          at += nl + 1;
          break;
        }
        at += bytesRead;
      }
      if (at > cuts[cuts.length - 1] && at < size) cuts.push(at);
    }
    cuts.push(size);
    const lines: number[] = [1];
    const block = Buffer.alloc(1024 * 1024);
    let pos = 0;
    let count = 0;
    for (let c = 1; c < cuts.length - 1; c++) {
      while (pos < cuts[c]) {
        const want = Math.min(block.length, cuts[c] - pos);
        const { bytesRead } = await fh.read(block, 0, want, pos);
        if (bytesRead === 0) break;
        for (let i = block.indexOf(10, 0); i >= 0 && i < bytesRead; i = block.indexOf(10, i + 1)) count++;
        pos += bytesRead;
      }
      lines.push(count + 1);
    }
    return cuts.slice(0, -1).map((start, i) => ({ start, end: cuts[i + 1], firstLine: lines[i] }));
  } finally {
    await fh.close();
  }
}

/** Reads one planned range of a JSON-lines file (whole lines, numbered as in the file). */
export async function* readJsonLinesRange(
  file: string,
  range: { start: number; end: number; firstLine: number },
  options: ReadOptions = {},
): AsyncGenerator<ReadItem[]> {
  if (range.end <= range.start) return;
  const stream = createReadStream(file, {
    start: range.start,
    end: range.end - 1,
    highWaterMark: 256 * 1024,
  });
  try {
    yield* readJsonLines(countBytes(stream, options.onBytes), file, tableFromName(file), range.firstLine);
  } catch (err) {
    yield [problemItem(file, 'UNREADABLE', errText(err))];
  } finally {
    stream.destroy();
  }
}
