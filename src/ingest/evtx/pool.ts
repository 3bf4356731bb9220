/**
 * A small pool of worker threads that parse EVTX chunks. Chunks are independent, so both cores
 * can work while the main thread normalises and writes. The pool is shared by every file of a
 * run, started on first use, and holds the process open only while it has work. Where no worker
 * script exists (running from TypeScript sources without a build), parsing stays on the main thread.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { Stage } from '../raw-event.js';
import { applyStage, type ChunkOptions, type ChunkResult, parseChunk } from './chunk.js';

export interface ChunkPool {
  parse(buf: Buffer, opts: ChunkOptions): Promise<ChunkResult>;
  /** Threads in the pool. */
  readonly size: number;
  /** Chunks handed to the threads and not yet back. */
  inFlight(): number;
  /** Stops the threads (chunks still in flight are lost: call when none are). */
  close(): Promise<void>;
  /** Has each thread set up `stage` now (load its rules), before the chunks that will need it. */
  warm(stage: Stage): void;
  /**
   * Takes in the results the threads have sent, without waiting for the event loop (their
   * promises then settle at the next microtask). A caller that keeps its thread busy with work
   * that awaits no I/O would otherwise see them only when it next waits.
   */
  poll(): void;
}

interface Slot {
  worker: Worker;
  /** Where the thread sends its results (a channel of its own, so they can be polled). */
  results: MessagePort;
  busy: number;
}

interface ResultMessage {
  id: number;
  json: string;
  events: string[];
  staged?: ChunkResult['staged'];
}

interface Job {
  slot: Slot;
  buf: Buffer;
  opts: ChunkOptions;
  resolve: (r: ChunkResult) => void;
}

let shared: ChunkPool | null | undefined;

/** The shared pool: one thread per core up to 4 (or `size`), none on a single core. */
export function chunkPool(size?: number): ChunkPool | null {
  if (shared !== undefined) return shared;
  const script = workerScript();
  const threads = Math.max(1, Math.min(size ?? availableParallelism(), 4));
  shared = script && availableParallelism() > 1 ? createPool(script, threads) : null;
  return shared;
}

/**
 * Stops the shared pool's threads (a later read starts new ones). A hunt calls it once everything
 * is read: with `share` each thread holds its own copy of the rules, memory the merge of the
 * alerts that follows can use instead.
 */
export async function releaseChunkPool(): Promise<void> {
  const pool = shared;
  shared = undefined;
  if (pool) await pool.close();
}

function workerScript(): URL | null {
  const here = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  // Under the test runner the modules are TypeScript sources; use the build when there is one.
  const built = new URL('../../../dist/ingest/evtx/worker.js', import.meta.url);
  return existsSync(fileURLToPath(built)) ? built : null;
}

function crashed(opts: ChunkOptions): ChunkResult {
  return {
    events: [],
    xml: null,
    empty: false,
    problems: [
      {
        file: opts.file,
        offset: opts.fileOffset,
        code: 'BAD_EVTX',
        message: `chunk ${opts.index}: the parser thread stopped while reading it; chunk not read`,
        rejected: 0,
      },
    ],
  };
}

function createPool(script: URL, size: number): ChunkPool {
  const slots: Slot[] = [];
  const jobs = new Map<number, Job>();
  let nextId = 0;

  const finish = (id: number, result: ChunkResult) => {
    const job = jobs.get(id);
    if (!job) return;
    jobs.delete(id);
    job.slot.busy--;
    if (job.slot.busy === 0) {
      job.slot.worker.unref();
      job.slot.results.unref();
    }
    job.resolve(result);
  };
  const received = (msg: ResultMessage) => {
    const result = JSON.parse(msg.json) as ChunkResult;
    result.events = msg.events.map((e) => JSON.parse(e));
    if (msg.staged) result.staged = msg.staged;
    finish(msg.id, result);
  };

  for (let i = 0; i < size; i++) {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(script, { workerData: { results: port2 }, transferList: [port2] });
    const slot: Slot = { worker, results: port1, busy: 0 };
    port1.on('message', received);
    slot.worker.on('error', () => {
      // A crashed worker must not lose chunks silently: parse its jobs here when their memory is
      // still ours, report them otherwise, and retire the worker.
      const at = slots.indexOf(slot);
      if (at >= 0) slots.splice(at, 1);
      for (const [id, job] of jobs) {
        if (job.slot !== slot) continue;
        if (job.buf.byteLength > 0) {
          applyStage(parseChunk(job.buf, job.opts), job.opts.stage).then(
            (r) => finish(id, r),
            () => finish(id, crashed(job.opts)),
          );
        } else finish(id, crashed(job.opts));
      }
    });
    // Unref after the listeners: adding a 'message' listener refs the port again.
    slot.worker.unref();
    slot.results.unref();
    slots.push(slot);
  }

  return {
    get size() {
      return slots.length;
    },
    inFlight: () => jobs.size,
    warm(stage) {
      for (const slot of slots) slot.worker.postMessage({ warm: stage });
    },
    async close() {
      const all = slots.splice(0);
      for (const slot of all) slot.results.close();
      await Promise.all(all.map((slot) => slot.worker.terminate()));
    },
    poll() {
      for (const slot of slots) {
        if (slot.busy === 0) continue;
        for (let m = receiveMessageOnPort(slot.results); m; m = receiveMessageOnPort(slot.results))
          received(m.message as ResultMessage);
      }
    },
    parse(buf, opts) {
      if (slots.length === 0) return Promise.resolve(parseChunk(buf, opts));
      const slot = slots.reduce((a, b) => (b.busy < a.busy ? b : a));
      const id = nextId++;
      // Hand the chunk's memory over rather than cloning it; a chunk cut from a larger buffer (a
      // file read whole) gets memory of its own first, as cloning a view sends all its buffer.
      if (buf.byteOffset !== 0 || buf.byteLength !== buf.buffer.byteLength) {
        const own = Buffer.allocUnsafeSlow(buf.length);
        buf.copy(own);
        buf = own;
      }
      return new Promise((resolve) => {
        jobs.set(id, { slot, buf, opts, resolve });
        if (slot.busy++ === 0) {
          slot.worker.ref();
          slot.results.ref();
        }
        slot.worker.postMessage({ id, buf, opts }, [buf.buffer as ArrayBuffer]);
      });
    },
  };
}
