#!/usr/bin/env node
/** The `lotl` command line. Commands are thin: they wire ingest → normalize → … → report. */
import { setFlagsFromString } from 'node:v8';
import { Command, CommanderError } from 'commander';
import { removeTempDirsOnSignals } from '../temp-dirs.js';
import { registerDump } from './commands/dump.js';
import { registerHunt, registerReport } from './commands/hunt.js';
import { registerIngest } from './commands/ingest.js';
import { registerIoc } from './commands/ioc.js';
import { registerLogons } from './commands/logons.js';
import { registerQuery } from './commands/query.js';
import { registerRules } from './commands/rules.js';
import { registerServe } from './commands/serve.js';
import { registerStats } from './commands/stats.js';
import { EXIT_ERROR } from './exit-codes.js';
import { failureText } from './failure.js';
import { warn } from './output.js';
import { VERSION } from './version.js';

// Without this, V8 sees the first events of a hunt survive (rule groups are built lazily on them)
// and allocates every later event directly in the old generation, which then fills with garbage:
// 465 MB peak instead of about 250 on SigmaHQ over 250,000 events, and no faster (docs/benchmarks.md).
setFlagsFromString('--no-allocation-site-pretenuring');

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('lotl')
    .description(
      'Hunt living-off-the-land intrusions in your own logs: EVTX, Sysmon, Windows XML, Defender and ECS exports.',
    )
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  registerHunt(program);
  registerIngest(program);
  registerStats(program);
  registerDump(program);
  registerIoc(program);
  registerQuery(program);
  registerLogons(program);
  registerReport(program);
  registerRules(program);
  registerServe(program);
  return program;
}

async function main(): Promise<void> {
  removeTempDirsOnSignals();
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; every other commander error is a usage error.
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_ERROR;
      return;
    }
    warn(`lotl: ${failureText(err)}\n`);
    process.exitCode = EXIT_ERROR;
  }
}

await main();
