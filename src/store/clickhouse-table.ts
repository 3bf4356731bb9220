/**
 * Events kept in ClickHouse for hunting with SQL (`lotl ingest --clickhouse URL`, `lotl hunt
 * --clickhouse URL`): the same rows as the DuckDB table (event-table.ts), written for ClickHouse
 * 18.16 and later over plain HTTP (JSONEachRow in, JSONEachRow out). 18.16 has no Map type and no
 * Nullable arrays: fields are parallel arrays of names and values, lists an array of arrays.
 * No transactions either: each ingest of a file writes its rows under a new run id, and they become
 * visible only once the file's row (sha256, run) is in lotl_files, which every query reads. An
 * interrupted ingest leaves rows no query sees; the file ingested again writes a new run.
 *
 * With a cluster (`?cluster=NAME` or the `cluster` option), events go through a Distributed table
 * (lotl_events_all, sharded by host) over each shard's local lotl_events, written synchronously so
 * that the file's row follows its events; lotl_files stays on the server lotl talks to, sent to the
 * shards with each query (GLOBAL IN). Each shard's local table is made by opening that shard once.
 */
import { randomUUID } from 'node:crypto';
import type { Alert } from '../detect/alert.js';
import { EVERY_VALUE, foldCase } from '../detect/ir/predicate.js';
import { TABLES } from '../detect/kql/schemas.js';
import type { ProgressFactory } from '../hunt/read-loop.js';
import { readAll } from '../hunt/read-loop.js';
import { type RuleStore, ruleColumns, scopedField } from '../hunt/table-hunt.js';
import type { InputProblem, RawEvent } from '../ingest/raw-event.js';
import { listInputs } from '../ingest/read.js';
import type { EventView } from '../normalize/normalize.js';
import { CLICKHOUSE } from '../sql/dialects.js';
import { FOLDED_PREFIX, HAS_LIST_PREFIX, LIST_PREFIX } from '../sql/from-predicate.js';
import { renderQuery } from '../sql/render-query.js';
import type { SqlQuery, SqlValue } from '../sql/tree.js';
import { wellFormedJson } from './duckdb.js';
import { eventFields, fileHash, type IngestResult, isoTime } from './event-table.js';
import { alertRows, eventRows, type TableRow } from './kql-rows.js';
import { clickhouseKqlRow, clickhouseKqlTable, kqlTableName, kqlTableSelect } from './kql-tables.js';
import { wholeRead } from './whole-read.js';

const SCHEMA = [
  'CREATE TABLE IF NOT EXISTS lotl_files (sha256 String, run String, path String, bytes UInt64, events UInt64) ENGINE = MergeTree ORDER BY sha256',
  `CREATE TABLE IF NOT EXISTS lotl_events (file String, sha256 String, run String, time Nullable(String), host Nullable(String),
    channel Nullable(String), event_id Nullable(Int32), keys Array(String),
    source_names Array(String), source_values Array(String), source_folded Array(String),
    list_names Array(String), list_values Array(Array(String)), list_folded Array(Array(String)),
    taxonomy_names Array(String), taxonomy_values Array(String), taxonomy_folded Array(String), event String)
    ENGINE = MergeTree ORDER BY (sha256, ifNull(channel, ''), ifNull(event_id, -1))`,
];

const SCHEMAS = new Map(TABLES.map((t) => [t.name, t]));

/** Rows sent in one INSERT. */
const BATCH_ROWS = 5_000;

/** Limits of a KQL query's run on the server (a query is the user's text: bounded). */
export interface ClickHouseQueryLimits {
  maxRows: number;
  timeoutMs: number;
}

/** What an ingest writes besides the events: the alerts of lotl's detectors for AlertEvidence. */
export interface ClickHouseIngestOptions {
  problem?(p: InputProblem): void;
  progress?: ProgressFactory | null;
  /** The alerts an event raises (lotl's pack), kept in AlertInfo and AlertEvidence for KQL. */
  alerts?: (view: EventView) => Alert[];
}

export class ClickHouseTable implements RuleStore {
  readonly dialect = CLICKHOUSE;
  /** Each text is kept folded too (foldCase at ingest): see from-predicate.ts's foldedFields. */
  readonly foldedFields = true;
  /** 18.16's analysis of a query grows faster than its length: batches of 64 rules, 200 kB. */
  readonly batch = { rules: 64, chars: 200_000 };
  /** The table queries read events from and inserts write to (Distributed with a cluster). */
  readonly events: string;
  /** How queries test a row's (sha256, run) against lotl_files: across shards, shipped (GLOBAL). */
  readonly visible: string;

  private constructor(
    private readonly url: URL,
    private readonly auth: string | null,
    readonly cluster: string | null,
  ) {
    this.events = cluster ? 'lotl_events_all' : 'lotl_events';
    // One run a file even if two ingests of it raced (each wrote a run and a row in lotl_files).
    this.visible = visibleRows(cluster);
  }

  /**
   * A server at `url` (http://host:port/, user:password@ if needed, ?database=… if not default,
   * ?cluster=NAME to shard events over a cluster of its configuration); makes lotl's tables.
   */
  static async open(url: string, options: { cluster?: string } = {}): Promise<ClickHouseTable> {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`not an HTTP URL: ${url}`);
    const auth =
      u.username !== ''
        ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
        : null;
    u.username = '';
    u.password = '';
    const cluster = options.cluster ?? u.searchParams.get('cluster');
    u.searchParams.delete('cluster');
    const table = new ClickHouseTable(u, auth, cluster || null);
    for (const sql of SCHEMA) await table.run(sql);
    // KQL's ~50 tables (and with a cluster their Distributed ones): only those not yet made, so
    // that opening a store that has them costs one query, not a statement a table.
    const existing = new Set(
      (await table.rows('SELECT name FROM system.tables WHERE database = currentDatabase()')).map((r) =>
        String(r.name),
      ),
    );
    for (const schema of TABLES)
      if (!existing.has(kqlTableName(schema.name)))
        await table.run(clickhouseKqlTable(schema, CLICKHOUSE.identifier));
    if (table.cluster) await table.shard(table.cluster, existing);
    return table;
  }

  /** The table KQL rows of `table` are written to and read from (Distributed with a cluster). */
  kqlTable(table: string): string {
    return readKqlTable(table, this.cluster);
  }

  /** The Distributed table over the cluster's shards, each of which must hold lotl_events. */
  private async shard(cluster: string, existing: ReadonlySet<string>): Promise<void> {
    const lit = CLICKHOUSE.literal(cluster);
    const shards = await this.rows(`SELECT DISTINCT shard_num FROM system.clusters WHERE cluster = ${lit}`);
    if (shards.length === 0)
      throw new Error(`no cluster ${cluster} in the server's configuration (system.clusters)`);
    const [db] = await this.rows('SELECT currentDatabase() AS name');
    const distributed = (local: string, key: string) =>
      `CREATE TABLE IF NOT EXISTS ${local}_all AS ${local} ENGINE = Distributed(${CLICKHOUSE.identifier(cluster)}, ${CLICKHOUSE.identifier(String(db.name))}, ${local}, ${key})`;
    await this.run(distributed('lotl_events', "cityHash64(ifNull(host, ''))"));
    // KQL rows spread evenly: a query reads them all anyway.
    for (const schema of TABLES)
      if (!existing.has(readKqlTable(schema.name, cluster)))
        await this.run(distributed(kqlTableName(schema.name), 'rand()'));
    // Every shard answers (its local table exists): said now, not at the first hunt.
    try {
      await this.run('SELECT count() FROM lotl_events_all');
    } catch (err) {
      throw new Error(
        `cluster ${cluster}: a shard has no lotl_events table (open each shard once: lotl ingest --clickhouse http://SHARD:PORT/): ${(err as Error).message}`,
      );
    }
  }

  /** Runs one statement; its body (`data`: rows to insert after the query). */
  async run(sql: string, data?: string, settings: Record<string, string> = {}): Promise<string> {
    const u = new URL(this.url);
    for (const [k, v] of Object.entries(settings)) u.searchParams.set(k, v);
    if (data !== undefined) {
      u.searchParams.set('query', sql);
      // Through a Distributed table: written to the shards before the answer, not queued.
      if (this.cluster) u.searchParams.set('insert_distributed_sync', '1');
    }
    // A rule with many case-insensitive items is a long query (each folded field spells out the
    // letters lowerUTF8 misses): past the default 256 KiB.
    else {
      if (sql.length > 200_000)
        u.searchParams.set('max_query_size', String(Math.min(64 << 20, sql.length * 2)));
      // A rule of thousands of items (the vulnerable-driver hash lists) is an expression past the
      // default 50,000 elements.
      u.searchParams.set('max_ast_elements', '5000000');
      u.searchParams.set('max_expanded_ast_elements', '5000000');
    }
    const res = await fetch(u, {
      method: 'POST',
      headers: this.auth ? { authorization: this.auth } : {},
      body: data ?? sql,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`ClickHouse: ${text.trim().split('\n')[0]}`);
    return text;
  }

  /** Rows of lotl's own SELECT (never a user's text). */
  async rows(sql: string, settings?: Record<string, string>): Promise<Record<string, unknown>[]> {
    const text = await this.run(`${sql} FORMAT JSONEachRow`, undefined, settings);
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /**
   * Rows of lotl's own SELECT as the server sends them, a batch at a time (the answer is read as
   * it streams: a whole table is never in memory).
   */
  async *stream(
    sql: string,
    settings: Record<string, string> = {},
  ): AsyncGenerator<Record<string, unknown>[]> {
    const u = new URL(this.url);
    for (const [k, v] of Object.entries(settings)) u.searchParams.set(k, v);
    const res = await fetch(u, {
      method: 'POST',
      headers: this.auth ? { authorization: this.auth } : {},
      body: `${sql} FORMAT JSONEachRow`,
    });
    if (!res.ok || !res.body) throw new Error(`ClickHouse: ${(await res.text()).trim().split('\n')[0]}`);
    const decoder = new TextDecoder();
    const reader = res.body.getReader();
    let rest = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const text = rest + decoder.decode(value, { stream: true });
        const end = text.lastIndexOf('\n');
        if (end < 0) {
          rest = text;
          continue;
        }
        rest = text.slice(end + 1);
        const lines = text.slice(0, end).split('\n');
        // An error after the first rows comes in the body (the status was sent with them).
        const rows = lines.filter((l) => l !== '').map((l) => parseRow(l));
        if (rows.length > 0) yield rows;
      }
    } finally {
      // A reader that stopped early lets the server stop too.
      await reader.cancel().catch(() => undefined);
    }
    rest += decoder.decode();
    if (rest.trim() !== '') yield [parseRow(rest)];
  }

  async keyCounts(): Promise<Map<string, number>> {
    const rows = await this.rows(
      `SELECT arrayJoin(keys) AS k, count() AS n FROM ${this.events} WHERE ${this.visible} GROUP BY k`,
    );
    return new Map(rows.map((r) => [String(r.k), Number(r.n)]));
  }

  /**
   * By time, then file (a MergeTree keeps no order of arrival); the sort is ClickHouse's, on disk
   * past 1 GB. A result cut short is an error, not the end.
   */
  async *eachEvent(): AsyncGenerator<RawEvent[]> {
    const [{ n }] = await this.rows(`SELECT count() AS n FROM ${this.events} WHERE ${this.visible}`);
    const rows = this.stream(
      `SELECT event FROM ${this.events} WHERE ${this.visible} ORDER BY ifNull(time, ''), file, sha256, cityHash64(event)`,
      // The sort goes to disk past 1 GB instead of failing on a big table.
      { max_bytes_before_external_sort: String(1 << 30) },
    );
    for await (const batch of wholeRead(Number(n), rows))
      yield batch.map((r) => JSON.parse(String(r.event)) as RawEvent);
  }

  async ingest(paths: string[], on: ClickHouseIngestOptions = {}): Promise<IngestResult> {
    const listed = await listInputs(paths);
    const result: IngestResult = { files: 0, known: 0, events: 0, problems: [...listed.problems] };
    for (const p of listed.problems) on.problem?.(p);
    for (const input of listed.files) {
      const sha256 = await fileHash(input.path);
      const lit = CLICKHOUSE.literal(sha256);
      if ((await this.rows(`SELECT 1 FROM lotl_files WHERE sha256 = ${lit}`)).length > 0) {
        result.known++;
        continue;
      }
      const run = randomUUID();
      let batch: string[] = [];
      /** KQL rows by table, sent with the events. */
      const kqlBatch = new Map<string, string[]>();
      let events = 0;
      // One INSERT at a time, the next batch read while it is written (at most two held).
      let writing: Promise<void> = Promise.resolve();
      const insert = (table: string, data: string) => {
        writing = writing.then(() =>
          this.run(`INSERT INTO ${table} FORMAT JSONEachRow`, data).then(() => undefined),
        );
      };
      // A table's KQL rows go when they fill a batch of their own (or the file ends): an INSERT
      // into MergeTree costs tens of milliseconds whatever its size, and each event batch's few
      // rows per table made ingest 2.6 times slower.
      const send = (all = false) => {
        if (batch.length > 0) insert(this.events, batch.join('\n'));
        batch = [];
        for (const [table, rows] of kqlBatch)
          if (all || rows.length >= BATCH_ROWS) {
            insert(this.kqlTable(table), rows.join('\n'));
            kqlBatch.delete(table);
          }
        // (Its failure is thrown where it is awaited, not as an unhandled rejection meanwhile.)
        writing.catch(() => undefined);
      };
      const keep = (row: TableRow) => {
        const schema = SCHEMAS.get(row.table);
        if (!schema) return;
        let rows = kqlBatch.get(row.table);
        if (!rows) {
          rows = [];
          kqlBatch.set(row.table, rows);
        }
        rows.push(wellFormedJson(clickhouseKqlRow(row, schema, { sha256, run })));
      };
      await readAll(
        [input.path],
        {
          event: (view) => {
            events++;
            batch.push(clickhouseEventRow(view, input.path, sha256, run));
            for (const row of eventRows(view)) keep(row);
            for (const alert of on.alerts?.(view) ?? []) for (const row of alertRows(alert, view)) keep(row);
          },
          problem: (p) => {
            result.problems.push(p);
            on.problem?.(p);
          },
          flush: async () => {
            if (batch.length < BATCH_ROWS) return;
            const before = writing;
            send();
            await before;
          },
        },
        on.progress ?? null,
        {},
        { files: [input], problems: [] },
      );
      send(true);
      await writing;
      await this.run(
        'INSERT INTO lotl_files FORMAT JSONEachRow',
        JSON.stringify({ sha256, run, path: input.path, bytes: input.size, events }),
      );
      result.files++;
      result.events += events;
    }
    return result;
  }

  fieldSql(field: string, scope: 'category' | 'service'): string {
    const at = (names: string, values: string, name: string) =>
      `if(has(${names}, ${name}), ${values}[indexOf(${names}, ${name})], NULL)`;
    const lit = (name: string) => CLICKHOUSE.literal(name.toLowerCase());
    // Every value of the event (keywords): no text of its own, a list of all (18.16 has no flatten:
    // groupArrayArray over the lists is one).
    if (field === LIST_PREFIX + EVERY_VALUE)
      return "arrayConcat(source_values, arrayReduce('groupArrayArray', list_values))";
    if (field === LIST_PREFIX + FOLDED_PREFIX + EVERY_VALUE)
      return "arrayConcat(source_folded, arrayReduce('groupArrayArray', list_folded))";
    if (field === HAS_LIST_PREFIX + EVERY_VALUE) return '1';
    if (field.endsWith(EVERY_VALUE)) return 'CAST(NULL AS Nullable(String))';
    if (field.startsWith(HAS_LIST_PREFIX))
      return `has(list_names, ${lit(field.slice(HAS_LIST_PREFIX.length))})`;
    if (field.startsWith(LIST_PREFIX)) {
      // An absent list is an empty one here (arrays are never NULL in 18.16): no element matches.
      const rest = field.slice(LIST_PREFIX.length);
      const fold = rest.startsWith(FOLDED_PREFIX);
      const name = lit(fold ? rest.slice(FOLDED_PREFIX.length) : rest);
      return `${fold ? 'list_folded' : 'list_values'}[indexOf(list_names, ${name})]`;
    }
    // A field's folded text: the same choice of value, from the folded copies.
    const fold = field.startsWith(FOLDED_PREFIX);
    const name = fold ? field.slice(FOLDED_PREFIX.length) : field;
    const taxonomy = at('taxonomy_names', fold ? 'taxonomy_folded' : 'taxonomy_values', lit(name));
    const source = at('source_names', fold ? 'source_folded' : 'source_values', lit(name));
    return scopedField(name, scope, taxonomy, source);
  }

  async selectMatching(
    key: string,
    conditions: readonly string[],
    params: readonly SqlValue[],
  ): Promise<{ event: RawEvent; matched: number[] }[]> {
    if (params.length > 0) throw new Error('ClickHouse queries carry their values as literals');
    // Each rule's test a named column (0/1); WHERE reads the names.
    const { tests, any, matched } = ruleColumns(conditions, (c) => `ifNull(${c}, 0)`);
    const rows = await this.rows(
      // PREWHERE: the rest of a row is read only where some row of the logsource is (rows are
      // ordered by channel and event id, so a logsource's rows are together).
      `SELECT event, ${tests} FROM ${this.events} PREWHERE has(keys, ${CLICKHOUSE.literal(key)}) WHERE ${this.visible} AND (${any})`,
    );
    return rows.map((r) => ({ event: JSON.parse(String(r.event)) as RawEvent, matched: matched(r) }));
  }

  /**
   * Runs a KQL query compiled to the tree (kql/to-tree.ts): its tables are the visible rows of
   * lotl's KQL tables; the server stops it past the limits, and it can only read (readonly=2).
   */
  async kql(query: SqlQuery, limits: ClickHouseQueryLimits): Promise<Record<string, unknown>[]> {
    return this.rows(clickhouseKqlSql(query, this.cluster), {
      readonly: '2',
      max_result_rows: String(limits.maxRows),
      result_overflow_mode: 'throw',
      max_execution_time: String(Math.max(1, Math.ceil(limits.timeoutMs / 1000))),
    });
  }

  async listFields(): Promise<Set<string>> {
    const rows = await this.rows(`SELECT DISTINCT arrayJoin(list_names) AS name FROM ${this.events}`);
    return new Set(rows.map((r) => String(r.name)));
  }

  async counts(): Promise<{ files: number; events: number }> {
    const [row] = await this.rows(
      `SELECT (SELECT uniqExact(sha256) FROM lotl_files) AS files, (SELECT count() FROM ${this.events} WHERE ${this.visible}) AS events`,
    );
    return { files: Number(row.files), events: Number(row.events) };
  }

  /** Paths of the files held (one a content). */
  async files(): Promise<string[]> {
    return (await this.rows('SELECT any(path) AS path FROM lotl_files GROUP BY sha256 ORDER BY path')).map(
      (r) => String(r.path),
    );
  }

  close(): void {}
}

/** Which rows of a table queries see: those of each file's first complete run (see the header). */
const visibleRows = (cluster: string | null) =>
  `(sha256, run) ${cluster ? 'GLOBAL IN' : 'IN'} (SELECT sha256, min(run) FROM lotl_files GROUP BY sha256)`;

/** The table a KQL table's rows are read from and written to: the Distributed one with a cluster. */
const readKqlTable = (table: string, cluster: string | null) =>
  cluster ? `${kqlTableName(table)}_all` : kqlTableName(table);

/**
 * The ClickHouse text of a KQL query compiled to the tree: each table its visible rows (through
 * the Distributed table with a cluster), times as ticks.
 */
export function clickhouseKqlSql(query: SqlQuery, cluster: string | null): string {
  return renderQuery(query, CLICKHOUSE, (name) => {
    const schema = SCHEMAS.get(name);
    if (!schema) throw new Error(`no table ${name}`);
    return kqlTableSelect(schema, CLICKHOUSE, `${readKqlTable(name, cluster)} WHERE ${visibleRows(cluster)}`);
  }).sql;
}

/** One event as a JSONEachRow row of lotl_events. */
export function clickhouseEventRow(view: EventView, file: string, sha256: string, run: string): string {
  const f = eventFields(view);
  const raw = view.raw;
  return wellFormedJson(
    JSON.stringify({
      file,
      sha256,
      run,
      time: isoTime(raw),
      host: raw.computer ?? null,
      channel: raw.channel ?? null,
      event_id: raw.eventId ?? null,
      keys: f.keys,
      source_names: [...f.source.keys()],
      source_values: [...f.source.values()],
      source_folded: [...f.source.values()].map(foldCase),
      list_names: [...f.lists.keys()],
      list_values: [...f.lists.values()],
      list_folded: [...f.lists.values()].map((l) => l.map(foldCase)),
      taxonomy_names: [...f.taxonomy.keys()],
      taxonomy_values: [...f.taxonomy.values()],
      taxonomy_folded: [...f.taxonomy.values()].map(foldCase),
      event: JSON.stringify(raw),
    }),
  );
}

/** A line of a streamed answer; ClickHouse's error text mid-stream is not JSON: said as it is. */
function parseRow(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`ClickHouse: ${line.trim().slice(0, 300)}`);
  }
}
