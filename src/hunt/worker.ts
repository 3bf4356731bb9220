/**
 * A hunting thread: loads the rules and indicators once, then runs whole work units — a file, or
 * a range of lines of a large JSON-lines file — through read → normalise → detect, and sends back
 * only the alerts, the problems and the counts.
 */
import { parentPort } from 'node:worker_threads';
import type { Alert } from '../detect/alert.js';
import type { CorrelationSignal } from '../detect/sigma/correlation.js';
import type { InputProblem, ReadItem } from '../ingest/raw-event.js';
import { readFile, readJsonLinesRange } from '../ingest/read.js';
import { normalize } from '../normalize/normalize.js';
import { type Detector, type HuntSetup, loadDetectors } from './detectors.js';

export type { HuntSetup } from './detectors.js';

export interface HuntUnit {
  id: number;
  file: string;
  explicit: boolean;
  range?: { start: number; end: number; firstLine: number };
}

export interface UnitResult {
  id: number;
  alerts: Alert[];
  /** Matches of rules that feed correlations, for the main thread to judge. */
  signals: CorrelationSignal[];
  problems: InputProblem[];
  events: number;
}

let detectors: Detector[] = [];
/** Where the engine puts correlation signals: the unit being hunted's result. */
let signals: CorrelationSignal[] = [];
let recover = false;

parentPort?.on('message', async (msg: { setup?: HuntSetup; unit?: HuntUnit }) => {
  if (msg.setup) {
    recover = msg.setup.recover;
    const loaded = loadDetectors(msg.setup, (s) => signals.push(s));
    detectors = loaded.detectors;
    parentPort!.postMessage({ ready: true, load: loaded.load });
    return;
  }
  const unit = msg.unit!;
  const result: UnitResult = { id: unit.id, alerts: [], signals: [], problems: [], events: 0 };
  signals = result.signals;
  let sent = 0;
  const onBytes = (n: number) => {
    sent += n;
    if (sent >= 4 << 20) {
      parentPort!.postMessage({ progress: sent });
      sent = 0;
    }
  };
  const batches: AsyncIterable<ReadItem[]> = unit.range
    ? readJsonLinesRange(unit.file, unit.range, { onBytes })
    : // This thread is already one of several: EVTX chunks are parsed here, not on more threads.
      readFile(unit.file, { onBytes, evtx: { recover, workers: false } }, unit.explicit);
  for await (const batch of batches) {
    for (const item of batch) {
      if (item.kind === 'event') {
        result.events++;
        const view = normalize(item.event);
        for (const d of detectors) for (const a of d.evaluate(view)) result.alerts.push(a);
      } else if (item.kind === 'problem') result.problems.push(item.problem);
    }
  }
  if (sent > 0) parentPort!.postMessage({ progress: sent });
  parentPort!.postMessage({ result });
});
