/**
 * EVTX file and chunk structure. A file is a 4 KiB header and 64 KiB chunks; each chunk is
 * self-contained (its own string and template tables), which is what lets us parse chunks in
 * parallel and skip a damaged one while reading the rest.
 */
import { crc32 } from 'node:zlib';
import { fromEvtxJson, fromWindowsFields } from '../json-events.js';
import type { InputProblem, RawEvent, Stage } from '../raw-event.js';
import { BinXmlError, ChunkBinXml, type Elem } from './binxml.js';
import { elemToJson, elemToXml } from './render.js';
import { fileTimeMs } from './values.js';

export const FILE_HEADER_SIZE = 4096;
export const CHUNK_SIZE = 65536;
const CHUNK_HEADER_SIZE = 512;
const RECORD_MAGIC = 0x00002a2a;

export interface FileHeader {
  firstChunk: number;
  lastChunk: number;
  nextRecordId: number;
  chunkCount: number;
  majorVersion: number;
  minorVersion: number;
  dirty: boolean;
  full: boolean;
  /** Null when the header checksum matches. */
  problem: string | null;
}

export function parseFileHeader(buf: Buffer): FileHeader | string {
  if (buf.length < 128) return `file header truncated (${buf.length} bytes)`;
  if (buf.toString('latin1', 0, 8) !== 'ElfFile\0') return 'not an EVTX file header (bad signature)';
  const flags = buf.readUInt32LE(120);
  const stored = buf.readUInt32LE(124);
  const actual = crc32(buf.subarray(0, 120));
  return {
    firstChunk: Number(buf.readBigUInt64LE(8)),
    lastChunk: Number(buf.readBigUInt64LE(16)),
    nextRecordId: Number(buf.readBigUInt64LE(24)),
    majorVersion: buf.readUInt16LE(38),
    minorVersion: buf.readUInt16LE(36),
    chunkCount: buf.readUInt16LE(42),
    dirty: (flags & 1) !== 0,
    full: (flags & 2) !== 0,
    problem:
      stored === actual
        ? null
        : `file header checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)})`,
  };
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

export interface ChunkOptions {
  file: string;
  /** Chunk number in the file (0-based). */
  index: number;
  /** Byte offset of the chunk in the file. */
  fileOffset: number;
  /** Also read records found in the chunk's slack space, and chunks whose checksums fail. */
  recover: boolean;
  /** Keep the rendered XML of each record (for `dump --format xml`). */
  xml: boolean;
  /** Always take the generic path (instantiate, then flatten): the reference the fast path is tested against. */
  generic?: boolean;
  /** Run this stage on the chunk's events where they are parsed (see ReadItem 'staged'). */
  stage?: Stage;
}

export interface ChunkResult {
  events: RawEvent[];
  /** The stage's output for the chunk's events, when a stage ran (events is then empty). */
  staged?: { value: string; events: number };
  xml: string[] | null;
  problems: InputProblem[];
  /** True when the chunk was all zeros (never used): not data, not damage. */
  empty: boolean;
}

function problem(opts: ChunkOptions, offsetInChunk: number, message: string, rejected = 0): InputProblem {
  return {
    file: opts.file,
    offset: opts.fileOffset + offsetInChunk,
    code: 'BAD_EVTX',
    message: `chunk ${opts.index}: ${message}`,
    rejected,
  };
}

/** Parses one chunk. Never throws: damage becomes problems, intact records become events. */
export function parseChunk(buf: Buffer, opts: ChunkOptions): ChunkResult {
  const result: ChunkResult = { events: [], xml: opts.xml ? [] : null, problems: [], empty: false };
  try {
    parseChunkInto(buf, opts, result);
  } catch (err) {
    result.problems.push(problem(opts, 0, `unexpected failure: ${(err as Error).message}`));
  }
  return result;
}

function parseChunkInto(buf: Buffer, opts: ChunkOptions, result: ChunkResult): void {
  if (buf.length < CHUNK_HEADER_SIZE) {
    if (!isZero(buf)) result.problems.push(problem(opts, 0, `truncated chunk (${buf.length} bytes)`));
    return;
  }
  if (buf.length < CHUNK_SIZE && !isZero(buf)) {
    // Cut short: the records before the cut may still be whole, and are read.
    result.problems.push(
      problem(opts, buf.length, `chunk truncated after ${buf.length} of ${CHUNK_SIZE} bytes`),
    );
  }
  if (buf.toString('latin1', 0, 8) !== 'ElfChnk\0') {
    if (isZero(buf)) {
      result.empty = true;
      return;
    }
    result.problems.push(problem(opts, 0, 'bad chunk signature; chunk skipped'));
    if (!opts.recover) return;
  }
  const freeSpace = buf.readUInt32LE(48);
  const storedHeaderCrc = buf.readUInt32LE(124);
  const headerCrc = crc32(buf.subarray(128, 512), crc32(buf.subarray(0, 120)));
  let damaged = false;
  // A failed check skips the chunk unless recovering; either way it is reported.
  const damage = (offset: number, message: string) => {
    result.problems.push(problem(opts, offset, `${message}${opts.recover ? '' : '; chunk skipped'}`));
    damaged = true;
  };
  if (storedHeaderCrc !== headerCrc) {
    damage(
      124,
      `chunk header checksum mismatch (stored ${hex(storedHeaderCrc)}, computed ${hex(headerCrc)})`,
    );
  }
  const dataEnd = freeSpace >= CHUNK_HEADER_SIZE && freeSpace <= buf.length ? freeSpace : -1;
  if (dataEnd < 0) damage(48, `free-space offset ${freeSpace} outside the chunk`);
  else {
    const storedDataCrc = buf.readUInt32LE(52);
    const dataCrc = crc32(buf.subarray(CHUNK_HEADER_SIZE, dataEnd));
    if (storedDataCrc !== dataCrc) {
      damage(52, `event records checksum mismatch (stored ${hex(storedDataCrc)}, computed ${hex(dataCrc)})`);
    }
  }
  if (damaged && !opts.recover) return;

  const binxml = new ChunkBinXml(buf);
  const end = dataEnd < 0 ? buf.length : dataEnd;
  let pos = CHUNK_HEADER_SIZE;
  while (pos + 28 <= end) {
    if (buf.readUInt32LE(pos) !== RECORD_MAGIC) {
      result.problems.push(problem(opts, pos, 'record signature missing; rest of chunk skipped', 1));
      return;
    }
    const size = buf.readUInt32LE(pos + 4);
    if (size < 28 || pos + size > buf.length || buf.readUInt32LE(pos + size - 4) !== size) {
      result.problems.push(
        problem(opts, pos, `record size ${size} is inconsistent; rest of chunk skipped`, 1),
      );
      return;
    }
    readRecord(buf, binxml, pos, size, opts, result);
    pos += size;
  }
  if (opts.recover) recoverSlack(buf, binxml, end, opts, result);
}

/** Records left in the unused tail of a chunk: complete ones (size and its copy agree) are read. */
function recoverSlack(
  buf: Buffer,
  binxml: ChunkBinXml,
  from: number,
  opts: ChunkOptions,
  result: ChunkResult,
): void {
  let pos = from;
  while (pos + 28 <= buf.length) {
    const at = buf.indexOf('**\0\0', pos, 'latin1');
    if (at < 0 || at + 28 > buf.length) return;
    const size = buf.readUInt32LE(at + 4);
    if (size >= 28 && at + size <= buf.length && buf.readUInt32LE(at + size - 4) === size) {
      const before = result.events.length;
      readRecord(buf, binxml, at, size, opts, result, true);
      if (result.events.length > before) {
        pos = at + size;
        continue;
      }
    }
    pos = at + 4;
  }
}

function readRecord(
  buf: Buffer,
  binxml: ChunkBinXml,
  pos: number,
  size: number,
  opts: ChunkOptions,
  result: ChunkResult,
  recovered = false,
): void {
  const recordId = Number(buf.readBigUInt64LE(pos + 8));
  const written = buf.readBigUInt64LE(pos + 16);
  const ctx = { file: opts.file, offset: opts.fileOffset + pos };
  if (!recovered && !opts.xml && !opts.generic) {
    // Fast path: the record's template compiled to flat fields.
    let data: Record<string, unknown> | null;
    try {
      binxml.lenient = false;
      data = binxml.parseRecordFlat(pos + 24, pos + size - 4);
    } catch (err) {
      const at = err instanceof BinXmlError ? err.offset : pos;
      result.problems.push(problem(opts, at, `record ${recordId}: ${(err as Error).message}`, 1));
      return;
    }
    if (data !== null) {
      const event = fromWindowsFields(data, ctx, 'evtx');
      finish(event, recordId, written);
      result.events.push(event);
      return;
    }
  }
  let elems: Elem[];
  try {
    binxml.lenient = recovered;
    elems = binxml.parseRecord(pos + 24, pos + size - 4);
  } catch (err) {
    if (recovered) return; // slack is full of half-overwritten records; only whole ones count
    const at = err instanceof BinXmlError ? err.offset : pos;
    result.problems.push(problem(opts, at, `record ${recordId}: ${(err as Error).message}`, 1));
    return;
  }
  const root = elems.find((e) => e.name === 'Event') ?? elems[0];
  if (!root && recovered && binxml.orphanValues) {
    // A deleted record whose template is gone: what it says is known, not what each value means.
    const data = { 'lotl.recovered': true, 'lotl.partial': true, 'lotl.values': binxml.orphanValues };
    const origin = {
      file: opts.file,
      format: 'evtx' as const,
      offset: opts.fileOffset + pos,
      record: recordId,
    };
    const time = fileTimeMs(written);
    result.events.push({
      time,
      provider: null,
      channel: null,
      eventId: null,
      computer: null,
      recordId,
      data,
      origin,
    });
    result.xml?.push(`<!-- record ${recordId}: recovered from chunk slack, template lost -->\n`);
    return;
  }
  if (!root) {
    if (!recovered) result.problems.push(problem(opts, pos, `record ${recordId}: no Event element`, 1));
    return;
  }
  const json = elemToJson(root) as Record<string, unknown>;
  const event = fromEvtxJson(typeof json === 'object' && json !== null ? json : {}, ctx, 'evtx');
  finish(event, recordId, written);
  if (recovered) event.data['lotl.recovered'] = true;
  if (binxml.partial) event.data['lotl.partial'] = true;
  result.events.push(event);
  result.xml?.push(elemToXml(root));
}

/** What every EVTX event gets from its record header. */
function finish(event: RawEvent, recordId: number, written: bigint): void {
  event.origin.record = recordId;
  if (event.recordId === null) event.recordId = recordId;
  if (event.time === null) event.time = fileTimeMs(written);
}

/** A chunk's worth of zeros: comparing with it is one memcmp (preallocated logs are mostly zeros). */
const ZEROS = Buffer.alloc(CHUNK_SIZE);

function isZero(buf: Buffer): boolean {
  for (let at = 0; at < buf.length; at += ZEROS.length) {
    const end = Math.min(buf.length, at + ZEROS.length);
    if (ZEROS.compare(buf, at, end, 0, end - at) !== 0) return false;
  }
  return true;
}

/**
 * A valid file header for `chunkCount` chunks (checksum included). Used to assemble EVTX files
 * from existing chunks: benchmarks repeat sample chunks into large files, tests build damaged ones.
 */
export function buildFileHeader(
  chunkCount: number,
  options: { dirty?: boolean; nextRecordId?: number } = {},
): Buffer {
  const h = Buffer.alloc(FILE_HEADER_SIZE);
  h.write('ElfFile\0', 0, 'latin1');
  h.writeBigUInt64LE(0n, 8);
  h.writeBigUInt64LE(BigInt(Math.max(0, chunkCount - 1)), 16);
  h.writeBigUInt64LE(BigInt(options.nextRecordId ?? 1), 24);
  h.writeUInt32LE(128, 32);
  h.writeUInt16LE(1, 36);
  h.writeUInt16LE(3, 38);
  h.writeUInt16LE(FILE_HEADER_SIZE, 40);
  h.writeUInt16LE(Math.min(chunkCount, 0xffff), 42);
  h.writeUInt32LE(options.dirty ? 1 : 0, 120);
  h.writeUInt32LE(crc32(h.subarray(0, 120)), 124);
  return h;
}

type StageFn = (events: RawEvent[], options: unknown) => string;
const stages = new Map<string, Promise<StageFn>>();

/** Runs the chunk's stage, if it has one, in whichever thread parsed it. */
export async function applyStage(result: ChunkResult, stage: Stage | undefined): Promise<ChunkResult> {
  if (!stage) return result;
  const key = `${stage.module}#${stage.name}`;
  let fn = stages.get(key);
  if (!fn) {
    fn = import(stage.module).then((m: Record<string, unknown>) => {
      const f = m[stage.name];
      if (typeof f !== 'function') throw new Error(`stage ${key} is not a function`);
      return f as StageFn;
    });
    stages.set(key, fn);
  }
  const value = (await fn)(result.events, stage.options);
  return { ...result, events: [], staged: { value, events: result.events.length } };
}
