/**
 * The hunting loop shared by `lotl hunt` and `lotl ioc sweep`: read every input, offer each event
 * to the detectors, write the alerts (sorted), and a summary on stderr.
 */
import type { Alert } from '../detect/alert.js';
import type { EventView } from '../normalize/normalize.js';
import { location } from '../report/stats.js';
import { checkAlertFormat, exitStatus, levelCounts, writeAlerts } from './alert-output.js';
import { EXIT_ERROR } from './exit-codes.js';
import { readAll } from './inputs.js';

export interface Detector {
  evaluate(view: EventView): Alert[];
  /** Alerts that only the end of input completes (correlation windows). */
  flush?(): Alert[];
}

export interface HuntOptions {
  format: string;
  failOn?: string;
  progress: boolean;
  recover?: boolean;
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
  const alerts: Alert[] = [];
  let events = 0;
  let problems = loadProblems;
  const started = performance.now();
  await readAll(
    paths,
    {
      event(view) {
        events++;
        for (const d of detectors) for (const a of d.evaluate(view)) alerts.push(a);
      },
      problem(p) {
        if (p.code === 'SKIPPED_FILE' || p.code === 'SKIPPED_MEMBER') return;
        problems++;
        process.stderr.write(`${location(p)}: ${p.code} ${p.message}\n`);
      },
    },
    opts.progress,
    { evtx: { recover: opts.recover === true } },
  );
  for (const d of detectors) if (d.flush) alerts.push(...d.flush());
  await writeAlerts(alerts, opts.format);
  const seconds = (performance.now() - started) / 1000;
  const rate = seconds > 0 ? Math.round(events / seconds).toLocaleString('en-US') : '-';
  process.stderr.write(
    `lotl ${command}: ${events.toLocaleString('en-US')} events read in ${seconds.toFixed(1)} s (${rate} events/s), ${alerts.length} alerts (${levelCounts(alerts)}), ${problems} input problems\n`,
  );
  process.exitCode = exitStatus(alerts, problems, opts.failOn);
}
