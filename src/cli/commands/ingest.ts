/**
 * `lotl ingest PATHS --db FILE`: the events into a DuckDB database file, for hunting with SQL
 * (`lotl hunt --db FILE`). Idempotent: a file already in the database (the same SHA-256) is not
 * read again.
 */
import type { Command } from 'commander';
import { isSkipped } from '../../ingest/raw-event.js';
import { printable } from '../../report/terminal-text.js';
import { EventTable } from '../../store/event-table.js';
import { EXIT_ERROR, EXIT_OK } from '../exit-codes.js';
import { reportProblem, warn } from '../output.js';
import { progressBar } from '../progress.js';

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description(
      'read the inputs into a DuckDB database file for `lotl hunt --db` (a file already there is skipped)',
    )
    .argument('<paths...>', 'log files or directories (EVTX, JSON, JSONL, XML, CSV; .zip and .gz are opened)')
    .requiredOption('--db <file>', 'the DuckDB database file (made if absent)')
    .option('--no-progress', 'no progress bar')
    .action(async (paths: string[], opts: { db: string; progress: boolean }) => {
      let table: EventTable;
      try {
        table = await EventTable.open(opts.db);
      } catch (err) {
        warn(`lotl ingest: cannot open ${printable(opts.db)}: ${(err as Error).message.split('\n')[0]}\n`);
        process.exitCode = EXIT_ERROR;
        return;
      }
      try {
        const started = performance.now();
        const r = await table.ingest(paths, { problem: reportProblem, progress: progressBar(opts.progress) });
        const { files, events } = await table.counts();
        const seconds = (performance.now() - started) / 1000;
        warn(
          `lotl ingest: ${r.events.toLocaleString('en-US')} events from ${r.files} files in ${seconds.toFixed(1)} s${
            r.known > 0 ? `; ${r.known} files already in the database, not read again` : ''
          }; ${printable(opts.db)} holds ${events.toLocaleString('en-US')} events from ${files} files\n`,
        );
        process.exitCode = r.problems.some((p) => !isSkipped(p)) ? EXIT_ERROR : EXIT_OK;
      } finally {
        table.close();
      }
    });
}
