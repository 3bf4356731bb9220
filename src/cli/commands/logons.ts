/**
 * `lotl logons PATHS`: sign-ins per account, host, logon type and source — successes, failures
 * (with their reasons), first and last time — from Security 4624/4625 and Defender's
 * DeviceLogonEvents. User accounts by default; `--all` adds machine accounts and the system's own.
 */
import type { Command } from 'commander';
import type { AccountKind } from '../../correlate/entities.js';
import { type LogonRow, LogonSummary } from '../../correlate/logons.js';
import { readAll } from '../../hunt/read-loop.js';
import { csvCell } from '../../report/alerts.js';
import { location } from '../../report/stats.js';
import { printable } from '../../report/terminal-text.js';
import { EXIT_ERROR, EXIT_OK } from '../exit-codes.js';
import { warn, write } from '../output.js';
import { progressBar } from '../progress.js';

const FORMATS = ['table', 'json', 'jsonl', 'csv'];
const COLUMNS: (keyof LogonRow)[] = [
  'account',
  'host',
  'logonType',
  'source',
  'successes',
  'failures',
  'first',
  'last',
];

export function registerLogons(program: Command): void {
  program
    .command('logons')
    .description('summarise sign-ins per account, host, logon type and source (4624/4625, DeviceLogonEvents)')
    .argument('<paths...>', 'files or directories (EVTX, JSON, JSONL, XML, CSV; .zip and .gz are opened)')
    .option('--format <format>', 'table, json, jsonl or csv', 'table')
    .option('--all', 'also machine accounts (NAME$) and the system principals (SYSTEM, LOCAL SERVICE, …)')
    .option('--failures', 'only rows with failed sign-ins')
    .option('--no-progress', 'no progress bar')
    .action(
      async (
        paths: string[],
        opts: { format: string; all?: boolean; failures?: boolean; progress: boolean },
      ) => {
        if (!FORMATS.includes(opts.format)) {
          warn(`lotl logons: --format must be one of ${FORMATS.join(', ')}\n`);
          process.exitCode = EXIT_ERROR;
          return;
        }
        const kinds = new Set<AccountKind>(opts.all ? ['user', 'machine', 'system'] : ['user']);
        const summary = new LogonSummary(kinds);
        let problems = 0;
        await readAll(
          paths,
          {
            event: (v) => summary.add(v),
            problem(p) {
              if (p.code === 'SKIPPED_FILE' || p.code === 'SKIPPED_MEMBER') return;
              problems++;
              warn(`${location(p)}: ${p.code} ${p.message}\n`);
            },
          },
          progressBar(opts.progress),
        );
        const rows = summary.result().filter((r) => !opts.failures || r.failures > 0);
        await write(render(rows, opts.format));
        warn(
          `lotl logons: ${summary.seen.toLocaleString('en-US')} sign-ins, ${rows.length} rows${summary.leftOut > 0 ? `, ${summary.leftOut.toLocaleString('en-US')} left out (${opts.all ? 'past the row limit' : 'machine and system accounts: --all'})` : ''}, ${problems} input problems\n`,
        );
        process.exitCode = problems > 0 ? EXIT_ERROR : EXIT_OK;
      },
    );
}

function render(rows: LogonRow[], format: string): string {
  if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  if (format === 'jsonl') return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  const reasons = (r: LogonRow) =>
    Object.entries(r.reasons)
      .map(([k, n]) => `${k} ${n}`)
      .join('; ');
  if (format === 'csv')
    return `${[...COLUMNS, 'reasons'].join(',')}\n${rows.map((r) => [...COLUMNS.map((c) => csvCell(r[c])), csvCell(reasons(r))].join(',')).join('\n')}${rows.length > 0 ? '\n' : ''}`;
  const cells = rows.map((r) => [
    ...COLUMNS.map((c) => printable(String(r[c] ?? '-'))),
    printable(reasons(r)),
  ]);
  const header = [...COLUMNS.map(String), 'reasons'];
  const widths = header.map((h, i) =>
    cells.reduce((w, row) => Math.min(40, Math.max(w, row[i].length)), h.length),
  );
  const line = (row: string[]) =>
    row
      .map((c, i) => (c.length > widths[i] ? `${c.slice(0, widths[i] - 1)}…` : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return `${[line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')}\n`;
}
