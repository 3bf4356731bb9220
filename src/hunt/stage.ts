/**
 * The hunt as a stage of the EVTX reader (EvtxReadOptions.share): a parser thread that has parsed
 * a chunk also normalises its events and runs the detectors on them, and sends back only the
 * alerts, as JSON text. Each parser thread loads the detectors on its first chunk; the main thread
 * registers its own, used if a crashed thread's chunks are redone here.
 */
import { type Alert, alertHead } from '../detect/alert.js';
import type { CorrelationSignal } from '../detect/sigma/correlation.js';
import type { RawEvent, Stage } from '../ingest/raw-event.js';
import { normalize } from '../normalize/normalize.js';
import { type Detector, type HuntSetup, loadDetectors } from './detectors.js';
import { HeapGuard } from './heap-guard.js';

let loaded: { key: string; detectors: Detector[] } | null = null;
/** Matches of rules that feed correlations, from the chunk being hunted (judged on the main thread). */
let signals: CorrelationSignal[] = [];
/** How a signal line starts (an alert line starts with its head's JSON object). */
export const SIGNAL_LINE = 'S\t';
/** Keeps a parser thread's heap near its live size (rules, scanners), as on the main thread. */
const heap = new HeapGuard();

/** The stage that runs `setup`'s detectors where chunks are parsed. */
export function huntStage(setup: HuntSetup): Stage {
  return { module: new URL('./stage.js', import.meta.url).href, name: 'huntEvents', options: setup };
}

/** Registers this thread's already loaded detectors for `setup`. */
export function useDetectorsHere(setup: HuntSetup, detectors: Detector[]): void {
  loaded = { key: JSON.stringify(setup), detectors };
}

/**
 * Stage function: a chunk's events → the alerts they raise, a line each (head, tab, JSON text),
 * and the matches that feed correlation rules, a line each (SIGNAL_LINE, JSON text).
 */
export function huntEvents(events: RawEvent[], setup: HuntSetup): string {
  const key = JSON.stringify(setup);
  if (loaded === null || loaded.key !== key)
    loaded = { key, detectors: loadDetectors(setup, (s) => signals.push(s)).detectors };
  signals = [];
  const alerts: Alert[] = [];
  for (const event of events) {
    const view = normalize(event);
    for (const d of loaded.detectors) for (const a of d.evaluate(view)) alerts.push(a);
    heap.tick();
  }
  // One alert a line: its head, a tab, its JSON text (JSON.stringify leaves no raw newline or
  // tab). The main thread parses only the head, and keeps the text.
  return [
    ...alerts.map((a) => `${JSON.stringify(alertHead(a))}\t${JSON.stringify(a)}`),
    ...signals.map((s) => `${SIGNAL_LINE}${JSON.stringify(s)}`),
  ].join('\n');
}
