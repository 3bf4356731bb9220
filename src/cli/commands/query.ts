/**
 * `lotl query 'KQL' PATH...` (or `-f query.kql`): loads the inputs into an in-memory DuckDB as the
 * Defender and Sentinel tables, compiles the query to SQL and prints the rows. `--explain` prints
 * the SQL; a query error shows its line and column with a caret under the query text.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { bindKql, caret, type KqlProblem, lineCol } from '../../detect/kql/frontend.js';
import { presentRow, presentTreeRow } from '../../detect/kql/rows.js';
import {
  type CompiledQuery,
  type CompileOptions,
  compileKql,
  KqlUnsupportedError,
} from '../../detect/kql/to-sql.js';
import { kqlToTree, type TreeQuery } from '../../detect/kql/to-tree.js';
import { csvCell } from '../../report/alerts.js';
import { printable } from '../../report/terminal-text.js';
import { textTable } from '../../report/text-table.js';
import { ClickHouseTable, clickhouseKqlSql } from '../../store/clickhouse-table.js';
import { DEFAULT_QUERY_LIMITS } from '../../store/duckdb.js';
import { storeName } from '../../store/stored-events.js';
import { EXIT_ERROR, EXIT_OK } from '../exit-codes.js';
import { loadStore } from '../load-store.js';
import { memorySize, wholeNumber } from '../option-values.js';
import { reportProblem, warn, write } from '../output.js';

const FORMATS = ['table', 'jsonl', 'json', 'csv'];

export function registerQuery(program: Command): void {
  program
    .command('query')
    .description('run a KQL query (Defender / Sentinel tables) over the inputs')
    .argument('[query-and-paths...]', 'the query, then log files or directories (with -f, only paths)')
    .option('-f, --file <file>', 'read the query from a file (e.g. rules/hunts/*.kql)')
    .option('--format <format>', 'table, jsonl, json or csv', 'table')
    .option('--explain', 'print the SQL the query compiles to, and stop')
    .option('--now <time>', 'the instant now() and ago() count from (ISO 8601), for replaying old logs')
    .option(
      '--external-data <dir|url=file>',
      "local copies of the URLs externaldata names: a folder (files found by the URL's file name) or URL=FILE; repeatable",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--max-rows <n>',
      'stop with an error when the result has more rows',
      wholeNumber(1),
      DEFAULT_QUERY_LIMITS.maxRows,
    )
    .option(
      '--timeout <seconds>',
      'stop with an error when the query runs longer',
      wholeNumber(1),
      DEFAULT_QUERY_LIMITS.timeoutMs / 1000,
    )
    .option(
      '--max-memory <size>',
      "DuckDB's memory limit (e.g. 2GB)",
      memorySize,
      DEFAULT_QUERY_LIMITS.memory,
    )
    .option(
      '--clickhouse <url>',
      'run the query on a ClickHouse server, over what `lotl ingest --clickhouse` stored (no paths; the KQL that maps to SQL, docs/sql.md)',
    )
    .option('--cluster <name>', 'with --clickhouse: read the tables sharded over this cluster')
    .option('--no-progress', 'no progress bar')
    .action(
      async (
        args: string[],
        opts: {
          file?: string;
          format: string;
          explain?: boolean;
          now?: string;
          progress: boolean;
          externalData: string[];
          maxRows: number;
          timeout: number;
          maxMemory: string;
          clickhouse?: string;
          cluster?: string;
        },
      ) => {
        if (!FORMATS.includes(opts.format)) {
          warn(`lotl query: --format must be one of ${FORMATS.join(', ')}\n`);
          process.exitCode = EXIT_ERROR;
          return;
        }
        let query: string;
        let paths: string[];
        if (opts.file) {
          try {
            query = readFileSync(opts.file, 'utf8');
          } catch (err) {
            warn(`lotl query: ${(err as Error).message}\n`);
            process.exitCode = EXIT_ERROR;
            return;
          }
          paths = args;
        } else {
          [query, ...paths] = args;
          if (!query) {
            warn('lotl query: give a query, or -f FILE\n');
            process.exitCode = EXIT_ERROR;
            return;
          }
        }
        const now = opts.now === undefined ? new Date() : new Date(opts.now);
        if (Number.isNaN(now.getTime())) {
          warn(`lotl query: --now needs an ISO 8601 time, not ${JSON.stringify(opts.now)}\n`);
          process.exitCode = EXIT_ERROR;
          return;
        }
        const where = opts.file ?? 'query';
        if (opts.cluster !== undefined && opts.clickhouse === undefined) {
          warn('lotl query: --cluster goes with --clickhouse\n');
          process.exitCode = EXIT_ERROR;
          return;
        }
        if (opts.clickhouse !== undefined) {
          process.exitCode = await queryClickHouse(query, paths, where, now, {
            ...opts,
            clickhouse: opts.clickhouse,
          });
          return;
        }
        // The local files externaldata reads are the only ones the store lets the query open.
        const externalFiles = new Set<string>();
        const resolve = externalDataResolver(opts.externalData);
        const compiled = compile(query, where, {
          now,
          externalData: (url) => {
            const file = resolve(url);
            if (file) externalFiles.add(file);
            return file;
          },
        });
        if (!compiled) {
          process.exitCode = EXIT_ERROR;
          return;
        }
        if (opts.explain) {
          await write(`${compiled.sql}\n`);
          process.exitCode = EXIT_OK;
          return;
        }
        if (paths.length === 0) {
          warn('lotl query: give the log files or directories to query\n');
          process.exitCode = EXIT_ERROR;
          return;
        }
        let problems = 0;
        // Queries over Defender's alert tables see lotl's own alerts: the built-in pack runs as the
        // events load.
        const { store, events } = await loadStore(paths, {
          alerts: compiled.tables.some((t) => t === 'AlertEvidence' || t === 'AlertInfo'),
          tables: compiled.tables,
          allowedFiles: externalFiles,
          limits: { maxRows: opts.maxRows, timeoutMs: opts.timeout * 1000, memory: opts.maxMemory },
          progress: opts.progress,
          problem(p) {
            if (reportProblem(p)) problems++;
          },
        });
        try {
          let raw: Record<string, unknown>[];
          try {
            raw = await store.kql(compiled);
          } catch (err) {
            warn(`${where}: error while running: ${(err as Error).message.split('\n')[0]}\n`);
            process.exitCode = EXIT_ERROR;
            return;
          }
          // After bag_unpack or pivot the data names some columns: show what the rows hold.
          const columns =
            compiled.openColumns && raw.length > 0
              ? Object.keys(raw[0]).map(
                  (name) => compiled.columns.find((c) => c.name === name) ?? { name, type: 'string' },
                )
              : compiled.columns;
          const rows = raw.map((r) => presentRow(r, columns));
          await write(
            render(
              rows,
              columns.map((c) => c.name),
              opts.format,
            ),
          );
          warn(`lotl query: ${events.toLocaleString('en-US')} events loaded, ${rows.length} rows\n`);
        } finally {
          store.close();
        }
        process.exitCode = problems > 0 ? EXIT_ERROR : EXIT_OK;
      },
    );
}

/**
 * `lotl query --clickhouse URL`: the query compiled to the SQL tree and run on the server over the
 * KQL tables `lotl ingest --clickhouse` filled. What does not map to SQL is an error at its place.
 */
async function queryClickHouse(
  query: string,
  paths: string[],
  where: string,
  now: Date,
  opts: {
    clickhouse: string;
    cluster?: string;
    explain?: boolean;
    format: string;
    maxRows: number;
    timeout: number;
    externalData: string[];
  },
): Promise<number> {
  if (paths.length > 0) {
    warn(
      'lotl query: with --clickhouse the query reads what the server holds: load the files with `lotl ingest --clickhouse URL PATHS` first\n',
    );
    return EXIT_ERROR;
  }
  if (opts.externalData.length > 0) {
    warn('lotl query: --external-data is for the embedded store (externaldata does not run on ClickHouse)\n');
    return EXIT_ERROR;
  }
  const bound = bindKql(query);
  const errors = bound.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) {
    for (const p of errors) warn(problemText(where, query, p));
    return EXIT_ERROR;
  }
  let tree: TreeQuery;
  try {
    tree = kqlToTree(bound, { now });
  } catch (err) {
    if (!(err instanceof KqlUnsupportedError)) throw err;
    warn(problemText(where, query, problemAt(query, err.start, err.length, 'error', err.message)));
    return EXIT_ERROR;
  }
  if (opts.explain) {
    await write(`${clickhouseKqlSql(tree.query, opts.cluster ?? null)}\n`);
    return EXIT_OK;
  }
  const name = printable(storeName({ clickhouse: opts.clickhouse, cluster: opts.cluster }));
  let table: ClickHouseTable;
  try {
    table = await ClickHouseTable.open(opts.clickhouse, { cluster: opts.cluster });
  } catch (err) {
    warn(`lotl query: cannot open ${name}: ${printable((err as Error).message.split('\n')[0])}\n`);
    return EXIT_ERROR;
  }
  let raw: Record<string, unknown>[];
  try {
    raw = await table.kql(tree.query, { maxRows: opts.maxRows, timeoutMs: opts.timeout * 1000 });
  } catch (err) {
    warn(`${where}: error while running on ${name}: ${printable((err as Error).message.split('\n')[0])}\n`);
    return EXIT_ERROR;
  } finally {
    table.close();
  }
  const rows = raw.map((r) => presentTreeRow(r, tree.columns));
  await write(
    render(
      rows,
      tree.columns.map((c) => c.name),
      opts.format,
    ),
  );
  warn(`lotl query: ${rows.length} rows from ${name}\n`);
  return EXIT_OK;
}

/** A span of the query as a problem with its line and column. */
function problemAt(
  query: string,
  start: number,
  length: number,
  severity: KqlProblem['severity'],
  message: string,
): KqlProblem {
  return { ...lineCol(query, start), start, length, severity, message };
}

function problemText(where: string, query: string, p: KqlProblem): string {
  return `${where}:${p.line}:${p.col}: error ${p.message}\n${caret(query, p)}\n`;
}

/**
 * Where the local copy of an externaldata URL is: an explicit URL=FILE, else a file of the URL's
 * name in one of the folders given. lotl never downloads what a query names.
 */
export function externalDataResolver(specs: string[]): (url: string) => string | undefined {
  const files = new Map<string, string>();
  const dirs: string[] = [];
  for (const spec of specs) {
    const eq = spec.lastIndexOf('='); // URLs have = in their queries; file names seldom do
    if (/^[a-z]+:\/\//i.test(spec) && eq > 0) files.set(spec.slice(0, eq), spec.slice(eq + 1));
    else dirs.push(spec);
  }
  return (url) => {
    const explicit = files.get(url);
    if (explicit) return explicit;
    const name = decodeURIComponent(
      url
        .replace(/[?#].*$/, '')
        .split('/')
        .pop() ?? '',
    );
    // Only a plain file name is looked up: a URL's encoded `../` must not reach outside the folder.
    if (name === '' || name !== path.basename(name) || name === '..' || name === '.') return undefined;
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (name && existsSync(candidate)) return candidate;
    }
    return undefined;
  };
}

function compile(query: string, where: string, options: CompileOptions): CompiledQuery | null {
  const bound = bindKql(query);
  const errors = bound.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) {
    for (const p of errors) warn(problemText(where, query, p));
    return null;
  }
  try {
    const compiled = compileKql(bound, options);
    for (const w of compiled.warnings) {
      const p = problemAt(query, w.start, w.length, 'warning', w.message);
      warn(`${where}:${p.line}:${p.col}: warning ${w.message}\n${caret(query, p)}\n`);
    }
    return compiled;
  } catch (err) {
    if (!(err instanceof KqlUnsupportedError)) throw err;
    const span = problemAt(query, err.start, err.length, 'error', err.message);
    warn(problemText(where, query, span));
    return null;
  }
}

function render(rows: Record<string, unknown>[], names: string[], format: string): string {
  if (format === 'jsonl') return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  const text = (v: unknown) =>
    v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (format === 'csv') {
    return `${[names.join(','), ...rows.map((r) => names.map((n) => csvCell(text(r[n]))).join(','))].join('\n')}\n`;
  }
  return textTable(
    names,
    rows.map((r) => names.map((n) => text(r[n]))),
    60,
  );
}
