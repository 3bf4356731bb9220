/**
 * Temporary folders of a run (spilled alert runs, rows staged for DuckDB): they can hold hundreds
 * of megabytes, so every one is registered here and removed when its owner is done, when the
 * process exits, and when it is interrupted (SIGINT, SIGTERM, SIGHUP): the CLI calls
 * removeTempDirsOnSignals once. Shared by every stage, so it sits beside them rather than in one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const live = new Set<string>();

/** A new folder under the system's temporary directory, removed at exit if not before. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  live.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  live.delete(dir);
}

/** Removes every folder still registered (synchronously: this runs on exit and on signals). */
export function removeAllTempDirs(): void {
  for (const dir of live) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort: a folder that cannot be removed now is left, not a second failure.
    }
  }
  live.clear();
}

let installed = false;
/** Work to finish before an interrupted process exits (a server closing its store), if any. */
let finishing: (() => Promise<void>) | null = null;
/** How long that work may take before the process exits anyway. */
const FINISH_MS = 10_000;

/** Registers the work an interrupt waits for (at most FINISH_MS) before the process exits. */
export function onInterrupt(work: () => Promise<void>): void {
  finishing = work;
}

/**
 * On an interrupt, remove the temporary folders and exit as a shell expects (128 + the signal's
 * number); on a normal exit, remove what is left.
 */
export function removeTempDirsOnSignals(): void {
  if (installed) return;
  installed = true;
  process.on('exit', removeAllTempDirs);
  const numbers: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };
  for (const [signal, n] of Object.entries(numbers)) {
    process.on(signal as NodeJS.Signals, async () => {
      const work = finishing;
      finishing = null;
      if (work) {
        // A second signal while this runs exits at once (work is null then).
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          work().catch(() => undefined),
          new Promise((r) => {
            timer = setTimeout(r, FINISH_MS);
          }),
        ]);
        clearTimeout(timer);
      }
      removeAllTempDirs();
      process.stderr.write(`lotl: interrupted (${signal}); temporary files removed\n`);
      process.exit(128 + n);
    });
  }
}
