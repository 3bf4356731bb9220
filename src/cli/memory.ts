/**
 * A full garbage collection on request. Loading SigmaHQ leaves tens of megabytes of parse garbage
 * (documents, file buffers) that V8 would collect only later, after the hunt's own allocations
 * have grown the heap on top of it: collecting once between loading and hunting lowers the peak
 * (by about 20 MB over the EVTX corpus, though a JSON-lines hunt then peaks about 20 MB higher,
 * still far below; docs/benchmarks.md). V8 exposes `gc` to new contexts once
 * the flag is set.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null = null;

export function collectGarbage(): void {
  if (gc === null) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
