import type { Command } from 'commander';
import { readAll } from '../../hunt/read-loop.js';
import type { InputProblem } from '../../ingest/raw-event.js';
import { dumpRecord, DUMP_PARTS as PARTS } from '../../report/dump-record.js';
import { printableLines } from '../../report/terminal-text.js';
import { EXIT_ERROR, EXIT_OK } from '../exit-codes.js';
import { reportProblem, stdoutClosed, warn, write } from '../output.js';
import { progressBar } from '../progress.js';

export function registerDump(program: Command): void {
  program
    .command('dump')
    .description(
      'write normalised events as JSON lines, each with its origin (file and line, offset or record)',
    )
    .argument('<paths...>', 'files or directories (EVTX, JSON, JSONL, XML, CSV; .zip and .gz are opened)')
    .option(
      '--format <format>',
      'jsonl, json (a JSON array), or xml (EVTX records as Windows renders them)',
      'jsonl',
    )
    .option('--parts <list>', `which views to include, comma-separated: ${PARTS.join(',')}`, PARTS.join(','))
    .option('--recover', 'EVTX: also read records left in chunk slack and chunks whose checksums fail')
    .option('--no-progress', 'no progress bar')
    .addHelpText(
      'after',
      '\nInput problems go to stderr as file:line: CODE message; the exit status is 2 when there were any.',
    )
    .action(
      async (
        paths: string[],
        opts: { format: string; parts: string; progress: boolean; recover?: boolean },
      ) => {
        const parts = new Set(
          opts.parts
            .split(',')
            .map((p) => p.trim())
            .filter(Boolean),
        );
        const unknown = [...parts].filter((p) => !PARTS.includes(p));
        if (!['jsonl', 'json', 'xml'].includes(opts.format) || unknown.length > 0) {
          warn(
            unknown.length > 0
              ? `lotl dump: unknown --parts ${unknown.join(', ')} (choose from ${PARTS.join(', ')})\n`
              : `lotl dump: --format must be jsonl, json or xml, not ${JSON.stringify(opts.format)}\n`,
          );
          process.exitCode = EXIT_ERROR;
          return;
        }
        const array = opts.format === 'json';
        const xml = opts.format === 'xml';
        const notEvtx = new Set<string>();
        let problems = 0;
        let pending = '';
        let first = true;
        if (array) pending = '[';
        await readAll(
          paths,
          {
            event(view) {
              if (xml) {
                // EVTX records arrive as XML through onXml; other inputs have no XML to give.
                const file = view.raw.origin.file;
                if (view.raw.origin.format !== 'evtx' && !notEvtx.has(file)) {
                  notEvtx.add(file);
                  problems++;
                  warn(`${file}: --format xml needs EVTX input; this file is not EVTX\n`);
                }
                return;
              }
              const line = JSON.stringify(dumpRecord(view, parts));
              if (array) {
                pending += first ? `\n${line}` : `,\n${line}`;
                first = false;
              } else pending += `${line}\n`;
            },
            problem(p: InputProblem) {
              if (reportProblem(p)) problems++;
            },
            staged(text) {
              // Lines the EVTX worker threads already normalised and serialised.
              if (!array) pending += text;
              else if (text.length > 0) {
                pending += (first ? '\n' : ',\n') + text.slice(0, -1).replaceAll('\n', ',\n');
                first = false;
              }
            },
            async flush() {
              if (pending.length > 0) {
                // XML keeps a value's control characters as they are (parity with evtxexport in a
                // file); on a terminal they are shown as escapes. JSON escapes them itself.
                const text = xml && process.stdout.isTTY ? printableLines(pending) : pending;
                pending = '';
                await write(text);
              }
            },
            stop: stdoutClosed,
          },
          progressBar(opts.progress),
          {
            evtx: {
              recover: opts.recover === true,
              xml,
              onXml: (x) => (pending += x),
              // Normalise and serialise EVTX events on the parser threads (jsonl / json output).
              stage: xml
                ? undefined
                : {
                    module: new URL('../../report/dump-record.js', import.meta.url).href,
                    name: 'dumpLines',
                    options: { parts: [...parts] },
                  },
            },
          },
        );
        await write(
          array ? `${pending}\n]\n` : xml && process.stdout.isTTY ? printableLines(pending) : pending,
        );
        process.exitCode = problems > 0 ? EXIT_ERROR : EXIT_OK;
      },
    );
}
