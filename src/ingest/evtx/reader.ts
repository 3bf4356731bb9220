/**
 * Reads an EVTX byte stream chunk by chunk: the 4 KiB file header, then 64 KiB chunks, each parsed
 * on its own (on worker threads when a pool is available) and yielded in file order. Memory stays
 * bounded by the chunks in flight, whatever the file size. Works on any byte stream, so EVTX
 * inside zip and gzip archives is read the same way as EVTX on disk.
 */
import type { InputProblem, ReadItem, Stage } from '../raw-event.js';
import {
  applyStage,
  CHUNK_SIZE,
  type ChunkResult,
  FILE_HEADER_SIZE,
  parseChunk,
  parseFileHeader,
} from './chunk.js';
import { chunkPool } from './pool.js';

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
  const pending: { index: number; result: Promise<ChunkResult> }[] = [];
  let index = 0;
  let done = false;
  const submit = async (): Promise<void> => {
    const buf = await chunks.next(CHUNK_SIZE);
    if (buf === null) {
      done = true;
      return;
    }
    const opts = {
      file,
      index,
      fileOffset: FILE_HEADER_SIZE + index * CHUNK_SIZE,
      recover,
      xml,
      stage: options.stage,
    };
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
    for (const p of result.problems) items.push({ kind: 'problem', problem: p });
    for (const e of result.events) items.push({ kind: 'event', event: e });
    if (result.staged)
      items.push({ kind: 'staged', value: result.staged.value, events: result.staged.events });
    if (result.xml && options.onXml) for (const x of result.xml) options.onXml(x);
    if (items.length > 0) yield items;
  }
  if (index < declared) {
    yield [
      bad(
        file,
        FILE_HEADER_SIZE + index * CHUNK_SIZE,
        `file ends after ${index} chunks but its header declares ${declared} (truncated?)`,
      ),
    ];
  }
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
      // Copy the block into memory of its own, so a worker can take it over without copying.
      const block = Buffer.allocUnsafeSlow(take);
      all.copy(block, 0, 0, take);
      const rest = all.subarray(take);
      pending = rest.length > 0 ? [rest] : [];
      have = rest.length;
      return block;
    },
  };
}
