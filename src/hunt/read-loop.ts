/**
 * The read loop every hunt and command shares: list the inputs, report progress, read, normalise,
 * and hand each event or problem to the caller, as it happens.
 */

import type { InputProblem } from '../ingest/raw-event.js';
import { listInputs, type ReadOptions, readFile, WholeFileBuffers } from '../ingest/read.js';
import { type EventView, normalize } from '../normalize/normalize.js';

/** Where progress goes: bytes read out of the total, and the file being read. */
export interface Progress {
  add(bytes: number): void;
  file(name: string): void;
  stop(): void;
}

/** Makes the progress of a read of `totalBytes` (the CLI draws a bar; a server counts). */
export type ProgressFactory = (totalBytes: number) => Progress;

const NO_PROGRESS: Progress = { add() {}, file() {}, stop() {} };

export interface ReadHandlers {
  event(view: EventView): void;
  problem(problem: InputProblem): void;
  /** Output of a stage run where the events were parsed (when readOptions asked for one). */
  staged?(value: string, events: number): void;
  /** Called after each batch: the place to write buffered output with back-pressure. */
  flush?(): Promise<void>;
  /** Return true to stop reading early (e.g. the output pipe closed). */
  stop?(): boolean;
}

export async function readAll(
  paths: string[],
  handlers: ReadHandlers,
  progressOf: ProgressFactory | null,
  readOptions: Pick<ReadOptions, 'evtx'> = {},
  /** The inputs as listInputs found them, when the caller has listed them already. */
  listed?: Awaited<ReturnType<typeof listInputs>>,
): Promise<void> {
  const { files, problems } = listed ?? (await listInputs(paths));
  for (const p of problems) handlers.problem(p);
  const total = files.reduce((s, f) => s + f.size, 0);
  const progress = progressOf ? progressOf(total) : NO_PROGRESS;
  const options = {
    ...readOptions,
    onBytes: progress.add,
    onFile: progress.file,
    wholeFiles: new WholeFileBuffers(),
  };
  // The next file's first batch is read while this one's events are handled: with many small
  // files (an EVTX folder), waiting for each open and read in turn left the thread idle.
  const open = (i: number) => {
    if (i >= files.length) return null;
    const batches = readFile(files[i].path, options, files[i].explicit)[Symbol.asyncIterator]();
    return { batches, first: batches.next() };
  };
  let ahead = open(0);
  try {
    for (let i = 0; ahead !== null; i++) {
      const { batches, first } = ahead;
      let next = await first;
      ahead = open(i + 1);
      while (!next.done) {
        for (const item of next.value) {
          if (item.kind === 'event') handlers.event(normalize(item.event));
          else if (item.kind === 'problem') handlers.problem(item.problem);
          else handlers.staged?.(item.value, item.events);
        }
        if (handlers.flush) await handlers.flush();
        if (handlers.stop?.()) {
          await batches.return?.(undefined);
          return;
        }
        next = await batches.next();
      }
    }
  } finally {
    if (ahead) {
      // Stopped early: close the file read ahead (its first read may still be under way).
      const { batches, first } = ahead;
      await first.catch(() => undefined);
      await batches.return?.(undefined);
    }
    progress.stop();
  }
}
