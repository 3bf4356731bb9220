/**
 * Reads an EVTX byte stream chunk by chunk: the 4 KiB file header, then 64 KiB chunks, each parsed
 * on its own (on worker threads when a pool is available) and yielded in file order. Memory stays
 * bounded by the chunks in flight, whatever the file size. Works on any byte stream, so EVTX
 * inside zip and gzip archives is read the same way as EVTX on disk.
 */
import { availableParallelism } from 'node:os';
import type { InputProblem, ReadItem, Stage } from '../raw-event.js';
import {
  applyStage,
  CHUNK_SIZE,
  type ChunkOptions,
  type ChunkResult,
  FILE_HEADER_SIZE,
  parseChunk,
  parseFileHeader,
} from './chunk.js';
import { type ChunkPool, chunkPool } from './pool.js';

export interface EvtxReadOptions {
  recover?: boolean;
  xml?: boolean;
  /** Receives each record's XML, in order, when `xml` is set (for `lotl dump --format xml`). */
  onXml?: (xml: string) => void;
  /**
   * Parse on worker threads (default: yes when the file is larger than a few chunks). A number
   * sizes the pool when it is first made: a caller whose own thread is busy with events (hunting)
   * leaves it a core.
   */
  workers?: boolean | number;
  /** Run this stage on each chunk's events where they are parsed; yields its output ('staged'). */
  stage?: Stage;
  /**
   * Share the work with the parser threads: chunks sent to them run this stage there (yielding
   * its output), and the calling thread parses the chunks they have no room for (yielding their
   * events), so every core both parses and handles events. Batches then come in the order they
   * are done, not file order. Takes precedence over `stage`; not with `xml`.
   */
  share?: Stage;
}

/**
 * Whether reading an EVTX file of `size` bytes starts the parser threads (files of a few chunks
 * are parsed on the calling thread). Lets a caller set the threads up ahead (ChunkPool.warm).
 */
export function evtxUsesPool(size: number): boolean {
  return size > FILE_HEADER_SIZE + POOL_MIN_CHUNKS * CHUNK_SIZE && availableParallelism() > 1;
}

/** How many chunks may be parsed ahead of the one being yielded. */
const WINDOW = 8;

/** Files of more chunks than this (64 × 64 KB: 4 MB) are parsed on the worker threads. */
const POOL_MIN_CHUNKS = 64;

export async function* readEvtx(
  bytes: AsyncIterable<Buffer>,
  file: string,
  options: EvtxReadOptions = {},
): AsyncGenerator<ReadItem[]> {
  const chunks = fixedBlocks(bytes);
  const first = await chunks.next(FILE_HEADER_SIZE);
  if (first === null) {
    yield [bad(file, 0, 'empty file')];
    return;
  }
  const header = parseFileHeader(first);
  const headerProblems: InputProblem[] = [];
  if (typeof header === 'string')
    headerProblems.push(bad(file, 0, `${header}; reading the chunks anyway`).problem);
  else if (header.problem)
    headerProblems.push(bad(file, 124, `${header.problem}; reading the chunks anyway`).problem);
  if (first.length < FILE_HEADER_SIZE) {
    headerProblems.push(
      bad(file, first.length, `file ends inside its header (${first.length} bytes)`).problem,
    );
  }
  if (headerProblems.length > 0)
    yield headerProblems.map((p) => ({ kind: 'problem', problem: p }) as ReadItem);

  const recover = options.recover === true;
  const xml = options.xml === true;
  const usePool = options.workers !== false;
  const declared = typeof header === 'string' ? 0 : header.chunkCount;
  /** Whether the file is too small for the parser threads; the header's chunk count says. */
  const smallFile = declared > 0 && declared <= POOL_MIN_CHUNKS;
  if (options.share && !xml) {
    const pool =
      usePool && !smallFile
        ? chunkPool(typeof options.workers === 'number' ? options.workers : undefined)
        : null;
    yield* readShared(chunks, file, declared, recover, options.share, pool);
    return;
  }
  const pending: { index: number; result: Promise<ChunkResult> }[] = [];
  let index = 0;
  let done = false;
  const submit = async (): Promise<void> => {
    const buf = await chunks.next(CHUNK_SIZE);
    if (buf === null) {
      done = true;
      return;
    }
    const opts = { ...chunkOptions(file, index, recover, xml), stage: options.stage };
    index++;
    // A pool pays for itself only in a large file, beyond its first couple of chunks: for the
    // many small logs of an EVTX folder, starting a thread and handing chunks to it and back cost
    // more than parsing them here (the shared data's 671 files, 17,443 events, read alone: about
    // 0.9 s with the pool, 0.75 s without).
    const pool =
      usePool && index > 2 && !smallFile
        ? chunkPool(typeof options.workers === 'number' ? options.workers : undefined)
        : null;
    const result = pool ? pool.parse(buf, opts) : applyStage(parseChunk(buf, opts), opts.stage);
    pending.push({ index: opts.index, result });
  };

  // All-zero chunks are unused space at the end of a preallocated file, unless data follows them
  // or the header counts them: then they are wiped chunks, and that is damage.
  let zeroRun: number[] = [];
  while (!done && pending.length < WINDOW) await submit();
  while (pending.length > 0) {
    const next = pending.shift()!;
    const result = await next.result;
    if (!done) await submit();
    const items: ReadItem[] = [];
    if (result.empty) {
      if (next.index < declared) items.push(wiped(file, next.index));
      else zeroRun.push(next.index);
    } else {
      for (const i of zeroRun) items.push(wiped(file, i));
      zeroRun = [];
    }
    pushResult(items, result);
    if (result.xml && options.onXml) for (const x of result.xml) options.onXml(x);
    if (items.length > 0) yield items;
  }
  if (index < declared) yield [truncated(file, index, declared)];
}

/** Chunks kept on each parser thread in `share` mode: enough that one never waits for the next. */
const SHARE_DEPTH = 8;

/**
 * The `share` mode of readEvtx: the parser threads are kept fed with chunks (each run through
 * the stage there); the calling thread parses a chunk itself whenever none of theirs is back, and
 * hands out whatever is done first.
 */
async function* readShared(
  chunks: { next(size: number): Promise<Buffer | null> },
  file: string,
  declared: number,
  recover: boolean,
  stage: Stage,
  pool: ChunkPool | null,
): AsyncGenerator<ReadItem[]> {
  const done: { index: number; result: ChunkResult }[] = [];
  let wake: (() => void) | null = null;
  let inFlight = 0;
  let index = 0;
  let ended = false;
  const empties: number[] = [];
  let lastData = -1;
  const nextChunk = async (): Promise<{ buf: Buffer; opts: ChunkOptions } | null> => {
    if (ended) return null;
    const buf = await chunks.next(CHUNK_SIZE);
    if (buf === null) {
      ended = true;
      return null;
    }
    return { buf, opts: chunkOptions(file, index++, recover, false) };
  };
  const itemsOf = (i: number, result: ChunkResult): ReadItem[] => {
    if (result.empty) {
      empties.push(i);
      return [];
    }
    lastData = Math.max(lastData, i);
    const items: ReadItem[] = [];
    pushResult(items, result);
    return items;
  };
  for (;;) {
    if (pool && inFlight > 0) {
      // This thread may not have waited on the event loop since the last chunk: take in what the
      // threads finished, or they would sit idle with their results unread.
      pool.poll();
      await undefined;
    }
    while (pool && !ended && inFlight < SHARE_DEPTH * pool.size) {
      const next = await nextChunk();
      if (next === null) break;
      inFlight++;
      const i = next.opts.index;
      pool.parse(next.buf, { ...next.opts, stage }).then((result) => {
        inFlight--;
        done.push({ index: i, result });
        wake?.();
      });
    }
    if (done.length > 0) {
      const { index: i, result } = done.shift()!;
      const items = itemsOf(i, result);
      if (items.length > 0) yield items;
      continue;
    }
    const here = await nextChunk();
    if (here !== null) {
      const items = itemsOf(here.opts.index, parseChunk(here.buf, here.opts));
      if (items.length > 0) yield items;
      continue;
    }
    // Reading the end of the file was an await: a thread may have finished meanwhile.
    if (done.length > 0) continue;
    if (inFlight === 0) break;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = null;
  }
  // All-zero chunks are unused space at the end of a preallocated file, unless data follows them
  // or the header counts them: then they are wiped chunks, and that is damage.
  const wipedItems = empties
    .filter((i) => i < declared || i < lastData)
    .sort((a, b) => a - b)
    .map((i) => wiped(file, i));
  if (wipedItems.length > 0) yield wipedItems;
  if (index < declared) yield [truncated(file, index, declared)];
}

/** Where chunk `index` of `file` is, and how to parse it. */
function chunkOptions(file: string, index: number, recover: boolean, xml: boolean): ChunkOptions {
  return { file, index, fileOffset: FILE_HEADER_SIZE + index * CHUNK_SIZE, recover, xml };
}

/** A chunk's problems, events and stage output as read items. */
function pushResult(items: ReadItem[], result: ChunkResult): void {
  for (const p of result.problems) items.push({ kind: 'problem', problem: p });
  for (const e of result.events) items.push({ kind: 'event', event: e });
  if (result.staged) items.push({ kind: 'staged', value: result.staged.value, events: result.staged.events });
}

function truncated(file: string, index: number, declared: number): ReadItem {
  return bad(
    file,
    FILE_HEADER_SIZE + index * CHUNK_SIZE,
    `file ends after ${index} chunks but its header declares ${declared} (truncated?)`,
  );
}

function wiped(file: string, index: number): ReadItem {
  return bad(
    file,
    FILE_HEADER_SIZE + index * CHUNK_SIZE,
    `chunk ${index} is all zeros (wiped or never written) but is counted or followed by data`,
  );
}

function bad(file: string, offset: number, message: string): { kind: 'problem'; problem: InputProblem } {
  return { kind: 'problem', problem: { file, offset, code: 'BAD_EVTX', message, rejected: 0 } };
}

/** Cuts a byte stream into blocks of exactly the asked size (the last one may be short). */
function fixedBlocks(bytes: AsyncIterable<Buffer>): { next(size: number): Promise<Buffer | null> } {
  const it = bytes[Symbol.asyncIterator]();
  let pending: Buffer[] = [];
  let have = 0;
  let ended = false;
  return {
    async next(size: number): Promise<Buffer | null> {
      while (have < size && !ended) {
        const r = await it.next();
        if (r.done) ended = true;
        else {
          pending.push(r.value);
          have += r.value.length;
        }
      }
      if (have === 0) return null;
      const all = pending.length === 1 ? pending[0] : Buffer.concat(pending, have);
      const take = Math.min(size, have);
      // A view, not a copy: the pool copies only the chunks it hands to a thread.
      const block = all.subarray(0, take);
      const rest = all.subarray(take);
      pending = rest.length > 0 ? [rest] : [];
      have = rest.length;
      return block;
    },
  };
}
