/**
 * `lotl logons PATHS`: sign-ins per account, host, logon type and source — successes, failures
 * (with their reasons), first and last time — from Security 4624/4625 and Defender's
 * DeviceLogonEvents. User accounts by default; `--all` adds machine accounts and the system's own.
 */
import type { Command } from 'commander';
import { type AlertFacts, alertFacts } from '../../correlate/accounts.js';
import { MAX_KEPT_ALERTS } from '../../correlate/correlator.js';
import type { AccountKind } from '../../correlate/entities.js';
import { type LogonRow, LogonSummary } from '../../correlate/logons.js';
import { escalate, SigninBaseline, type UnusualSignin } from '../../correlate/signins.js';
import { builtinDetectors } from '../../hunt/builtin.js';
import { readAll } from '../../hunt/read-loop.js';
import { csvCell } from '../../report/alerts.js';
import { textTable } from '../../report/text-table.js';
import { EXIT_ERROR, EXIT_OK } from '../exit-codes.js';
import { collect } from '../option-values.js';
import { reportProblem, warn, write } from '../output.js';
import { progressBar } from '../progress.js';
import { ruleCache } from './sigma-options.js';

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
    .option(
      '--unusual',
      'list unusual sign-ins instead: a source new to the account against its baseline, or outside the internal ranges (high when the account then runs credential access, by the built-in pack)',
    )
    .option(
      '--internal <cidr>',
      'an internal address range (repeatable; default the private, loopback and link-local ranges)',
      collect,
      [] as string[],
    )
    .option('--no-progress', 'no progress bar')
    .action(
      async (
        paths: string[],
        opts: {
          format: string;
          all?: boolean;
          failures?: boolean;
          unusual?: boolean;
          internal: string[];
          progress: boolean;
        },
      ) => {
        if (!FORMATS.includes(opts.format)) {
          warn(`lotl logons: --format must be one of ${FORMATS.join(', ')}\n`);
          process.exitCode = EXIT_ERROR;
          return;
        }
        if (opts.unusual) {
          await unusualSignins(paths, opts);
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
              if (reportProblem(p)) problems++;
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

/** `--unusual`: sign-ins against each account's baseline, escalated by the pack's credential-access alerts. */
async function unusualSignins(
  paths: string[],
  opts: { format: string; internal: string[]; progress: boolean },
): Promise<void> {
  let baseline: SigninBaseline;
  try {
    baseline = new SigninBaseline(opts.internal.length > 0 ? { internal: opts.internal } : {});
  } catch (err) {
    warn(`lotl logons: --internal: ${(err as Error).message}\n`);
    process.exitCode = EXIT_ERROR;
    return;
  }
  const detectors = builtinDetectors(ruleCache());
  const credentialAccess: AlertFacts[] = [];
  let problems = 0;
  await readAll(
    paths,
    {
      event(v) {
        baseline.add(v);
        for (const d of detectors)
          for (const a of d.evaluate(v))
            if (a.rule.tactics.includes('credential-access') && credentialAccess.length < MAX_KEPT_ALERTS)
              credentialAccess.push(alertFacts(a));
      },
      problem(p) {
        if (reportProblem(p)) problems++;
      },
    },
    progressBar(opts.progress),
  );
  const rows = escalate(baseline.unusual(), credentialAccess);
  const cols = ['time', 'severity', 'account', 'host', 'logonType', 'ip', 'why'] as const;
  const cell = (r: UnusualSignin, c: (typeof cols)[number]) =>
    c === 'why' ? r.why.join('; ') : String(r[c] ?? '-');
  let text: string;
  if (opts.format === 'json') text = `${JSON.stringify(rows, null, 2)}\n`;
  else if (opts.format === 'jsonl') text = rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  else if (opts.format === 'csv')
    text = [cols.join(','), ...rows.map((r) => cols.map((c) => csvCell(cell(r, c))).join(','))]
      .map((l) => `${l}\n`)
      .join('');
  else
    text = textTable(
      [...cols],
      rows.map((r) => cols.map((c) => cell(r, c))),
      200,
    );
  await write(text);
  const high = rows.filter((r) => r.severity === 'high').length;
  warn(`lotl logons: ${rows.length} unusual sign-ins (${high} high), ${problems} input problems\n`);
  process.exitCode = problems > 0 ? EXIT_ERROR : EXIT_OK;
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
  return textTable(
    [...COLUMNS.map(String), 'reasons'],
    rows.map((r) => [...COLUMNS.map((c) => String(r[c] ?? '-')), reasons(r)]),
    40,
  );
}
