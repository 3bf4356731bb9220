import type { Command } from 'commander';
import { readAll } from '../../hunt/read-loop.js';
import { renderStats, StatsCollector } from '../../report/stats.js';
import { EXIT_ERROR, EXIT_OK } from '../exit-codes.js';
import { wholeNumber } from '../option-values.js';
import { warn, write } from '../output.js';
import { progressBar } from '../progress.js';

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description(
      'count events per format, source profile, channel, EventID and host; list every input problem',
    )
    .argument('<paths...>', 'files or directories (EVTX, JSON, JSONL, XML, CSV; .zip and .gz are opened)')
    .option('--format <format>', 'table or json', 'table')
    .option('--top <n>', 'rows per breakdown in the table', wholeNumber(1), 15)
    .option('--per-file', 'also count events per file')
    .option('--recover', 'EVTX: also read records left in chunk slack and chunks whose checksums fail')
    .option('--no-progress', 'no progress bar')
    .addHelpText(
      'after',
      '\nExit status: 0 when every input was read cleanly, 2 when any input problem was found\n(the figures still cover everything that could be read).',
    )
    .action(
      async (
        paths: string[],
        opts: { format: string; top: number; perFile?: boolean; progress: boolean; recover?: boolean },
      ) => {
        if (opts.format !== 'table' && opts.format !== 'json') {
          warn(`lotl stats: --format must be table or json, not ${JSON.stringify(opts.format)}\n`);
          process.exitCode = EXIT_ERROR;
          return;
        }
        const stats = new StatsCollector();
        await readAll(
          paths,
          { event: (v) => stats.addEvent(v), problem: (p) => stats.addProblem(p) },
          progressBar(opts.progress),
        );
        const report = stats.report();
        if (opts.format === 'json') await write(`${JSON.stringify(report, null, 2)}\n`);
        else
          await write(
            renderStats(report, {
              top: opts.top,
              color: process.stdout.isTTY === true && !process.env.NO_COLOR,
              perFile: opts.perFile === true,
            }),
          );
        process.exitCode = stats.problemCount > 0 ? EXIT_ERROR : EXIT_OK;
      },
    );
}
