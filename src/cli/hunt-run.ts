/**
 * The hunting loop shared by `lotl hunt` and `lotl ioc sweep`: read every input, offer each event
 * to the detectors, write the alerts (sorted), and a summary on stderr.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Alert, AlertHead } from '../detect/alert.js';
import { huntAlerts, type KqlHunt } from '../detect/kql/hunts.js';
import type { SigmaProblem } from '../detect/sigma/load.js';
import { releaseChunkPool } from '../ingest/evtx/pool.js';
import type { InputProblem, Stage } from '../ingest/raw-event.js';
import { listInputs, planJsonLinesRanges } from '../ingest/read.js';
import type { EventView } from '../normalize/normalize.js';
import { AlertSpool } from '../report/alert-spool.js';
import { location } from '../report/stats.js';
import { EventStore } from '../store/duckdb.js';
import { checkAlertFormat, exitStatus, levelCounts, summaryDetails, writeAlerts } from './alert-output.js';
import { problemLine } from './commands/rules.js';
import { EXIT_ERROR } from './exit-codes.js';
import type { HuntSetup, HuntUnit, UnitResult } from './hunt-worker.js';
import { HeapGuard } from './memory.js';

interface WorkerLoad {
  errors: SigmaProblem[];
  summary: string;
  correlations: number;
}

import { readAll } from './inputs.js';
import { warn } from './output.js';
import { startProgress } from './progress.js';

export interface Detector {
  evaluate(view: EventView): Alert[];
  /** Alerts that only the end of input completes (correlation windows). */
  flush?(): Alert[];
  /** Bounds reached while hunting, as sentences for the user. */
  limits?(): string[];
}

export interface HuntOptions {
  format: string;
  failOn?: string;
  progress: boolean;
  recover?: boolean;
  /** Which alerts to keep (--min-level, --from/--to, --host, --rule); all when absent. */
  filter?: (a: AlertHead) => boolean;
  /** KQL hunting queries, run over a store of every event (and the alerts) once all are read. */
  kql?: KqlHunt[];
  /**
   * The detectors as a stage the EVTX parser threads can run (see hunt-stage.ts): large EVTX files
   * are then hunted on every core. Only for detections that need no single stream of events
   * (no correlation rules, no KQL store).
   */
  share?: Stage;
  /** The inputs, when the caller has listed them already. */
  listed?: Awaited<ReturnType<typeof listInputs>>;
}

export async function runHunt(
  command: string,
  paths: string[],
  detectors: Detector[],
  loadProblems: number,
  opts: HuntOptions,
): Promise<void> {
  if (!checkAlertFormat(command, opts.format, opts.failOn)) {
    process.exitCode = EXIT_ERROR;
    return;
  }
  const alerts = new AlertSpool();
  const keep = opts.filter;
  const heap = new HeapGuard();
  let events = 0;
  let problems = loadProblems;
  const started = performance.now();
  const store =
    opts.kql && opts.kql.length > 0
      ? await EventStore.open(undefined, { only: opts.kql.flatMap((h) => h.compiled.tables) })
      : null;
  await readAll(
    paths,
    {
      event(view) {
        events++;
        store?.add(view);
        for (const d of detectors)
          for (const a of d.evaluate(view)) {
            // Hunting queries over AlertEvidence see every alert, whatever the output keeps.
            store?.addAlert(a, view);
            if (!keep || keep(a)) alerts.add(a);
          }
        heap.tick();
      },
      // Alerts a parser thread raised on the chunks it parsed (EVTX with `share`).
      staged(value, count) {
        events += count;
        if (value === '') return;
        for (const line of value.split('\n')) {
          const tab = line.indexOf('\t');
          const head = JSON.parse(line.slice(0, tab)) as AlertHead;
          if (!keep || keep(head)) alerts.add(head, line.slice(tab + 1));
        }
        heap.tick();
      },
      problem(p) {
        if (p.code === 'SKIPPED_FILE' || p.code === 'SKIPPED_MEMBER') return;
        problems++;
        warn(`${location(p)}: ${p.code} ${p.message}\n`);
      },
    },
    opts.progress,
    // This thread detects too: the other cores parse EVTX chunks (and, with `share`, hunt them).
    {
      evtx: {
        recover: opts.recover === true,
        workers: availableParallelism() - 1,
        share: store ? undefined : opts.share,
      },
    },
    opts.listed,
  );
  // The parser threads (and, with `share`, their copies of the rules) are done.
  if (opts.share) await releaseChunkPool();
  for (const d of detectors) if (d.flush) for (const a of d.flush()) if (!keep || keep(a)) alerts.add(a);
  for (const d of detectors) for (const note of d.limits?.() ?? []) warn(`lotl ${command}: ${note}\n`);
  if (store) {
    try {
      await store.finish();
      for (const hunt of opts.kql ?? []) {
        try {
          for (const a of huntAlerts(hunt, await store.kql(hunt.compiled)))
            if (!keep || keep(a)) alerts.add(a);
        } catch (err) {
          problems++;
          warn(`${hunt.file}: error KQL_QUERY ${(err as Error).message.split('\n')[0]}\n`);
        }
      }
    } finally {
      store.close();
    }
  }
  await writeAlerts(alerts, opts.format);
  const seconds = (performance.now() - started) / 1000;
  const rate = seconds > 0 ? Math.round(events / seconds).toLocaleString('en-US') : '-';
  warn(
    `lotl ${command}: ${events.toLocaleString('en-US')} events read in ${seconds.toFixed(1)} s (${rate} events/s), ${alerts.count} alerts (${levelCounts(alerts)}), ${problems} input problems\n`,
  );
  warn(summaryDetails(command, alerts, events));
  process.exitCode = exitStatus(alerts, problems, opts.failOn);
}

/**
 * The same hunt on one worker thread per core. Work units are whole files, and line ranges of large
 * JSON-lines files; only alerts, problems and counts come back. Used when no detection needs the
 * events in one stream (correlation rules do); the output is the same, sorted the same way.
 */
export async function runHuntParallel(
  command: string,
  paths: string[],
  setup: HuntSetup,
  loadProblems: number,
  opts: HuntOptions,
  threads: number,
  fallback: () => Promise<void>,
  listed?: Awaited<ReturnType<typeof listInputs>>,
): Promise<void> {
  if (!checkAlertFormat(command, opts.format, opts.failOn)) {
    process.exitCode = EXIT_ERROR;
    return;
  }
  const started = performance.now();
  // The caller may have listed the inputs already (to size them); walking the tree again is wasted I/O.
  const { files, problems: listProblems } = listed ?? (await listInputs(paths));
  const workers = Array.from(
    { length: threads },
    () => new Worker(new URL('./hunt-worker.js', import.meta.url)),
  );
  const ready = Promise.all(
    workers.map(
      (w) =>
        new Promise<WorkerLoad | null>((resolve) =>
          w.once('message', (m: { load: WorkerLoad | null }) => resolve(m.load)),
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
  // Biggest first keeps both threads busy to the end.
  const sizes = new Map(files.map((f) => [f.path, f.size]));
  const order = [...units].sort((a, b) => {
    const sa = a.range ? a.range.end - a.range.start : (sizes.get(a.file) ?? 0);
    const sb = b.range ? b.range.end - b.range.start : (sizes.get(b.file) ?? 0);
    return sb - sa;
  });
  const progress = startProgress(
    files.reduce((s, f) => s + f.size, 0),
    opts.progress,
  );
  const [load] = await ready;
  if (load) {
    for (const p of load.errors) warn(`${problemLine(p)}\n`);
    warn(`lotl ${command}: ${load.summary}\n`);
    if (load.correlations > 0) {
      // Correlations need every event in one stream: hunt on this thread instead.
      progress.stop();
      await Promise.all(workers.map((w) => w.terminate()));
      return fallback();
    }
    loadProblems += load.errors.length;
  }
  const alerts = new AlertSpool();
  const problems: InputProblem[] = [...listProblems];
  let events = 0;
  let next = 0;
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
            if (msg.progress) progress.add(msg.progress);
            if (msg.result) {
              for (const a of msg.result.alerts) if (!opts.filter || opts.filter(a)) alerts.add(a);
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
  progress.stop();
  await Promise.all(workers.map((w) => w.terminate()));
  let count = loadProblems;
  problems.sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? a.offset ?? 0) - (b.line ?? b.offset ?? 0),
  );
  for (const p of problems) {
    if (p.code === 'SKIPPED_FILE' || p.code === 'SKIPPED_MEMBER') continue;
    count++;
    warn(`${location(p)}: ${p.code} ${p.message}\n`);
  }
  await writeAlerts(alerts, opts.format);
  const seconds = (performance.now() - started) / 1000;
  const rate = seconds > 0 ? Math.round(events / seconds).toLocaleString('en-US') : '-';
  warn(
    `lotl ${command}: ${events.toLocaleString('en-US')} events read in ${seconds.toFixed(1)} s (${rate} events/s, ${threads} threads), ${alerts.count} alerts (${levelCounts(alerts)}), ${count} input problems\n`,
  );
  warn(summaryDetails(command, alerts, events));
  process.exitCode = exitStatus(alerts, count, opts.failOn);
}
