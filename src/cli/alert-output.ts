/**
 * How hunting commands finish: alerts in the chosen format on stdout (sorted, deterministic), a
 * summary on stderr, and the exit status (2 input problems, 1 findings at --fail-on, else 0).
 */
import type { Alert, AlertHead, Level } from '../detect/alert.js';
import { LEVELS } from '../detect/alert.js';
import { HeapGuard } from '../hunt/heap-guard.js';
import type { AlertSpool } from '../report/alert-spool.js';
import { ALERT_CSV_HEADER, alertToCsvRow, alertToTableLine } from '../report/alerts.js';
import { alertDetails } from '../report/details.js';
import { RuleSummary } from '../report/rule-summary.js';
import { alertToTimesketch } from '../report/timesketch.js';
import { EXIT_ERROR, EXIT_FINDINGS, EXIT_OK } from './exit-codes.js';
import { warn, write } from './output.js';

export const ALERT_FORMATS = ['table', 'jsonl', 'json', 'csv', 'timesketch'];

export function checkAlertFormat(command: string, format: string, failOn: string | undefined): boolean {
  if (!ALERT_FORMATS.includes(format)) {
    warn(
      `lotl ${command}: --format must be one of ${ALERT_FORMATS.join(', ')}, not ${JSON.stringify(format)}\n`,
    );
    return false;
  }
  if (failOn !== undefined && !LEVELS.includes(failOn as Level)) {
    warn(`lotl ${command}: --fail-on must be one of ${LEVELS.join(', ')}\n`);
    return false;
  }
  return true;
}

export interface WriteOptions {
  /** The table shows informational alerts (building-block signals) too (default true). */
  signals?: boolean;
  /** Sees every alert written (the Navigator layer counts them); JSON lines are parsed for it. */
  onAlert?: (a: Alert) => void;
  /** How the table shows a time (`--timezone`); UTC ISO 8601 by default, and always in JSON and CSV. */
  showTime?: (iso: string) => string;
  /** The table as one row per rule instead of one per alert (`--group-by rule`). */
  byRule?: boolean;
}

/**
 * What writeAlerts left out: informational alerts of the table, repeats the table folded into one
 * line, timeless alerts of Timesketch.
 */
export interface WriteResult {
  hidden: number;
  untimed: number;
  folded: number;
}

/** The spool's alerts in their stable order, in the chosen format, written in pieces. */
export async function writeAlerts(
  spool: AlertSpool,
  format: string,
  options: WriteOptions = {},
): Promise<WriteResult> {
  const signals = options.signals ?? true;
  const onAlert = options.onAlert;
  let hidden = 0;
  let untimed = 0;
  let folded = 0;
  let pending: { key: string; alert: Alert; count: number; details: string } | null = null;
  const pendingLine = (p: NonNullable<typeof pending>) =>
    alertToTableLine(p.alert, color, { repeats: p.count, showTime: options.showTime, details: p.details });
  const summary = format === 'table' && options.byRule ? new RuleSummary() : null;
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
  let first = true;
  let buffer = format === 'csv' ? `${ALERT_CSV_HEADER}\n` : format === 'json' ? '[' : '';
  const heap = new HeapGuard(); // merging runs makes garbage too
  const add = async (piece: string) => {
    heap.tick();
    buffer += piece;
    // Pieces stay under V8's large-object size (128 KB): written text is then young garbage,
    // collected at once, not old garbage that waits for a full collection.
    if (buffer.length >= 64 * 1024) {
      await write(buffer);
      buffer = '';
    }
  };
  try {
    // JSON lines are the alerts' texts as the spool holds them.
    if (format === 'jsonl')
      for await (const text of spool.sortedText()) {
        onAlert?.(JSON.parse(text) as Alert);
        await add(`${text}\n`);
      }
    else
      for await (const a of spool.sorted()) {
        onAlert?.(a);
        // The layout of JSON.stringify(alerts, null, 2), alert by alert.
        if (format === 'json')
          await add(`${first ? '\n' : ',\n'}  ${JSON.stringify(a, null, 2).replace(/\n/g, '\n  ')}`);
        else if (format === 'csv') await add(`${alertToCsvRow(a)}\n`);
        else if (format === 'timesketch') {
          const event = alertToTimesketch(a);
          if (event === null) untimed++;
          else await add(`${JSON.stringify(event)}\n`);
        } else if (!signals && a.rule.level === 'informational') {
          hidden++;
          continue;
        } else if (summary) summary.add(a);
        else {
          // One line for repeats: the same rule, time, host, account and details (one process
          // seen by Sysmon and by Defender, one event in two exports).
          const details = alertDetails(a);
          const key = [a.time, a.rule.id, a.host?.toLowerCase(), a.user?.toLowerCase(), details].join(
            '\u0000',
          );
          if (pending && pending.key === key) {
            pending.count++;
            folded++;
          } else {
            if (pending) await add(`${pendingLine(pending)}\n`);
            pending = { key, alert: a, count: 1, details };
          }
        }
        first = false;
      }
    if (pending) await add(`${pendingLine(pending)}\n`);
    if (summary) await add(summary.table(options.showTime));
  } finally {
    spool.discard();
  }
  if (format === 'json') buffer += first ? ']\n' : '\n]\n';
  if (buffer !== '') await write(buffer);
  return { hidden, untimed, folded };
}

/** Whether an alert's rule id or title contains one of the texts (case-insensitive). */
export function ruleMatcher(texts: string[]): (a: AlertHead) => boolean {
  const lower = texts.map((r) => r.toLowerCase());
  return (a) =>
    lower.some((t) => a.rule.id.toLowerCase().includes(t) || a.rule.title.toLowerCase().includes(t));
}

/**
 * The alert filter of `lotl hunt` (--min-level, --from, --to, --host, --rule), or an error
 * message for a bad value.
 */
export function alertFilter(opts: {
  minLevel?: string;
  from?: string;
  to?: string;
  host?: string[];
  rule?: string[];
}): ((a: AlertHead) => boolean) | undefined | string {
  const tests: ((a: AlertHead) => boolean)[] = [];
  if (opts.minLevel !== undefined) {
    const min = LEVELS.indexOf(opts.minLevel as Level);
    if (min < 0)
      return `--min-level must be one of ${LEVELS.join(', ')}, not ${JSON.stringify(opts.minLevel)}`;
    tests.push((a) => LEVELS.indexOf(a.rule.level) >= min);
  }
  for (const [flag, value, after] of [
    ['--from', opts.from, true],
    ['--to', opts.to, false],
  ] as const) {
    if (value === undefined) continue;
    const t = Date.parse(
      /[zZ]|[+-]\d\d:?\d\d$/.test(value) || /^\d{4}-\d\d-\d\d$/.test(value) ? value : `${value}Z`,
    );
    if (!Number.isFinite(t))
      return `${flag} needs an ISO 8601 time (2023-05-16 or 2023-05-16T13:00:00Z), not ${JSON.stringify(value)}`;
    // Alerts without a time cannot be placed in the window: they are left out when one is asked for.
    tests.push((a) => a.time !== null && (after ? Date.parse(a.time) >= t : Date.parse(a.time) < t));
  }
  if (opts.host && opts.host.length > 0) {
    const hosts = opts.host.map((h) => h.toLowerCase());
    tests.push((a) => {
      const h = a.host?.toLowerCase();
      // FS02 matches FS02.corp.local too: hosts are named short and fully qualified in different logs.
      return h !== undefined && hosts.some((x) => h === x || h.startsWith(`${x}.`));
    });
  }
  if (opts.rule && opts.rule.length > 0) tests.push(ruleMatcher(opts.rule));
  if (tests.length === 0) return undefined;
  return (a) => tests.every((t) => t(a));
}

export function exitStatus(spool: AlertSpool, problems: number, failOn: string | undefined): number {
  if (problems > 0) return EXIT_ERROR;
  if (failOn !== undefined && spool.hasAtLeast(failOn as Level)) return EXIT_FINDINGS;
  return EXIT_OK;
}

/**
 * The lines after the hunt's one-line summary (Hayabusa-style): top hosts and rules, how many
 * events raised alerts (the data reduction an analyst gets), and the peak memory.
 */
export function summaryDetails(command: string, spool: AlertSpool, events: number): string {
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, 5)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  const lines: string[] = [];
  if (spool.count > 0) {
    lines.push(`lotl ${command}: top hosts: ${top(spool.byHost)}`);
    lines.push(`lotl ${command}: top rules: ${top(spool.byRule)}`);
  }
  const alerting = spool.alertingEvents;
  const reduction = events > 0 ? (100 * (1 - alerting / events)).toFixed(1) : '100.0';
  const peak = Math.round(process.resourceUsage().maxRSS / 1024);
  lines.push(
    `lotl ${command}: ${alerting.toLocaleString('en-US')} of ${events.toLocaleString('en-US')} events raised alerts (data reduction ${reduction}%); peak memory ${peak} MB`,
  );
  return `${lines.join('\n')}\n`;
}

export function levelCounts(spool: AlertSpool): string {
  return LEVELS.slice()
    .reverse()
    .map((l) => `${l} ${spool.byLevel[l]}`)
    .join(', ');
}
