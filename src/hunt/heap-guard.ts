/**
 * A full garbage collection on request, for the heap guard below. (Hunts once also collected after
 * loading the rules; with the rule and scanner caches that load leaves little garbage, and the
 * collection cost 75 ms for no lower peak: docs/benchmarks.md.) V8 exposes `gc` to new contexts
 * once the flag is set.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null = null;

export function collectGarbage(): void {
  if (gc === null) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  // (Without options: on Node 20, `gc({ type: 'major' })` returns without collecting.)
  gc();
}

/**
 * A soft heap limit. V8 lets the old generation fill with garbage up to limits it sizes for speed
 * (on a 24 GB machine, several hundred megabytes before a full collection); hunting a 1 GB EVTX
 * file peaked at 550 MB that way. Checked every so often, this collects once the heap passes
 * `softLimitMb`, and then not again until it has grown to half again what survived, so a hunt whose
 * live data really grows never collects in a loop.
 */
export class HeapGuard {
  private threshold: number;
  private calls = 0;

  constructor(private readonly softLimitMb = 64) {
    this.threshold = softLimitMb * 1024 * 1024;
  }

  /** Cheap to call per event: looks at the heap every 1,024 calls. */
  tick(): void {
    if ((++this.calls & 1023) !== 0) return;
    if (process.memoryUsage().heapUsed < this.threshold) return;
    collectGarbage();
    const live = process.memoryUsage().heapUsed;
    this.threshold = Math.max(this.softLimitMb * 1024 * 1024, live * 1.5);
  }
}
