/**
 * The embedded store: an in-memory DuckDB holding the normalized events as the Defender and Sentinel
 * tables KQL queries name. Each event goes to the table its profile maps it to (Sysmon 1, Security
 * 4688, DeviceProcessEvents rows and ECS process starts are all DeviceProcessEvents rows); events
 * of the Security log also become SecurityEvent rows. Rows are staged as JSON lines in a temporary
 * folder and bulk-loaded, so loading never holds the events in memory.
 */
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
// Types only: the engine itself (about 90 ms to load) is imported when a store is opened, so that
// commands and hunts that never query pay nothing for it.
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Alert } from '../detect/alert.js';
import type { KqlType, TableSchema } from '../detect/kql/schemas.js';
import { TABLES } from '../detect/kql/schemas.js';
import { type CompiledQuery, resolveSql } from '../detect/kql/to-sql.js';
import type { EventView } from '../normalize/normalize.js';
import { DUCKDB } from '../sql/dialects.js';
import { renderQuery } from '../sql/render-query.js';
import type { SqlQuery } from '../sql/tree.js';
import { makeTempDir, removeTempDir } from '../temp-dirs.js';
import { alertRows, cell, eventRows } from './kql-rows.js';
import { kqlTableSelect } from './kql-tables.js';

/** DuckDB's column type for each KQL type. */
export const SQL_TYPE: Record<KqlType, string> = {
  string: 'VARCHAR',
  long: 'BIGINT',
  int: 'INTEGER',
  real: 'DOUBLE',
  bool: 'BOOLEAN',
  // Kusto's datetimes have 100 ns ticks; EVTX and Windows XML times carry them (7 digits).
  datetime: 'TIMESTAMP_NS',
  timespan: 'BIGINT',
  dynamic: 'JSON',
  guid: 'VARCHAR',
};

/**
 * JSON text with lone UTF-16 surrogates (escaped as \udXXX by JSON.stringify) replaced by U+FFFD:
 * DuckDB's JSON reader rejects the whole file for one of them, and logs do carry them (a string
 * cut in the middle of a pair). An escaped backslash before the u is text, not an escape.
 */
export function wellFormedJson(json: string): string {
  if (!json.includes('\\ud')) return json;
  return json.replace(/(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g, '$1\\ufffd');
}

interface Staged {
  schema: TableSchema;
  /** Column types by name (the row test reads single columns). */
  types: Map<string, KqlType>;
  /** Which rows to stage; undefined: all. */
  test: ((get: (column: string) => unknown) => boolean) | undefined;
  /** Rows the test left out. */
  skipped: number;
  /** Characters staged (about the bytes). */
  bytes: number;
  file: string;
  fd: number;
  rows: number;
  buffer: string;
}

/** Bounds on one query; a query past one stops with QueryLimitError (see docs/security.md). */
export interface QueryLimits {
  /** Rows a result may have. */
  maxRows: number;
  /** Milliseconds a query may run. */
  timeoutMs: number;
  /** DuckDB's memory limit, e.g. '4GB'. */
  memory: string;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxRows: 1_000_000, timeoutMs: 600_000, memory: '4GB' };

/** A query stopped by a limit, or refused (more than one statement, not a SELECT). */
export class QueryLimitError extends Error {}

/**
 * Opening options: external access, extension installs and loads are off, and once the events
 * are loaded the configuration is locked, so no SQL text — whatever a query compiles to — can read
 * or write a file, attach a database, load an extension or change a setting.
 */
export interface StoreOptions {
  /** The tables worth filling (those the queries name); events of others are not staged. */
  only?: Iterable<string>;
  /**
   * Per table, which rows are worth staging (see kql/row-needs.ts: the rows some query may read);
   * a table without a test stages every row. The test reads the row's values as stored.
   */
  rows?: (table: string) => ((get: (column: string) => unknown) => boolean) | undefined;
  /** Files queries may read (externaldata's local copies the user named); nothing else. */
  allowedFiles?: Iterable<string>;
  limits?: Partial<QueryLimits>;
  /**
   * Keep the tables in a database file in the store's temporary folder rather than in memory once
   * the staged rows pass this many bytes: DuckDB then holds no more than its memory limit and pages
   * the rest (a hunt's store over gigabytes of logs; removed at close). Smaller stores stay in
   * memory (a file database costs a checkpoint, tens of megabytes, when it closes).
   */
  onDiskAbove?: number;
}

export class EventStore {
  private readonly staged = new Map<string, Staged>();
  private loaded = false;
  private readonly only: ReadonlySet<string> | null;
  private readonly limits: QueryLimits;

  /** The engine, started by finish(): while events are staged it takes no memory. */
  private instance: DuckDBInstance | null = null;
  private connection!: DuckDBConnection;

  private constructor(
    /** Staged rows, and with `onDiskAbove` the database and its spill files. */
    private readonly dir: string,
    private readonly tables: readonly TableSchema[],
    private readonly options: StoreOptions,
  ) {
    this.only = options.only ? new Set(options.only) : null;
    this.limits = { ...DEFAULT_QUERY_LIMITS, ...options.limits };
  }

  /**
   * `only`: the tables worth filling (those the queries name); events of others are not staged,
   * their tables stay empty. Loading what no query reads cost most of a big hunt's time.
   */
  static async open(
    tables: readonly TableSchema[] = TABLES,
    options: StoreOptions = {},
  ): Promise<EventStore> {
    return new EventStore(makeTempDir('lotl-store-'), tables, options);
  }

  /**
   * Starts DuckDB (about 45 MB once loaded): when the staged rows are loaded, so a hunt's reading
   * phase, with its parser threads, never holds it too.
   */
  private async start(): Promise<DuckDBConnection> {
    if (this.instance) return this.connection;
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const { registerKqlFunctions } = await import('./udfs.js');
    const options = this.options;
    const dir = this.dir;
    const staged = [...this.staged.values()].reduce((sum, s) => sum + s.bytes + s.buffer.length, 0);
    const onDisk = options.onDiskAbove !== undefined && staged > options.onDiskAbove;
    this.instance = await DuckDBInstance.create(onDisk ? path.join(dir, 'events.duckdb') : ':memory:', {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      memory_limit: this.limits.memory,
      // On disk, loading in insertion order with every core buffers far past the memory limit.
      ...(onDisk
        ? { temp_directory: path.join(dir, 'spill'), preserve_insertion_order: 'false', threads: '1' }
        : {}),
    });
    this.connection = await this.instance.connect();
    registerKqlFunctions(this.connection);
    return this.connection;
  }

  /** Stages one event in every table that carries it. */
  add(view: EventView): void {
    for (const row of eventRows(view)) this.stage(row.table, row.value);
  }

  /** An alert of lotl's own detectors as Defender's alert tables hold it (see kql-rows.ts). */
  addAlert(alert: Alert, view: EventView): void {
    for (const row of alertRows(alert, view)) this.stage(row.table, row.value);
  }

  private stage(table: string, value: (column: string) => unknown): void {
    if (this.only && !this.only.has(table)) return;
    let s = this.staged.get(table);
    if (!s) {
      const schema = this.tables.find((t) => t.name === table);
      if (!schema) return;
      const file = path.join(this.dir, `${table}.jsonl`);
      s = {
        schema,
        types: new Map(schema.columns),
        test: this.options.rows?.(table),
        skipped: 0,
        bytes: 0,
        file,
        fd: openSync(file, 'w'),
        rows: 0,
        buffer: '',
      };
      this.staged.set(table, s);
    }
    const types = s.types;
    if (s.test && !s.test((c) => cell(value(c), types.get(c) ?? 'string'))) {
      s.skipped++;
      return;
    }
    const row: Record<string, unknown> = {};
    // Absent values are left out: read_json fills them with null (wide tables like SecurityEvent
    // have ~150 columns, most empty for any one event).
    for (const [name, type] of s.schema.columns) {
      const v = cell(value(name), type);
      if (v !== null) row[name] = v;
    }
    s.buffer += `${wellFormedJson(JSON.stringify(row))}\n`;
    s.rows++;
    if (s.buffer.length >= 64 * 1024) {
      s.bytes += s.buffer.length;
      writeSync(s.fd, s.buffer);
      s.buffer = '';
    }
  }

  /** Loads what was staged; every table of the schema exists afterwards (empty when no event fed it). */
  async finish(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    await this.start();
    for (const schema of this.tables) {
      const columns = schema.columns.map(([n, t]) => `"${n}" ${SQL_TYPE[t]}`).join(', ');
      const s = this.staged.get(schema.name);
      if (s) {
        if (s.buffer !== '') writeSync(s.fd, s.buffer);
        s.bytes += s.buffer.length;
        s.buffer = '';
        closeSync(s.fd);
        const types = schema.columns.map(([n, t]) => `'${n}': '${SQL_TYPE[t]}'`).join(', ');
        await this.connection.run(
          `CREATE TABLE "${schema.name}" AS SELECT * FROM read_json('${s.file.replace(/'/g, "''")}', format = 'newline_delimited', columns = {${types}})`,
        );
        unlinkSync(s.file);
      } else await this.connection.run(`CREATE TABLE "${schema.name}" (${columns})`);
      counts[schema.name] = s?.rows ?? 0;
    }
    await this.lockDown();
    this.loaded = true;
    return counts;
  }

  /** From here on, no file but the allowed ones can be touched and no setting changed. */
  private async lockDown(): Promise<void> {
    const allowed = [...(this.options.allowedFiles ?? [])].map((f) => path.resolve(f));
    if (allowed.length > 0)
      await this.connection.run(
        `SET allowed_paths = [${allowed.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ')}]`,
      );
    await this.connection.run('SET enable_external_access = false');
    await this.connection.run('SET lock_configuration = true');
  }

  /** Runs a compiled KQL query (its prepare steps first); rows as JSON-friendly objects. */
  async kql(compiled: CompiledQuery): Promise<Record<string, unknown>[]> {
    return this.sql(await resolveSql(compiled, (sql) => this.sql(sql)));
  }

  /** Runs a KQL query compiled to the SQL tree (kql/to-tree.ts), written for DuckDB. */
  async treeQuery(query: SqlQuery): Promise<Record<string, unknown>[]> {
    return this.sql(this.treeSql(query));
  }

  /** The DuckDB text of a tree query: values as literals, each table read with times as ticks. */
  treeSql(query: SqlQuery): string {
    return renderQuery(query, { ...DUCKDB, parameters: false }, (name) => {
      const schema = this.tables.find((t) => t.name === name);
      if (!schema) throw new Error(`no table ${name}`);
      return kqlTableSelect(schema, DUCKDB, DUCKDB.identifier(name));
    }).sql;
  }

  /**
   * Runs one SQL SELECT; rows as JSON-friendly objects. More than one statement, any other kind of
   * statement, more rows than the limit, or a run past the time limit is an error.
   */
  async sql(query: string): Promise<Record<string, unknown>[]> {
    if (!this.loaded) throw new Error('EventStore: finish() loads the staged events before queries');
    return guardedSelect(this.connection, query, this.limits);
  }

  /**
   * Runs lotl's own SQL (a benchmark's generated table), never a query's text: any statement,
   * still under the locked configuration.
   */
  async runOwnSql(sql: string): Promise<void> {
    await (await this.start()).run(sql);
  }

  close(): void {
    if (this.instance) {
      this.connection.closeSync();
      this.instance.closeSync();
      this.instance = null;
    }
    removeTempDir(this.dir);
  }
}

/**
 * Runs one SQL SELECT on a connection; rows as JSON-friendly objects. More than one statement, any
 * other kind of statement, more rows than the limit, or a run past the time limit is an error.
 */
export async function guardedSelect(
  connection: DuckDBConnection,
  query: string,
  limits: QueryLimits,
): Promise<Record<string, unknown>[]> {
  const { StatementType } = await import('@duckdb/node-api');
  const { maxRows, timeoutMs } = limits;
  let timedOut = false;
  // The clock covers planning too: DuckDB folds constant expressions while preparing.
  const timer = setTimeout(() => {
    timedOut = true;
    connection.interrupt();
  }, timeoutMs);
  let statement: Awaited<ReturnType<DuckDBConnection['prepare']>> | null = null;
  try {
    // prepare() refuses a text of more than one statement.
    statement = await connection.prepare(query);
    if (statement.statementType !== StatementType.SELECT)
      throw new QueryLimitError('refused: the compiled query is not a single SELECT statement');
    const reader = await statement.streamAndReadUntil(maxRows + 1);
    if (reader.currentRowCount > maxRows)
      throw new QueryLimitError(
        `the result has more than ${maxRows.toLocaleString('en-US')} rows (--max-rows)`,
      );
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  } catch (err) {
    if (timedOut) throw new QueryLimitError(`the query ran longer than ${timeoutMs / 1000} s (--timeout)`);
    const message = (err as Error).message ?? '';
    if (/out of memory/i.test(message))
      throw new QueryLimitError(`the query needs more than ${limits.memory} of memory (--max-memory)`);
    throw err;
  } finally {
    clearTimeout(timer);
    statement?.destroySync();
  }
}
