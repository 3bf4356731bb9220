/**
 * `lotl hunt` and `lotl ioc sweep` around a hunt session (src/hunt/): problems and notes printed
 * as they come, the alerts written in the chosen format, then a summary on stderr and the exit
 * status.
 */

import { writeFileSync } from 'node:fs';
import type { Answers, Correlator } from '../correlate/correlator.js';
import { type Alert, alertHead } from '../detect/alert.js';
import type { KqlHunt } from '../detect/kql/hunts.js';
import type { Detector, HuntSetup } from '../hunt/detectors.js';
import {
  type HuntResult,
  huntHere,
  huntOnThreads,
  type SessionHandlers,
  type SessionOptions,
} from '../hunt/session.js';
import type { AlertSpool } from '../report/alert-spool.js';
import type { HtmlReportFile } from '../report/html/report-file.js';
import { NavigatorLayer } from '../report/navigator.js';
import { printable } from '../report/terminal-text.js';
import { checkAlertFormat, exitStatus, levelCounts, summaryDetails, writeAlerts } from './alert-output.js';
import { problemLine } from './commands/rules.js';
import { EXIT_ERROR } from './exit-codes.js';
import { reportProblem, warn, write } from './output.js';
import { progressBar } from './progress.js';

export type { Detector } from '../hunt/detectors.js';

export interface HuntOptions extends SessionOptions {
  format: string;
  /** `lotl report`: the answers instead of the alerts, as JSON on stdout (`format` json) and as `html`. */
  report?: boolean;
  /** `lotl report`: false leaves the JSON out (`--html` without `--format json`). */
  reportJson?: boolean;
  /** `lotl report --html FILE`: gathers what the page shows, and writes it. */
  html?: HtmlReportFile;
  /** The table shows informational alerts (building-block signals) too (`--min-level` given). */
  signals?: boolean;
  /** Write an ATT&CK Navigator layer of the alerts to this file. */
  navigator?: string;
  /** How the table shows times (`--timezone`). */
  showTime?: (iso: string) => string;
  /** `rule`: the table as one row per rule. */
  groupBy?: string;
  failOn?: string;
  progress: boolean;
  kql?: KqlHunt[];
}

/** The handlers that print what a session meets, as `lotl COMMAND` does. */
function printing(command: string, progress: boolean): SessionHandlers {
  return {
    problem: reportProblem,
    error(where, message) {
      warn(`${where}: error ${message}\n`);
    },
    note(text) {
      warn(`lotl ${command}: ${text}\n`);
    },
    loaded(load) {
      for (const p of load.errors) warn(`${problemLine(p)}\n`);
      warn(`lotl ${command}: ${load.summary}\n`);
    },
    progress: progressBar(progress),
  };
}

async function finish(
  command: string,
  result: HuntResult,
  loadProblems: number,
  opts: HuntOptions,
): Promise<void> {
  const { alerts, events, seconds, threads } = result;
  const layer = opts.navigator ? new NavigatorLayer() : null;
  let left = { hidden: 0, untimed: 0, folded: 0 };
  if (opts.report) await reportAlerts(alerts, opts.html, layer);
  else
    left = await writeAlerts(alerts, opts.format, {
      signals: opts.signals ?? true,
      onAlert: layer ? (a) => layer.add(a) : undefined,
      showTime: opts.showTime,
      byRule: opts.groupBy === 'rule',
    });
  let problems = result.problems + loadProblems;
  if (layer && opts.navigator && !writeNavigator(command, layer, opts.navigator, alerts.count)) problems++;
  const rate = seconds > 0 ? Math.round(events / seconds).toLocaleString('en-US') : '-';
  warn(
    `lotl ${command}: ${events.toLocaleString('en-US')} events read in ${seconds.toFixed(1)} s (${rate} events/s${threads > 1 ? `, ${threads} threads` : ''}), ${alerts.count} alerts (${levelCounts(alerts)}), ${problems} input problems\n`,
  );
  if (left.hidden > 0)
    warn(
      `lotl ${command}: ${left.hidden.toLocaleString('en-US')} informational signals not in the table (--min-level informational shows them; JSON lines and CSV keep them)\n`,
    );
  if (result.excluded > 0)
    warn(
      `lotl ${command}: ${result.excluded.toLocaleString('en-US')} alerts of excluded rules left out (--exclude-rule)\n`,
    );
  if (left.folded > 0)
    warn(
      `lotl ${command}: ${left.folded.toLocaleString('en-US')} repeated alerts folded into the table's lines (×N; JSON lines and CSV keep each)\n`,
    );
  if (left.untimed > 0)
    warn(
      `lotl ${command}: ${left.untimed.toLocaleString('en-US')} alerts without a time left out of the Timesketch output (it needs one)\n`,
    );
  warn(summaryDetails(command, alerts, events));
  process.exitCode = exitStatus(alerts, problems, opts.failOn);
}

export async function runHunt(
  command: string,
  paths: string[],
  detectors: Detector[],
  loadProblems: number,
  opts: HuntOptions,
  /** Fed every event and alert (opts.observe); its answers are printed after the summary. */
  correlator?: Correlator,
): Promise<void> {
  if (!checkAlertFormat(command, opts.format, opts.failOn)) {
    process.exitCode = EXIT_ERROR;
    return;
  }
  const handlers = printing(command, opts.progress);
  const html = opts.html;
  if (html)
    handlers.problem = (p) => {
      reportProblem(p);
      html.problem(p);
    };
  const result = await huntHere(paths, detectors, opts, handlers);
  // The correlate stage's own alerts (bursts of discovery) are written with the others.
  const exclude = opts.exclude;
  const excluded = (a: Alert) => {
    const out = exclude?.(alertHead(a)) === true;
    if (out) result.excluded++;
    return out;
  };
  for (const a of correlator?.correlationAlerts(excluded) ?? [])
    if (!opts.filter || opts.filter(alertHead(a))) result.alerts.add(a);
  await finish(command, result, loadProblems, opts);
  if (!correlator) return;
  const answers = correlator.answers();
  if (opts.report) {
    const { limits, ...document } = answers;
    if (opts.reportJson !== false) await write(`${JSON.stringify(document, null, 2)}\n`);
    for (const l of limits) warn(`lotl ${command}: ${l}\n`);
    if (html && !writeHtml(command, html, paths, result.events, answers, result.excluded))
      process.exitCode = EXIT_ERROR;
  } else warn(answersText(command, answers));
}

/** The answers after the alerts: unusual sign-ins, then the accounts to reset (docs/correlate.md). */
export function answersText(command: string, answers: Answers): string {
  const lines: string[] = [];
  const shown = answers.incidents.filter((i) => i.severity !== 'informational');
  lines.push(
    `lotl ${command}: ${shown.length} incidents${shown.length < answers.incidents.length ? ` (and ${answers.incidents.length - shown.length} of informational alerts only)` : ''}`,
  );
  for (const i of shown.slice(0, 20)) {
    const edges = Object.entries(i.edges)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    lines.push(
      `  ${i.id}  ${i.severity.padEnd(8)}  score ${i.score}  ${i.first ?? '-'} .. ${i.last ?? '-'}  hosts ${i.hosts.join(', ') || '-'}  accounts ${i.accounts.join(', ') || '-'}`,
    );
    lines.push(
      `      stages ${i.stages.map((s) => s.tactic).join(' > ') || '-'}; ${i.alertCount} alerts${edges ? `; joined by ${edges}` : ''}`,
    );
    for (const m of i.movements.slice(0, 5))
      lines.push(
        `      moved ${m.from} → ${m.to} as ${m.account} (${m.logonType} sign-in from ${m.source} at ${m.time})`,
      );
  }
  if (shown.length > 20)
    lines.push(`  … and ${shown.length - 20} more (lotl report --format json lists them all)`);
  const high = answers.signins.filter((s) => s.severity === 'high').length;
  lines.push(`lotl ${command}: ${answers.signins.length} unusual sign-ins (${high} high)`);
  for (const s of answers.signins)
    lines.push(
      `  ${s.severity.padEnd(4)}  ${s.time ?? '-'}  ${s.account}  ${s.host}  ${s.logonType}  ${s.ip}  ${s.why.join('; ')}`,
    );
  lines.push(`lotl ${command}: ${answers.accounts.length} accounts to reset`);
  for (const a of answers.accounts) lines.push(`  ${a.action.padEnd(11)}  ${a.account}  ${a.reason}`);
  // Missing record numbers: rolled over, filtered, or removed (cleared logs).
  const gapped = answers.coverage.filter((c) => c.missing > 0 || c.outOfOrder > 0);
  if (gapped.length > 0) {
    lines.push(
      `lotl ${command}: record numbers skip or go back in ${gapped.length} of ${answers.coverage.length} logs (lotl report --format json lists every gap)`,
    );
    for (const c of gapped.slice(0, 10))
      lines.push(
        `  ${c.host ?? '-'}  ${c.channel ?? '-'}  records ${c.firstRecord}..${c.lastRecord}: ${c.missing} missing${c.gaps[0] ? ` (first after ${c.gaps[0][0]}, before ${c.gaps[0][1]})` : ''}${c.outOfOrder > 0 ? `, ${c.outOfOrder} out of order` : ''}  (${c.files.join(', ')})`,
      );
  }
  for (const l of answers.limits) lines.push(`lotl ${command}: ${l}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The same hunt on one worker thread per core (see huntOnThreads; correlation rules are judged on
 * this thread over the threads' matches).
 */
export async function runHuntParallel(
  command: string,
  paths: string[],
  setup: HuntSetup,
  loadProblems: number,
  opts: HuntOptions,
  threads: number,
): Promise<void> {
  if (!checkAlertFormat(command, opts.format, opts.failOn)) {
    process.exitCode = EXIT_ERROR;
    return;
  }
  const handlers = printing(command, opts.progress);
  let errors = 0;
  const result = await huntOnThreads(paths, setup, opts, threads, {
    ...handlers,
    loaded(load) {
      errors = load.errors.length;
      handlers.loaded?.(load);
    },
  });
  await finish(command, result, loadProblems + errors, opts);
}

/** Writes the ATT&CK Navigator layer of a hunt's alerts; false (said) when it cannot. */
export function writeNavigator(
  command: string,
  layer: NavigatorLayer,
  file: string,
  alerts: number,
): boolean {
  try {
    writeFileSync(
      file,
      `${JSON.stringify(layer.layer(`lotl ${command}`, `${alerts} alerts of lotl ${command}, scored by alerts per technique`), null, 2)}\n`,
    );
    warn(
      `lotl ${command}: ATT&CK Navigator layer of ${layer.size} techniques written to ${printable(file)}\n`,
    );
    return true;
  } catch (err) {
    warn(
      `lotl ${command}: cannot write the Navigator layer ${printable(file)}: ${printable((err as Error).message)}\n`,
    );
    return false;
  }
}

/** Writes the HTML report; false (said) when it cannot. */
export function writeHtml(
  command: string,
  html: HtmlReportFile,
  inputs: string[],
  events: number,
  answers: Answers,
  excluded: number,
): boolean {
  try {
    const bytes = html.write(inputs, events, answers, excluded);
    warn(
      `lotl ${command}: HTML report written to ${printable(html.file)} (${(bytes / 1048576).toFixed(1)} MB, ${html.alerts.count.toLocaleString('en-US')} alerts)\n`,
    );
    return true;
  } catch (err) {
    warn(
      `lotl ${command}: cannot write the HTML report ${printable(html.file)}: ${printable((err as Error).message)}\n`,
    );
    return false;
  }
}

/** `lotl report`: the alerts go, in time order, to the page and the layer only (not to stdout). */
export async function reportAlerts(
  alerts: AlertSpool,
  html: HtmlReportFile | undefined,
  layer: NavigatorLayer | null,
): Promise<void> {
  const page = html?.alerts;
  if (layer || page)
    for await (const a of alerts.sorted()) {
      layer?.add(a);
      page?.add(a);
    }
  alerts.discard();
}
