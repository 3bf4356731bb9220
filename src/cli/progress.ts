/**
 * A progress bar on stderr for long reads: bytes of input consumed out of the total. Shown only
 * when stderr is a terminal, so pipes and CI logs stay clean.
 */
import cliProgress from 'cli-progress';
import type { Progress, ProgressFactory } from '../hunt/read-loop.js';
import { printable } from '../report/terminal-text.js';

export type { Progress } from '../hunt/read-loop.js';

const NONE: Progress = { add() {}, file() {}, stop() {} };

export function startProgress(totalBytes: number, enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY || totalBytes <= 0) return NONE;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: ' {bar} {percentage}% | {value}/{total} MB | {file}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  const mb = (n: number) => Math.round(n / 1_048_576);
  let done = 0;
  bar.start(Math.max(1, mb(totalBytes)), 0, { file: '' });
  return {
    add(bytes) {
      done += bytes;
      bar.update(mb(done));
    },
    file(name) {
      const shown = printable(name);
      const short = shown.length > 50 ? `…${shown.slice(-49)}` : shown;
      bar.update(mb(done), { file: short });
    },
    stop() {
      bar.stop();
    },
  };
}

/** The progress bar as the read loop wants it, or none (`--no-progress`, or stderr not a terminal). */
export function progressBar(enabled: boolean): ProgressFactory | null {
  return enabled ? (total) => startProgress(total, true) : null;
}

/** A bar counting steps (a hunt over a store: queries run of all), on a terminal only. */
export function startStepProgress(
  unit: string,
  enabled: boolean,
): { step(done: number, total: number): void; stop(): void } {
  if (!enabled || !process.stderr.isTTY) return { step() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: ` {bar} {percentage}% | {value}/{total} ${unit}`,
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    step(done, total) {
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(done);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
