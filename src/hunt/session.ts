/**
 * A hunt, outside any command line: read every input, offer each event to the detectors, run the
 * KQL hunts over a store of the events, and return the alerts in order (a spool that keeps memory
 * bounded) with the counts. What happens on the way — input problems, the rules the threads
 * loaded, notes for the user, progress — goes to the caller's handlers as it happens, so the CLI
 * prints it, and a report or a server can keep it.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Alert, AlertHead } from '../detect/alert.js';
import { huntAlerts, type KqlHunt } from '../detect/kql/hunts.js';
import { mergeRowNeeds, rowTest } from '../detect/kql/row-needs.js';
import {
  CorrelationEngine,
  type CorrelationRule,
  type CorrelationSignal,
} from '../detect/sigma/correlation.js';
import { SigmaEngine } from '../detect/sigma/engine.js';
import { releaseChunkPool } from '../ingest/evtx/pool.js';
import { type InputProblem, isSkipped, type Stage } from '../ingest/raw-event.js';
import { listInputs, planJsonLinesRanges } from '../ingest/read.js';
import type { EventView } from '../normalize/normalize.js';
import { AlertSpool } from '../report/alert-spool.js';
import { EventStore } from '../store/duckdb.js';
import type { Detector, DetectorLoad, HuntSetup } from './detectors.js';
import { HeapGuard } from './heap-guard.js';
import { type ProgressFactory, readAll } from './read-loop.js';
import { SIGNAL_LINE } from './stage.js';
import type { HuntUnit, UnitResult } from './worker.js';

/** DuckDB's memory for a hunt's KQL hunts (the tables live in a file; it pages the rest). */
export const HUNT_STORE_MEMORY = '256MB';
/** Staged rows up to this size are loaded in memory; more go to a database file. */
export const HUNT_STORE_IN_MEMORY_BYTES = 64 * 1024 * 1024;

export interface SessionOptions {
  recover?: boolean;
  /** Which alerts to keep (level, time, host, rule filters); all when absent. */
  filter?: (a: AlertHead) => boolean;
  /**
   * Alerts of rules the user left out (`--exclude-rule`): dropped before anything sees them — the
   * KQL store's alert tables, the correlate stage, the output — and counted.
   */
  exclude?: (a: AlertHead) => boolean;
  /** KQL hunting queries, run over a store of every event (and the alerts) once all are read. */
  kql?: KqlHunt[];
  /**
   * The detectors as a stage the EVTX parser threads can run (see stage.ts): large EVTX files
   * are then hunted on every core. Only for detections that need no single stream of events
   * (no correlation rules, no KQL store).
   */
  share?: Stage;
  /** The inputs, when the caller has listed them already. */
  listed?: Awaited<ReturnType<typeof listInputs>>;
  /**
   * Told of every event and every alert (the correlate stage). It needs every event here, so
   * EVTX chunks are then not hunted on the parser threads.
   */
  observe?: { event(view: EventView): void; alert(a: Alert, view?: EventView): void };
}

export interface SessionHandlers {
  /** Every input problem, skipped files included, as it is met. */
  problem?(p: InputProblem): void;
  /** A failure that is not an input problem (a KQL hunt that could not run): counted as a problem. */
  error?(where: string, message: string): void;
  /** A sentence for the user (a bound reached). */
  note?(text: string): void;
  /** What the hunting threads loaded (parallel hunts; once). */
  loaded?(load: DetectorLoad): void;
  progress?: ProgressFactory | null;
}

export interface HuntResult {
  /** The alerts kept by the filter, in their stable order (read with sorted() or sortedText()). */
  alerts: AlertSpool;
  events: number;
  /** Input problems that are not skips, and errors. */
  problems: number;
  seconds: number;
  threads: number;
  /** Alerts dropped by `exclude`. */
  excluded: number;
}

/** The hunt on this thread (the other cores parse EVTX chunks, and with `share` hunt them too). */
export async function huntHere(
  paths: string[],
  detectors: Detector[],
  opts: SessionOptions,
  on: SessionHandlers = {},
): Promise<HuntResult> {
  const alerts = new AlertSpool();
  const keep = opts.filter;
  const exclude = opts.exclude;
  let excluded = 0;
  /** Whether an alert goes on (and counts the ones that do not). */
  const wanted = (a: AlertHead) => {
    if (exclude?.(a)) {
      excluded++;
      return false;
    }
    return true;
  };
  const observe = opts.observe;
  const heap = new HeapGuard();
  /** Matches of rules that feed correlations, sent by parser threads with their chunks' alerts. */
  const staged: CorrelationSignal[] = [];
  let events = 0;
  let problems = 0;
  const started = performance.now();
  const needs = mergeRowNeeds((opts.kql ?? []).map((h) => h.compiled.rowNeeds));
  const store =
    opts.kql && opts.kql.length > 0
      ? await EventStore.open(undefined, {
          only: opts.kql.flatMap((h) => h.compiled.tables),
          // Only rows some hunt may read: its leading filters, reduced to terms and values.
          rows: (table) => rowTest(needs, table),
          // A hunt may stage gigabytes of events: on disk, DuckDB holds its memory limit at most.
          onDiskAbove: HUNT_STORE_IN_MEMORY_BYTES,
          limits: { memory: HUNT_STORE_MEMORY },
        })
      : null;
  try {
    await readAll(
      paths,
      {
        event(view) {
          events++;
          store?.add(view);
          observe?.event(view);
          for (const d of detectors)
            for (const a of d.evaluate(view)) {
              if (!wanted(a)) continue;
              // Hunting queries over AlertEvidence see every alert, whatever the output keeps.
              store?.addAlert(a, view);
              observe?.alert(a, view);
              if (!keep || keep(a)) alerts.add(a);
            }
          heap.tick();
        },
        // Alerts a parser thread raised on the chunks it parsed (EVTX with `share`).
        staged(value, count) {
          events += count;
          if (value === '') return;
          for (const line of value.split('\n')) {
            if (line.startsWith(SIGNAL_LINE)) {
              staged.push(JSON.parse(line.slice(SIGNAL_LINE.length)) as CorrelationSignal);
              continue;
            }
            const tab = line.indexOf('\t');
            const head = JSON.parse(line.slice(0, tab)) as AlertHead;
            if (wanted(head) && (!keep || keep(head))) alerts.add(head, line.slice(tab + 1));
          }
          heap.tick();
        },
        problem(p) {
          if (!isSkipped(p)) problems++;
          on.problem?.(p);
        },
      },
      on.progress ?? null,
      {
        evtx: {
          recover: opts.recover === true,
          workers: availableParallelism() - 1,
          share: store || observe ? undefined : opts.share,
        },
      },
      opts.listed,
    );
    // The parser threads (and, with `share`, their copies of the rules) are done: their memory
    // goes back before the KQL store loads and the alerts are merged.
    await releaseChunkPool();
    // The correlations the parser threads' matches complete, judged by this thread's engine.
    for (const d of detectors)
      if (d instanceof SigmaEngine)
        for (const a of d.judgeSignals(staged)) {
          if (!wanted(a)) continue;
          observe?.alert(a);
          if (!keep || keep(a)) alerts.add(a);
        }
    for (const d of detectors)
      for (const a of d.flush?.() ?? []) {
        if (!wanted(a)) continue;
        observe?.alert(a);
        if (!keep || keep(a)) alerts.add(a);
      }
    for (const d of detectors) for (const note of d.limits?.() ?? []) on.note?.(note);
    let loaded = false;
    if (store) {
      try {
        await store.finish();
        loaded = true;
      } catch (err) {
        // The hunting queries cannot run (DuckDB out of memory, a full disk): said, and the
        // other detections' alerts are still written.
        problems++;
        on.error?.('KQL hunts', `KQL_STORE ${(err as Error).message.split('\n')[0]}`);
      }
    }
    if (store && loaded) {
      for (const hunt of opts.kql ?? []) {
        try {
          for (const a of huntAlerts(hunt, await store.kql(hunt.compiled))) {
            if (!wanted(a)) continue;
            observe?.alert(a);
            if (!keep || keep(a)) alerts.add(a);
          }
        } catch (err) {
          problems++;
          on.error?.(hunt.file, `KQL_QUERY ${(err as Error).message.split('\n')[0]}`);
        }
      }
    }
  } catch (err) {
    alerts.discard();
    throw err;
  } finally {
    store?.close();
  }
  return {
    alerts,
    events,
    problems,
    seconds: (performance.now() - started) / 1000,
    threads: 1,
    excluded,
  };
}

/**
 * The same hunt on `threads` worker threads. Work units are whole files, and line ranges of large
 * JSON-lines files; only alerts, problems, counts and the matches of rules that feed correlation
 * rules come back, and the correlations are judged here over those matches in time order
 * (judgeCorrelations). The alerts are the same, sorted the same way (correlations over events
 * whose order in the files differs from their time order may close their windows differently).
 */
export async function huntOnThreads(
  paths: string[],
  setup: HuntSetup,
  opts: SessionOptions,
  threads: number,
  on: SessionHandlers = {},
): Promise<HuntResult> {
  const started = performance.now();
  // The caller may have listed the inputs already (to size them); walking the tree again is wasted I/O.
  const { files, problems: listProblems } = opts.listed ?? (await listInputs(paths));
  const workers = Array.from({ length: threads }, () => new Worker(new URL('./worker.js', import.meta.url)));
  const ready = Promise.all(
    workers.map(
      (w) =>
        new Promise<DetectorLoad | null>((resolve) =>
          w.once('message', (m: { load: DetectorLoad | null }) => resolve(m.load)),
        ),
    ),
  );
  for (const w of workers) w.postMessage({ setup });
  // Plan while the workers load their rules: large JSON-lines files are cut into line ranges.
  const units: HuntUnit[] = [];
  for (const f of files) {
    const ranges = await planJsonLinesRanges(f.path, threads * 4, 32 * 1024 * 1024);
    if (ranges)
      for (const range of ranges) units.push({ id: units.length, file: f.path, explicit: f.explicit, range });
    else units.push({ id: units.length, file: f.path, explicit: f.explicit });
  }
  // Biggest first keeps every thread busy to the end.
  const sizes = new Map(files.map((f) => [f.path, f.size]));
  const order = [...units].sort((a, b) => {
    const sa = a.range ? a.range.end - a.range.start : (sizes.get(a.file) ?? 0);
    const sb = b.range ? b.range.end - b.range.start : (sizes.get(b.file) ?? 0);
    return sb - sa;
  });
  const [load] = await ready;
  if (load) on.loaded?.(load);
  // Correlation rules are judged here, over the threads' matches of the rules they reference.
  const signals: CorrelationSignal[] = [];
  const progress = on.progress ? on.progress(files.reduce((s, f) => s + f.size, 0)) : null;
  const alerts = new AlertSpool();
  const problems: InputProblem[] = [...listProblems];
  let events = 0;
  let excluded = 0;
  let next = 0;
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              if (next >= order.length) {
                resolve();
                return;
              }
              w.postMessage({ unit: order[next++] });
            };
            w.on('message', (msg: { progress?: number; result?: UnitResult }) => {
              if (msg.progress) progress?.add(msg.progress);
              if (msg.result) {
                for (const a of msg.result.alerts) {
                  if (opts.exclude?.(a)) {
                    excluded++;
                    continue;
                  }
                  if (!opts.filter || opts.filter(a)) alerts.add(a);
                }
                for (const s of msg.result.signals) signals.push(s);
                for (const p of msg.result.problems) problems.push(p);
                events += msg.result.events;
                send();
              }
            });
            w.on('error', reject);
            send();
          }),
      ),
    );
  } finally {
    progress?.stop();
    await Promise.all(workers.map((w) => w.terminate()));
  }
  if (load && load.correlationRules.length > 0) {
    for (const a of judgeCorrelations(load.correlationRules, signals)) {
      if (opts.exclude?.(a)) {
        excluded++;
        continue;
      }
      if (!opts.filter || opts.filter(a)) alerts.add(a);
    }
  }
  // Problems in input order, whichever thread met them.
  problems.sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? a.offset ?? 0) - (b.line ?? b.offset ?? 0),
  );
  let count = 0;
  for (const p of problems) {
    if (!isSkipped(p)) count++;
    on.problem?.(p);
  }
  return {
    alerts,
    events,
    problems: count,
    seconds: (performance.now() - started) / 1000,
    threads,
    excluded,
  };
}

/** Correlation rules over the matches the hunting threads sent, then the windows still open at the end. */
function judgeCorrelations(rules: CorrelationRule[], signals: CorrelationSignal[]): Alert[] {
  const engine = new CorrelationEngine(rules);
  return [...engine.signalAll(signals), ...engine.flush()];
}
