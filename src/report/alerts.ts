/** Writers for alerts: JSON lines, JSON, CSV and the terminal timeline. */
import pc from 'picocolors';
import type { Alert, Level } from '../detect/alert.js';
import { alertDetails } from './details.js';
import { printable } from './terminal-text.js';

const CSV_COLUMNS = [
  'time',
  'level',
  'kind',
  'rule_id',
  'rule_title',
  'author',
  'host',
  'user',
  'techniques',
  'file',
  'record',
  'channel',
  'event_id',
  'match',
  'defender',
];

/**
 * One CSV cell (RFC 4180 quoting). A cell a spreadsheet would run as a formula (starting with
 * = + - @, a tab or a carriage return: `=HYPERLINK(…)` from a log field) gets a leading
 * apostrophe, as OWASP advises; plain numbers such as -5 stay numbers.
 */
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s) && !/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const ALERT_CSV_HEADER = CSV_COLUMNS.join(',');

/** One CSV row (no newline), columns as ALERT_CSV_HEADER. */
export function alertToCsvRow(a: Alert): string {
  return [
    a.time,
    a.rule.level,
    a.rule.kind,
    a.rule.id,
    a.rule.title,
    a.rule.author,
    a.host,
    a.user,
    a.rule.techniques.join(' '),
    a.source.file,
    a.source.record ?? a.source.line ?? a.source.offset,
    a.source.channel,
    a.source.eventId,
    a.match ? JSON.stringify(a.match) : '',
    a.rule.defender?.join('; ') ?? '',
  ]
    .map(csvCell)
    .join(',');
}

const LEVEL_COLOUR: Record<Level, (s: string) => string> = {
  informational: pc.dim,
  low: pc.cyan,
  medium: pc.yellow,
  high: pc.red,
  critical: (s) => pc.bold(pc.red(s)),
};

/**
 * One timeline line (no newline): time, level, host, user, rule title, and the event's details
 * (details.ts: the command line, the target, what matched …), dimmed; `repeats` alerts the line
 * stands for, when more than one.
 */
export function alertToTableLine(
  a: Alert,
  color: boolean,
  line: {
    repeats?: number;
    showTime?: (iso: string) => string;
    /** alertDetails(a), when the caller has it already. */
    details?: string;
  } = {},
): string {
  const repeats = line.repeats ?? 1;
  const c = color ? pc : pc.createColors(false);
  // "informational" is shown "info" so that every level fits the column.
  const name = (a.rule.level === 'informational' ? 'info' : a.rule.level).padEnd(8);
  const level = color ? LEVEL_COLOUR[a.rule.level](name) : name;
  const details = printable(line.details ?? alertDetails(a));
  const host = printable(a.host ?? '-');
  const user = printable(a.user ?? '-');
  const times = repeats > 1 ? c.dim(`  (×${repeats})`) : '';
  // The Defender names a rule stands for, so that a Defender user recognises the finding.
  const defender = a.rule.defender?.length ? ` [Defender: ${printable(a.rule.defender.join('; '))}]` : '';
  return `${printable(a.time ? (line.showTime?.(a.time) ?? a.time) : '-')}  ${level}  ${host.padEnd(20)}  ${user.padEnd(22)}  ${printable(a.rule.title)}${defender}${times}${details ? c.dim(`  ${details}`) : ''}`;
}
