import type { Command } from 'commander';
import { EXIT_ERROR } from '../exit-codes.js';
import { sweep } from './ioc.js';

/**
 * `lotl hunt`: runs the detections it is given over the inputs and writes alerts. Today the
 * detector available is indicator matching (`--iocs`); Sigma rules and the built-in pack plug in
 * here as they land, and until then hunt says so rather than pretending to have looked.
 */
export function registerHunt(program: Command): void {
  program
    .command('hunt')
    .description('hunt the inputs with the given detections and write alerts (today: --iocs indicator files)')
    .argument('<paths...>', 'log files or directories (EVTX, JSON, JSONL, XML, CSV; .zip and .gz are opened)')
    .option(
      '--iocs <file>',
      'indicator file: list, CSV, STIX 2.1 bundle or MISP event; repeatable',
      (v: string, p: string[] = []) => [...p, v],
      [],
    )
    .option('--format <format>', 'table, jsonl, json or csv', 'table')
    .option('--fail-on <level>', 'exit 1 when an alert of this level or higher is found')
    .option('--recover', 'EVTX: also read records left in chunk slack')
    .option('--no-progress', 'no progress bar')
    .action(
      async (
        paths: string[],
        opts: { iocs: string[]; format: string; failOn?: string; progress: boolean; recover?: boolean },
      ) => {
        if (opts.iocs.length === 0) {
          process.stderr.write(
            'lotl hunt: no detections selected. Give --iocs FILE (Sigma rules and the built-in rule pack are not built yet).\n',
          );
          process.exitCode = EXIT_ERROR;
          return;
        }
        await sweep('hunt', paths, opts);
      },
    );
}
