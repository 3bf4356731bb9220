#!/usr/bin/env node
/** The `lotl` command line. Commands are thin: they wire ingest → normalize → … → report. */
import { setFlagsFromString } from 'node:v8';
import { Command, CommanderError } from 'commander';
import { registerDump } from './commands/dump.js';
import { registerHunt } from './commands/hunt.js';
import { registerIoc } from './commands/ioc.js';
import { registerQuery } from './commands/query.js';
import { registerRules } from './commands/rules.js';
import { registerStats } from './commands/stats.js';
import { EXIT_ERROR } from './exit-codes.js';
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
  registerStats(program);
  registerDump(program);
  registerIoc(program);
  registerQuery(program);
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
    warn(`lotl: ${failureText(err)}\n`);
    process.exitCode = EXIT_ERROR;
  }
}

/**
 * A failure as a user should read it: system errors (a full disk, too many open files, no
 * permission) as one sentence with what to do; anything else is a bug, shown with its stack.
 */
function failureText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const where = (err as NodeJS.ErrnoException).path ? ` (${(err as NodeJS.ErrnoException).path})` : '';
  switch (code) {
    case 'ENOSPC':
      return `no space left on the device${where}: free some, or point TMPDIR at a larger disk`;
    case 'EMFILE':
    case 'ENFILE':
      return `too many open files${where}: raise the limit (ulimit -n)`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied${where}`;
    case 'ENOENT':
      return `no such file or directory${where}`;
    default:
      return err.stack ?? err.message;
  }
}

await main();
