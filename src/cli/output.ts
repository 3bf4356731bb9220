/** Writing to stdout with back-pressure, and stopping quietly when the reader goes away (`| head`). */
import { type InputProblem, isSkipped } from '../ingest/raw-event.js';
import { location } from '../report/stats.js';
import { printableLines } from '../report/terminal-text.js';
import { failureText } from './failure.js';

let closed = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  closed = true;
  if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return;
  // The output cannot be written (a full disk): say so and stop; the exit handler removes
  // temporary files.
  process.stderr.write(printableLines(`lotl: cannot write the output: ${failureText(err)}\n`));
  process.exit(2);
});

export function stdoutClosed(): boolean {
  return closed;
}

export async function write(text: string): Promise<void> {
  if (closed) return;
  if (process.stdout.write(text)) return;
  // Wait for the pipe to drain; a closed pipe ends the wait too (and stops further writes).
  await new Promise<void>((resolve) => {
    const done = () => {
      process.stdout.off('drain', done);
      process.stdout.off('close', done);
      process.stdout.off('error', done);
      resolve();
    };
    process.stdout.once('drain', done);
    process.stdout.once('close', done);
    process.stdout.once('error', done);
  });
}

/**
 * A message on stderr. Messages quote file names, log fields, rules and queries: their control
 * characters are shown as escapes, never sent to the terminal.
 */
export function warn(text: string): void {
  process.stderr.write(printableLines(text));
}

/**
 * Prints an input problem with its location, as every command does; returns whether it counts as
 * one (files that are not log data are skipped silently, and do not count).
 */
export function reportProblem(p: InputProblem): boolean {
  if (isSkipped(p)) return false;
  warn(`${location(p)}: ${p.code} ${p.message}\n`);
  return true;
}
