/**
 * `lotl ingest PATHS --db FILE | --clickhouse URL`: the events into a DuckDB database file or a
 * ClickHouse server, for hunting with SQL (`lotl hunt --db FILE | --clickhouse URL`). Idempotent: a
 * file already stored (the same SHA-256) is not read again. Without PATHS it only makes the tables
 * (how each shard of a ClickHouse cluster gets its own).
 */
import type { Command } from 'commander';
import { builtinDetectors } from '../../hunt/builtin.js';
import { isSkipped } from '../../ingest/raw-event.js';
import { printable } from '../../report/terminal-text.js';
import {
  openStoredEvents,
  type StoreChoice,
  type StoredEvents,
  storeName,
} from '../../store/stored-events.js';
import { EXIT_ERROR, EXIT_OK } from '../exit-codes.js';
import { reportProblem, warn } from '../output.js';
import { progressBar } from '../progress.js';
import { ruleCache } from './sigma-options.js';

/** --db or --clickhouse, exactly one; the message when not. */
export function storeChoiceProblem(command: string, o: StoreChoice): string | null {
  if ((o.db === undefined) === (o.clickhouse === undefined))
    return `lotl ${command}: give one store: --db FILE or --clickhouse URL`;
  if (o.cluster !== undefined && o.clickhouse === undefined)
    return `lotl ${command}: --cluster goes with --clickhouse`;
  return null;
}

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description(
      'read the inputs into a DuckDB file or a ClickHouse server for `lotl hunt --db | --clickhouse` (a file already there is skipped)',
    )
    .argument(
      '[paths...]',
      'log files or directories (EVTX, JSON, JSONL, XML, CSV; .zip and .gz are opened); none: only make the tables',
    )
    .option('--db <file>', 'a DuckDB database file (made if absent)')
    .option(
      '--clickhouse <url>',
      'a ClickHouse server over HTTP: http://[user:password@]host:8123/[?database=NAME]',
    )
    .option(
      '--cluster <name>',
      "with --clickhouse: shard the events by host over this cluster of the server's configuration (docs/sql.md)",
    )
    .option('--no-progress', 'no progress bar')
    .action(async (paths: string[], opts: StoreChoice & { progress: boolean }) => {
      const problem = storeChoiceProblem('ingest', opts);
      if (problem) {
        warn(`${problem}\n`);
        process.exitCode = EXIT_ERROR;
        return;
      }
      const name = printable(storeName(opts));
      let store: StoredEvents;
      try {
        store = await openStoredEvents(opts);
      } catch (err) {
        warn(`lotl ingest: cannot open ${name}: ${printable((err as Error).message.split('\n')[0])}\n`);
        process.exitCode = EXIT_ERROR;
        return;
      }
      try {
        const started = performance.now();
        // ClickHouse keeps KQL's tables too: the pack's alerts fill AlertInfo and AlertEvidence.
        const detectors = opts.clickhouse !== undefined ? builtinDetectors(ruleCache()) : [];
        const r = await store.ingest(paths, {
          problem: reportProblem,
          progress: progressBar(opts.progress),
          alerts: (view) => detectors.flatMap((d) => d.evaluate(view)),
        });
        const { files, events } = await store.counts();
        const seconds = (performance.now() - started) / 1000;
        const rate = seconds > 0 ? Math.round(r.events / seconds) : 0;
        warn(
          `lotl ingest: ${r.events.toLocaleString('en-US')} events from ${r.files} files in ${seconds.toFixed(1)} s (${rate.toLocaleString('en-US')} events/s)${
            r.known > 0 ? `; ${r.known} files already stored, not read again` : ''
          }; ${name} holds ${events.toLocaleString('en-US')} events from ${files} files\n`,
        );
        process.exitCode = r.problems.some((p) => !isSkipped(p)) ? EXIT_ERROR : EXIT_OK;
      } catch (err) {
        warn(`lotl ingest: ${name}: ${printable((err as Error).message.split('\n')[0])}\n`);
        process.exitCode = EXIT_ERROR;
      } finally {
        store.close();
      }
    });
}
