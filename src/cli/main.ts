#!/usr/bin/env node
/** The `lotl` command line. Commands are thin: they wire ingest → normalize → … → report. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerDump } from './commands/dump.js';
import { registerHunt } from './commands/hunt.js';
import { registerIoc } from './commands/ioc.js';
import { registerRules } from './commands/rules.js';
import { registerStats } from './commands/stats.js';
import { EXIT_ERROR } from './exit-codes.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('lotl')
    .description(
      'Hunt living-off-the-land intrusions in your own logs: EVTX, Sysmon, Windows XML, Defender and ECS exports.',
    )
    .version(pkg.version)
    .showHelpAfterError()
    .exitOverride();
  registerHunt(program);
  registerStats(program);
  registerDump(program);
  registerIoc(program);
  registerRules(program);
  return program;
}

async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; every other commander error is a usage error.
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_ERROR;
      return;
    }
    process.stderr.write(`lotl: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = EXIT_ERROR;
  }
}

await main();
