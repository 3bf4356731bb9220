import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import type { Alert } from '../../detect/alert.js';
import { indicatorsToCsv, indicatorsToList, indicatorsToStix } from '../../detect/ioc/export.js';
import { DEFAULT_REFERENCE_DOMAINS, extractIndicators } from '../../detect/ioc/extract.js';
import { INDICATOR_TYPES, type IndicatorSet, type IndicatorType } from '../../detect/ioc/indicator.js';
import { loadIndicatorSet, problemLocation } from '../../detect/ioc/loaders.js';
import { indicatorRule, iocAlerts } from '../../detect/ioc/match.js';
import { scanPaths } from '../../detect/ioc/scan.js';
import { AlertSpool } from '../../report/alert-spool.js';
import { printableLines } from '../../report/terminal-text.js';
import { checkAlertFormat, exitStatus, writeAlerts } from '../alert-output.js';
import { EXIT_ERROR, EXIT_OK } from '../exit-codes.js';
import { runHunt } from '../hunt-run.js';
import { collect } from '../option-values.js';
import { warn } from '../output.js';
import { startProgress } from '../progress.js';

/** Loads --iocs files; prints each problem with its location. Returns null when nothing loaded. */
export function loadIocs(command: string, files: string[]): { set: IndicatorSet; problems: number } | null {
  const { set, problems, loaded } = loadIndicatorSet(files);
  for (const p of problems) warn(`${problemLocation(p)}: ${p.code} ${p.message}\n`);
  warn(
    `lotl ${command}: ${set.size} indicators loaded (${Object.entries(loaded)
      .map(([f, n]) => `${f}: ${n}`)
      .join(', ')})\n`,
  );
  if (set.size === 0) {
    warn(`lotl ${command}: no usable indicators in ${files.join(', ')}\n`);
    return null;
  }
  return { set, problems: problems.length };
}

/** Sweeps logs for indicators (`ioc sweep`). */
async function sweep(
  paths: string[],
  opts: { iocs: string[]; format: string; failOn?: string; progress: boolean; recover?: boolean },
): Promise<void> {
  const loaded = loadIocs('ioc sweep', opts.iocs);
  if (!loaded) {
    process.exitCode = EXIT_ERROR;
    return;
  }
  await runHunt(
    'ioc sweep',
    paths,
    [{ evaluate: (view) => iocAlerts(view, loaded.set) }],
    loaded.problems,
    opts,
  );
}

export function registerIoc(program: Command): void {
  const ioc = program
    .command('ioc')
    .description('indicators of compromise: extract them from advisories, sweep logs, scan disks');

  ioc
    .command('extract')
    .description(
      'pull indicators out of advisories (markdown, HTML, text), refanging hxxp and [.]; links to publishers, docs, GitHub and standards bodies are references, not indicators',
    )
    .argument('<files...>', 'advisory files')
    .option('--format <format>', 'list (type<TAB>value), csv or stix (a STIX 2.1 bundle)', 'list')
    .option('--types <list>', `only these types, comma-separated (${INDICATOR_TYPES.join(', ')})`)
    .option(
      '--allow-domain <domain>',
      'treat links to this domain (and its subdomains) as references; repeatable',
      collect,
      [],
    )
    .option('--allowlist <file>', 'reference domains, one a line, instead of the built-in list')
    .option('--references', 'also print the references found (to stderr)')
    .action(
      (
        files: string[],
        opts: {
          format: string;
          types?: string;
          allowDomain: string[];
          allowlist?: string;
          references?: boolean;
        },
      ) => {
        if (!['list', 'csv', 'stix'].includes(opts.format)) {
          warn(`lotl ioc extract: --format must be list, csv or stix\n`);
          process.exitCode = EXIT_ERROR;
          return;
        }
        const types = opts.types?.split(',').map((t) => t.trim()) as IndicatorType[] | undefined;
        const badType = types?.find((t) => !(INDICATOR_TYPES as readonly string[]).includes(t));
        if (badType) {
          warn(
            `lotl ioc extract: unknown type ${JSON.stringify(badType)} (choose from ${INDICATOR_TYPES.join(', ')})\n`,
          );
          process.exitCode = EXIT_ERROR;
          return;
        }
        let domains = DEFAULT_REFERENCE_DOMAINS;
        try {
          if (opts.allowlist)
            domains = readFileSync(opts.allowlist, 'utf8')
              .split(/\r?\n/)
              .map((l) => l.replace(/#.*/, '').trim())
              .filter(Boolean);
        } catch (err) {
          warn(`lotl ioc extract: ${opts.allowlist}: ${(err as Error).message}\n`);
          process.exitCode = EXIT_ERROR;
          return;
        }
        domains = [...domains, ...opts.allowDomain.map((d) => d.toLowerCase())];
        const all = [];
        let failed = false;
        for (const f of files) {
          let text: string;
          try {
            text = readFileSync(f, 'utf8');
          } catch (err) {
            warn(`${f}: ${(err as Error).message}\n`);
            failed = true;
            continue;
          }
          const r = extractIndicators(text, f, { referenceDomains: domains, ...(types ? { types } : {}) });
          all.push(...r.indicators);
          warn(`${f}: ${r.indicators.length} indicators, ${r.references.length} references\n`);
          if (opts.references) for (const ref of r.references) warn(`  reference ${ref}\n`);
        }
        const seen = new Set<string>();
        const unique = all.filter(
          (i) => !seen.has(`${i.type}:${i.value}`) && seen.add(`${i.type}:${i.value}`),
        );
        const out =
          opts.format === 'csv'
            ? indicatorsToCsv(unique)
            : opts.format === 'stix'
              ? indicatorsToStix(unique, new Date().toISOString())
              : indicatorsToList(unique);
        // Indicators come from hostile text: no control character reaches the terminal.
        process.stdout.write(opts.format === 'stix' ? out : printableLines(out));
        process.exitCode = failed ? EXIT_ERROR : EXIT_OK;
      },
    );

  ioc
    .command('sweep')
    .description(
      'find indicators in logs: hashes (Sysmon Hashes, Defender SHA256/SHA1/MD5), addresses, domains, URLs, file names and paths',
    )
    .requiredOption(
      '--iocs <file>',
      'indicator file: list, CSV, STIX 2.1 bundle or MISP event; repeatable',
      collect,
      [],
    )
    .argument('<paths...>', 'log files or directories')
    .option('--format <format>', 'table, jsonl, json or csv', 'table')
    .option('--fail-on <level>', 'exit 1 when an alert of this level or higher is found')
    .option('--recover', 'EVTX: also read records left in chunk slack')
    .option('--no-progress', 'no progress bar')
    .action(
      (
        paths: string[],
        opts: { iocs: string[]; format: string; failOn?: string; progress: boolean; recover?: boolean },
      ) => sweep(paths, opts),
    );

  ioc
    .command('scan')
    .description('hash files on disk (both cores) and report those whose hash, name or path is an indicator')
    .requiredOption('--iocs <file>', 'indicator file; repeatable', collect, [])
    .argument('<dirs...>', 'directories or files')
    .option('--format <format>', 'table, jsonl, json or csv', 'table')
    .option('--ext <list>', 'only files with these extensions, comma-separated (e.g. exe,dll,sys)')
    .option('--min-size <bytes>', 'skip smaller files', (v) => Number(v))
    .option('--max-size <bytes>', 'skip (and report) larger files', (v) => Number(v), 4 * 1024 ** 3)
    .option('--fail-on <level>', 'exit 1 when a match of this level or higher is found')
    .option('--no-progress', 'no progress bar')
    .action(
      async (
        dirs: string[],
        opts: {
          iocs: string[];
          format: string;
          ext?: string;
          minSize?: number;
          maxSize: number;
          failOn?: string;
          progress: boolean;
        },
      ) => {
        if (!checkAlertFormat('ioc scan', opts.format, opts.failOn)) {
          process.exitCode = EXIT_ERROR;
          return;
        }
        const loaded = loadIocs('ioc scan', opts.iocs);
        if (!loaded) {
          process.exitCode = EXIT_ERROR;
          return;
        }
        let progress = startProgress(0, false);
        const started = performance.now();
        const result = await scanPaths(dirs, loaded.set, {
          extensions: opts.ext?.split(',').map((e) => `.${e.trim().replace(/^\./, '')}`),
          ...(opts.minSize !== undefined ? { minSize: opts.minSize } : {}),
          maxSize: opts.maxSize,
          onTotal: (bytes) => {
            progress = startProgress(bytes, opts.progress);
          },
          onFile: (file, bytes) => {
            progress.file(file);
            progress.add(bytes);
          },
        });
        progress.stop();
        const host = hostname();
        const alerts: Alert[] = result.matches.map((m) => ({
          time: m.mtime,
          rule: indicatorRule(m.indicator),
          host,
          user: null,
          source: { file: m.path, format: 'file', channel: null, eventId: null },
          event: { path: m.path, size: m.size, mtime: m.mtime, ...m.hashes },
          match: {
            indicator: { type: m.indicator.type, value: m.indicator.value, source: m.indicator.source },
            field: m.on,
            value: m.on === 'filename' || m.on === 'filepath' ? m.path : m.hashes[m.on],
          },
        }));
        const spool = new AlertSpool();
        for (const a of alerts) spool.add(a);
        await writeAlerts(spool, opts.format);
        for (const s of result.skipped) warn(`skipped ${s.path}: ${s.reason}\n`);
        const seconds = (performance.now() - started) / 1000;
        warn(
          `lotl ioc scan: ${result.files} files, ${(result.bytes / 1048576).toFixed(1)} MB hashed in ${seconds.toFixed(1)} s (${(result.bytes / 1048576 / Math.max(seconds, 0.001)).toFixed(0)} MB/s), ${alerts.length} matches, ${result.skipped.length} skipped\n`,
        );
        process.exitCode = exitStatus(spool, loaded.problems, opts.failOn);
      },
    );
}
