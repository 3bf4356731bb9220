/**
 * The server's store: one DuckDB database file holding what was ingested — the events (the columns
 * `lotl ingest --db` writes, so `lotl hunt --db` reads a server's file too, plus each event's
 * number), the alerts raised on them, the tables KQL queries name, and the batches committed.
 * A batch goes in inside one transaction: its events, their alerts and its key, or none of them;
 * a batch whose key is already there is not stored again (a client's retry after a lost answer).
 *
 * Rows go in through a staging file in a folder of the server's own, the one folder the database
 * may read: external access is otherwise off and the configuration locked, so no query text,
 * however crafted, reads another file or writes any. Queries run on their own connection, one
 * SELECT at a time, bounded.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Alert, Level } from '../detect/alert.js';
import { LEVELS } from '../detect/alert.js';
import type { BoundQuery } from '../detect/kql/frontend.js';
import { presentRow } from '../detect/kql/rows.js';
import { TABLES, type TableSchema } from '../detect/kql/schemas.js';
import { compileKql, resolveSql } from '../detect/kql/to-sql.js';
import type { CorrelationSignal } from '../detect/sigma/correlation.js';
import type { RawEvent } from '../ingest/raw-event.js';
import type { EventView } from '../normalize/normalize.js';
import { DUCKDB } from '../sql/dialects.js';
import { guardedSelect, type QueryLimits, SQL_TYPE, wellFormedJson } from '../store/duckdb.js';
import { EVENT_TABLE_SCHEMA, eventRow } from '../store/event-table.js';
import { alertRows, cell, eventRows } from '../store/kql-rows.js';
import { kqlTableName } from '../store/kql-tables.js';
import { wholeRead } from '../store/whole-read.js';

const EVENT_STRUCTURE = JSON.stringify([
  {
    file: 'VARCHAR',
    sha256: 'VARCHAR',
    time: 'VARCHAR',
    host: 'VARCHAR',
    channel: 'VARCHAR',
    event_id: 'INTEGER',
    keys: 'VARCHAR[]',
    source_fields: 'MAP(VARCHAR, VARCHAR)',
    source_lists: 'MAP(VARCHAR, VARCHAR[])',
    taxonomy_fields: 'MAP(VARCHAR, VARCHAR)',
    event: 'JSON',
    seq: 'BIGINT',
  },
]);

const ALERT_STRUCTURE = JSON.stringify([
  {
    batch: 'VARCHAR',
    event_seq: 'BIGINT',
    time: 'VARCHAR',
    level: 'VARCHAR',
    rank: 'INTEGER',
    rule_id: 'VARCHAR',
    rule_title: 'VARCHAR',
    kind: 'VARCHAR',
    host: 'VARCHAR',
    user_name: 'VARCHAR',
    alert: 'JSON',
  },
]);

const NUMBERING_STRUCTURE = JSON.stringify([{ r: 'BIGINT', seq: 'BIGINT' }]);
const SIGNAL_STRUCTURE = JSON.stringify([
  { seq: 'BIGINT', batch: 'VARCHAR', time: 'VARCHAR', signal: 'JSON' },
]);

const SCHEMA = [
  ...EVENT_TABLE_SCHEMA,
  'ALTER TABLE lotl_events ADD COLUMN IF NOT EXISTS seq BIGINT',
  'CREATE TABLE IF NOT EXISTS lotl_batches (id VARCHAR PRIMARY KEY, source VARCHAR, events BIGINT, alerts BIGINT, committed TIMESTAMP)',
  'CREATE TABLE IF NOT EXISTS lotl_signals (seq BIGINT, batch VARCHAR, time VARCHAR, signal JSON)',
  `CREATE TABLE IF NOT EXISTS lotl_alerts (batch VARCHAR, event_seq BIGINT, time VARCHAR, level VARCHAR, rank INTEGER,
    rule_id VARCHAR, rule_title VARCHAR, kind VARCHAR, host VARCHAR, user_name VARCHAR, alert JSON)`,
];

/** One batch to commit: its key, where it came from, its events and the alerts raised on them. */
export interface Batch {
  id: string;
  source: string;
  views: EventView[];
  /** Alerts and the index in `views` of the event each was raised on (none: a correlation's). */
  alerts: { alert: Alert; event: number | null }[];
  /**
   * The matches that fed correlation windows, in the order they were judged: kept with the batch
   * so that a restart can open the windows again (recentSignals).
   */
  signals?: CorrelationSignal[];
  /**
   * The events are in the table already (`lotl ingest` stored them, by these row ids, in the order
   * of `views`): they are numbered instead of inserted, their alerts and KQL rows stored.
   */
  stored?: number[];
}

/** Correlation matches a restart gives back at most (the newest; the rest are said lost). */
export const MAX_RESTORED_SIGNALS = 200_000;

/** The cut-off time of a restore: `spanMs` before the newest signal's time (ISO text). */
export function restoreFrom(newest: string, spanMs: number): string | null {
  const t = Date.parse(newest);
  return Number.isNaN(t) ? null : new Date(Math.max(0, t - spanMs)).toISOString();
}

export interface CommitResult {
  /** False when a batch of this key was already stored (nothing was added). */
  stored: boolean;
  events: number;
  alerts: number;
}

/** Which alerts to list; every field optional. */
export interface AlertFilter {
  /** This level or above. */
  minLevel?: Level;
  rule?: string;
  host?: string;
  /** Text searched in the rule's title, the host, the user and the event (case-insensitive). */
  text?: string;
  from?: string;
  to?: string;
}

/** A page of a query's result: its columns, rows as Kusto shows them, the SQL it ran as. */
export interface KqlPage {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
  sql: string;
  /** Whether rows follow this page. */
  more: boolean;
}

/** One item of a replay: an event with the alerts raised on it, or alerts alone (see `fed`). */
export interface ReplayItem {
  event: RawEvent | null;
  alerts: Alert[];
  /** True when `event` was already given in an earlier item: only its alerts are new. */
  fed?: boolean;
}

/** What the server keeps its events, alerts and KQL tables in: a DuckDB file or ClickHouse. */
export interface ServerStore {
  /** The store named, for messages (a file's name, a server's address without its password). */
  readonly name: string;
  /** Bumped at every commit: answers computed from the data are kept until it moves. */
  readonly version: number;
  commit(batch: Batch): Promise<CommitResult>;
  /** What a batch of this key stored, if one is stored (checked before detecting: see app.ts). */
  known(id: string): Promise<CommitResult | null>;
  alerts(
    filter: AlertFilter,
    page: { offset: number; limit: number },
  ): Promise<{ total: number; alerts: Alert[] }>;
  timeline(filter: AlertFilter): Promise<{ hour: string; level: string; n: number }[]>;
  ruleHits(): Promise<Map<string, number>>;
  /** The alerts of one kind (the KQL hunts' rows, to know them again after a restart). */
  alertsOfKind(kind: string): Promise<Alert[]>;
  counts(): Promise<{ events: number; alerts: number; batches: number; hosts: number }>;
  /** Events `lotl ingest` stored, which no detection of the server's has seen. */
  undetected(): Promise<number>;
  /**
   * Those events, in the order they went in, a chunk at a time with their row ids: to detect and
   * commit with `stored` (stores that cannot number stored events have none to give).
   */
  undetectedEvents?(chunk: number): AsyncGenerator<{ rowids: number[]; events: RawEvent[] }>;
  /** Every event and the alerts raised on each, as the store holds them (the correlate stage is given them at start). */
  replay(): AsyncGenerator<ReplayItem>;
  /**
   * The correlation matches of the last `spanMs` before the newest one, in the order they were
   * judged, at most `cap` (the newest); `total` counts those the cap left out too.
   */
  recentSignals(spanMs: number, cap: number): Promise<{ signals: CorrelationSignal[]; total: number }>;
  /**
   * A page of a KQL query's rows, as Kusto shows them; throws KqlUnsupportedError (with its place)
   * for what this store's compiler does not cover.
   */
  kql(bound: BoundQuery, page: { offset: number; limit: number }, now: Date): Promise<KqlPage>;
  /** Throws KqlUnsupportedError when this store cannot run the query (hunts are checked at start). */
  checkKql(bound: BoundQuery): void;
  close(): Promise<void>;
}

export class DuckDbServerStore implements ServerStore {
  /** The number the next event gets. */
  private nextSeq = 0;
  /** The number the next correlation match gets. */
  private nextSignal = 0;
  /** Commits one at a time (one writer connection). */
  private writing: Promise<unknown> = Promise.resolve();
  /** Bumped at every commit: answers computed from the data are kept until it moves. */
  version = 0;

  readonly name: string;

  private constructor(
    readonly file: string,
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
    private readonly limits: QueryLimits,
    /** The file rows are staged in for read_json. */
    private readonly staged: string,
  ) {
    this.name = file;
  }

  /**
   * `stage`: a folder of the server's own where rows are written for DuckDB to read (the only
   * folder the database may read; queries would find there only rows they can query anyway).
   */
  static async open(file: string, limits: QueryLimits, stage: string): Promise<DuckDbServerStore> {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(file, {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      memory_limit: limits.memory,
      // A checkpoint every 16 MB of log (the default) came at nearly every commit of a big batch:
      // at 256 MB commits are a quarter faster and the peak memory lower; a restart after a crash
      // replays at most that much log.
      checkpoint_threshold: '256MB',
    });
    const writer = await instance.connect();
    for (const sql of SCHEMA) await writer.run(sql);
    for (const schema of TABLES) {
      await writer.run(createKqlTable(schema));
      // Under the name queries use (the compiled SQL names Defender's and Sentinel's tables).
      await writer.run(
        `CREATE VIEW IF NOT EXISTS ${DUCKDB.identifier(schema.name)} AS SELECT * FROM ${DUCKDB.identifier(kqlTableName(schema.name))}`,
      );
    }
    await writer.run(`SET allowed_directories = [${DUCKDB.literal(path.resolve(stage) + path.sep)}]`);
    await writer.run('SET enable_external_access = false');
    await writer.run('SET lock_configuration = true');
    // Row ids and numbers of stored events being numbered (a batch with `stored`).
    await writer.run('CREATE TEMP TABLE lotl_numbering (r BIGINT, seq BIGINT)');
    const reader = await instance.connect();
    const store = new DuckDbServerStore(
      file,
      instance,
      writer,
      reader,
      limits,
      path.join(stage, 'rows.jsonl'),
    );
    const [row] = await store.own('SELECT coalesce(max(seq) + 1, 0) AS next FROM lotl_events');
    store.nextSeq = Number(row.next);
    const [sig] = await store.own('SELECT coalesce(max(seq) + 1, 0) AS next FROM lotl_signals');
    store.nextSignal = Number(sig.next);
    return store;
  }

  /** Stores a batch in one transaction; a key already stored adds nothing. */
  commit(batch: Batch): Promise<CommitResult> {
    const run = this.writing.then(() => this.commitNow(batch));
    this.writing = run.catch(() => undefined);
    return run;
  }

  async known(id: string): Promise<CommitResult | null> {
    const [row] = await this.own('SELECT events, alerts FROM lotl_batches WHERE id = ?', [id]);
    return row ? { stored: false, events: Number(row.events), alerts: Number(row.alerts) } : null;
  }

  private async commitNow(batch: Batch): Promise<CommitResult> {
    const w = this.writer;
    const seen = await w.runAndReadAll('SELECT events, alerts FROM lotl_batches WHERE id = ?', [batch.id]);
    if (seen.currentRowCount > 0) {
      const [row] = seen.getRowObjectsJson();
      return { stored: false, events: Number(row.events), alerts: Number(row.alerts) };
    }
    const first = this.nextSeq;
    await w.run('BEGIN TRANSACTION');
    try {
      const events = batch.views.map((view, i) => ({
        ...eventRow(view, batch.source, batch.id),
        seq: first + i,
      }));
      if (batch.stored) {
        await this.insert(
          'lotl_numbering',
          NUMBERING_STRUCTURE,
          batch.stored.map((r, i) => ({ r, seq: first + i })),
        );
        await w.run(
          'UPDATE lotl_events SET seq = n.seq FROM lotl_numbering n WHERE lotl_events.rowid = n.r AND lotl_events.seq IS NULL',
        );
        await w.run('DELETE FROM lotl_numbering');
      } else await this.insert('lotl_events', EVENT_STRUCTURE, events);
      const kql = new Map<string, Record<string, unknown>[]>();
      const stage = (rows: ReturnType<typeof eventRows>) => {
        for (const row of rows) {
          const schema = TABLE_BY_NAME.get(row.table);
          if (!schema) continue;
          const out: Record<string, unknown> = {};
          for (const [name, type] of schema.columns) {
            const v = cell(row.value(name), type);
            if (v !== null) out[name] = v;
          }
          const list = kql.get(row.table);
          if (list) list.push(out);
          else kql.set(row.table, [out]);
        }
      };
      for (const view of batch.views) stage(eventRows(view));
      const alerts = batch.alerts.map(({ alert, event }) => {
        if (event !== null) stage(alertRows(alert, batch.views[event]));
        return {
          batch: batch.id,
          event_seq: event === null ? null : first + event,
          ...alertColumns(alert),
          alert,
        };
      });
      await this.insert('lotl_alerts', ALERT_STRUCTURE, alerts);
      const signals = (batch.signals ?? []).map((signal, i) => ({
        seq: this.nextSignal + i,
        batch: batch.id,
        time: signal.alert.time,
        signal,
      }));
      await this.insert('lotl_signals', SIGNAL_STRUCTURE, signals);
      for (const [table, rows] of kql)
        await this.insert(kqlTableName(table), KQL_STRUCTURE.get(table) as string, rows);
      await w.run('INSERT INTO lotl_batches VALUES (?, ?, ?, ?, now())', [
        batch.id,
        batch.source,
        events.length,
        alerts.length,
      ]);
      await w.run('COMMIT');
    } catch (err) {
      await w.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
    this.nextSeq = first + batch.views.length;
    this.nextSignal += batch.signals?.length ?? 0;
    this.version++;
    return { stored: true, events: batch.views.length, alerts: batch.alerts.length };
  }

  /**
   * Inserts rows given as objects: written as JSON lines to the staging file and read by DuckDB
   * (read_json is four times faster than one JSON parameter; from_json took 0.2 ms an event). Only
   * the columns some row has are read: a wide table's full list (SecurityEvent has ~150 columns,
   * most empty for any one event) made reading four times slower.
   */
  private async insert(table: string, structure: string, rows: Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return;
    const types = JSON.parse(structure)[0] as Record<string, string>;
    const used = new Set<string>();
    for (const row of rows) for (const k of Object.keys(row)) used.add(k);
    const names = Object.keys(types).filter((c) => used.has(c));
    const fd = openSync(this.staged, 'w');
    try {
      let buffer = '';
      for (const row of rows) {
        buffer += `${wellFormedJson(JSON.stringify(row))}\n`;
        if (buffer.length > 1 << 20) {
          writeSync(fd, buffer);
          buffer = '';
        }
      }
      writeSync(fd, buffer);
    } finally {
      closeSync(fd);
    }
    const columns = names.map((c) => `${DUCKDB.literal(c)}: ${DUCKDB.literal(types[c])}`).join(', ');
    await this.writer.run(
      `INSERT INTO ${DUCKDB.identifier(table)} (${names.map((c) => DUCKDB.identifier(c)).join(', ')}) SELECT * FROM read_json(${DUCKDB.literal(this.staged)}, format = 'newline_delimited', columns = {${columns}})`,
    );
  }

  /** Alerts by time, newest last; `total` counts every alert the filter keeps. */
  async alerts(
    filter: AlertFilter,
    page: { offset: number; limit: number },
  ): Promise<{ total: number; alerts: Alert[] }> {
    const { where, params } = alertWhere(filter);
    const [count] = await this.own(`SELECT count(*) AS n FROM lotl_alerts WHERE ${where}`, params);
    const rows = await this.own(
      `SELECT alert FROM lotl_alerts WHERE ${where} ORDER BY time NULLS LAST, event_seq, rule_id LIMIT ? OFFSET ?`,
      [...params, page.limit, page.offset],
    );
    return { total: Number(count.n), alerts: rows.map((r) => parseJson(r.alert) as Alert) };
  }

  /** Alerts per hour and level (the timeline's bars), for the same filter as alerts(). */
  async timeline(filter: AlertFilter): Promise<{ hour: string; level: string; n: number }[]> {
    const { where, params } = alertWhere(filter);
    const rows = await this.own(
      `SELECT substr(time, 1, 13) AS hour, level, count(*) AS n FROM lotl_alerts WHERE ${where} AND time IS NOT NULL GROUP BY ALL ORDER BY hour, level LIMIT 10000`,
      params,
    );
    return rows.map((r) => ({ hour: String(r.hour), level: String(r.level), n: Number(r.n) }));
  }

  async alertsOfKind(kind: string): Promise<Alert[]> {
    const rows = await this.own('SELECT alert FROM lotl_alerts WHERE kind = ?', [kind]);
    return rows.map((r) => parseJson(r.alert) as Alert);
  }

  /** Alerts per rule id. */
  async ruleHits(): Promise<Map<string, number>> {
    const rows = await this.own('SELECT rule_id, count(*) AS n FROM lotl_alerts GROUP BY rule_id');
    return new Map(rows.map((r) => [String(r.rule_id), Number(r.n)]));
  }

  async counts(): Promise<{ events: number; alerts: number; batches: number; hosts: number }> {
    const [row] = await this.own(
      `SELECT (SELECT count(*) FROM lotl_events) AS events, (SELECT count(*) FROM lotl_alerts) AS alerts,
        (SELECT count(*) FROM lotl_batches) AS batches, (SELECT count(DISTINCT host) FROM lotl_events) AS hosts`,
    );
    return {
      events: Number(row.events),
      alerts: Number(row.alerts),
      batches: Number(row.batches),
      hosts: Number(row.hosts),
    };
  }

  /** How many events each batch key holds (tests and the fault check read it). */
  async batchEvents(): Promise<Map<string, number>> {
    const rows = await this.own('SELECT sha256 AS batch, count(*) AS n FROM lotl_events GROUP BY sha256');
    return new Map(rows.map((r) => [String(r.batch), Number(r.n)]));
  }

  /**
   * Every event in the order it went in (the server's commits, then what `lotl ingest` stored, file
   * by file), with the alerts raised on it; alerts raised on no event come last. One scan streamed
   * on a connection of its own (a sort of the events held them all in DuckDB's memory); the
   * alerts read a range of event numbers at a time (they went in in that order, so a range is a
   * few row groups). A scan that ends short of the table's count is an error, not the end.
   */
  async *replay(chunk = 20_000): AsyncGenerator<ReplayItem> {
    const [{ n }] = await this.own('SELECT count(*) AS n FROM lotl_events');
    const connection = await this.instance.connect();
    try {
      const result = await connection.stream('SELECT seq, CAST(event AS VARCHAR) AS event FROM lotl_events');
      let pending: { seq: number | null; event: string }[] = [];
      const items = async (): Promise<ReplayItem[]> => {
        const seqs = pending.flatMap((p) => (p.seq === null ? [] : [p.seq]));
        const byEvent = new Map<number, Alert[]>();
        if (seqs.length > 0) {
          const rows = await this.own(
            'SELECT event_seq, alert FROM lotl_alerts WHERE event_seq BETWEEN ? AND ? ORDER BY event_seq, rule_id',
            [seqs.reduce((a, b) => Math.min(a, b)), seqs.reduce((a, b) => Math.max(a, b))],
          );
          for (const r of rows) {
            const seq = Number(r.event_seq);
            const list = byEvent.get(seq);
            const alert = parseJson(r.alert) as Alert;
            if (list) list.push(alert);
            else byEvent.set(seq, [alert]);
          }
        }
        const out = pending.map((p) => ({
          event: JSON.parse(p.event) as RawEvent,
          alerts: p.seq === null ? [] : (byEvent.get(p.seq) ?? []),
        }));
        pending = [];
        return out;
      };
      for await (const rows of wholeRead(Number(n), result.yieldRowsJson())) {
        for (const [seq, event] of rows)
          pending.push({ seq: seq === null ? null : Number(seq), event: String(event) });
        if (pending.length >= chunk) yield* await items();
      }
      yield* await items();
    } finally {
      connection.closeSync();
    }
    const loose = await this.own('SELECT alert FROM lotl_alerts WHERE event_seq IS NULL ORDER BY time');
    yield { event: null, alerts: loose.map((r) => parseJson(r.alert) as Alert) };
  }

  async undetected(): Promise<number> {
    // The server numbers the events it stores; `lotl ingest` does not.
    const [row] = await this.own('SELECT count(*) AS n FROM lotl_events WHERE seq IS NULL');
    return Number(row.n);
  }

  async *undetectedEvents(chunk: number): AsyncGenerator<{ rowids: number[]; events: RawEvent[] }> {
    // A connection of its own: its snapshot is taken at the start, the numbering commits beside it.
    const connection = await this.instance.connect();
    try {
      const result = await connection.stream(
        'SELECT rowid AS r, CAST(event AS VARCHAR) AS event FROM lotl_events WHERE seq IS NULL',
      );
      let rowids: number[] = [];
      let events: RawEvent[] = [];
      for await (const rows of result.yieldRowsJson()) {
        for (const [r, event] of rows) {
          rowids.push(Number(r));
          events.push(JSON.parse(String(event)) as RawEvent);
          if (rowids.length >= chunk) {
            yield { rowids, events };
            rowids = [];
            events = [];
          }
        }
      }
      if (rowids.length > 0) yield { rowids, events };
    } finally {
      connection.closeSync();
    }
  }

  async recentSignals(spanMs: number, cap: number): Promise<{ signals: CorrelationSignal[]; total: number }> {
    const [newest] = await this.own('SELECT max(time) AS t FROM lotl_signals WHERE time IS NOT NULL');
    const from = newest?.t ? restoreFrom(String(newest.t), spanMs) : null;
    if (from === null) return { signals: [], total: 0 };
    const [count] = await this.own('SELECT count(*) AS n FROM lotl_signals WHERE time >= ?', [from]);
    const rows = await this.own(
      'SELECT signal FROM (SELECT seq, signal FROM lotl_signals WHERE time >= ? ORDER BY seq DESC LIMIT ?) ORDER BY seq',
      [from, cap],
    );
    return { signals: rows.map((r) => parseJson(r.signal) as CorrelationSignal), total: Number(count.n) };
  }

  checkKql(bound: BoundQuery): void {
    compileKql(bound);
  }

  /**
   * A page of a KQL query's rows: the query compiled as `lotl query` compiles it (DuckDB's full
   * compiler: its prepare steps run first), read from `offset` as one SELECT bounded in time and
   * memory; `more` says whether rows follow. Pages cap what one answer carries, not what can be read.
   */
  async kql(bound: BoundQuery, page: { offset: number; limit: number }, now: Date): Promise<KqlPage> {
    const compiled = compileKql(bound, { now });
    // A connection of its own: a query is a stream, and another query on the same connection
    // (the page's counts, a job's check) cut it short — it answered no rows, now and then.
    const { registerKqlFunctions } = await import('../store/udfs.js');
    const connection = await this.instance.connect();
    try {
      registerKqlFunctions(connection);
      const sql = await resolveSql(compiled, (text) => guardedSelect(connection, text, this.limits));
      const raw = await guardedSelect(
        connection,
        `SELECT * FROM (${sql}) LIMIT ${page.limit + 1} OFFSET ${page.offset}`,
        {
          ...this.limits,
          maxRows: page.limit + 1,
        },
      );
      // After bag_unpack or pivot the data names some columns: those the rows hold.
      const columns =
        compiled.openColumns && raw.length > 0
          ? Object.keys(raw[0]).map(
              (name) => compiled.columns.find((c) => c.name === name) ?? { name, type: 'string' },
            )
          : compiled.columns;
      return {
        columns,
        rows: raw.slice(0, page.limit).map((r) => presentRow(r, columns)),
        sql,
        more: raw.length > page.limit,
      };
    } finally {
      connection.closeSync();
    }
  }

  /** Reads on the shared connection, one at a time (a connection runs one query at once). */
  private reading: Promise<unknown> = Promise.resolve();

  /** Runs lotl's own SELECT (not a user's text) on the reading connection. */
  private own(sql: string, params: (string | number | null)[] = []): Promise<Record<string, unknown>[]> {
    const run = this.reading.then(async () => {
      const reader = await this.reader.runAndReadAll(sql, params);
      return reader.getRowObjectsJson() as Record<string, unknown>[];
    });
    this.reading = run.catch(() => undefined);
    return run;
  }

  /** Waits for the commit under way, then closes the database. */
  async close(): Promise<void> {
    await this.writing;
    await this.reading;
    this.reader.closeSync();
    this.writer.closeSync();
    this.instance.closeSync();
  }
}

const TABLE_BY_NAME = new Map(TABLES.map((t) => [t.name, t]));

/** from_json's structure of each KQL table's rows. */
const KQL_STRUCTURE = new Map(
  TABLES.map((t) => [
    t.name,
    JSON.stringify([Object.fromEntries(t.columns.map(([n, ty]) => [n, SQL_TYPE[ty]]))]),
  ]),
);

function createKqlTable(schema: TableSchema): string {
  const columns = schema.columns.map(([n, t]) => `${DUCKDB.identifier(n)} ${SQL_TYPE[t]}`).join(', ');
  return `CREATE TABLE IF NOT EXISTS ${DUCKDB.identifier(kqlTableName(schema.name))} (${columns})`;
}

/** The columns an alert is filtered and sorted by, whatever the store. */
export function alertColumns(alert: Alert): Record<string, string | number | null> {
  return {
    time: alert.time,
    level: alert.rule.level,
    rank: LEVELS.indexOf(alert.rule.level),
    rule_id: alert.rule.id,
    rule_title: alert.rule.title,
    kind: alert.rule.kind,
    host: alert.host,
    user_name: alert.user,
  };
}

function alertWhere(f: AlertFilter): { where: string; params: (string | number)[] } {
  const parts = ['TRUE'];
  const params: (string | number)[] = [];
  if (f.minLevel) {
    parts.push('rank >= ?');
    params.push(LEVELS.indexOf(f.minLevel));
  }
  if (f.rule) {
    parts.push('rule_id = ?');
    params.push(f.rule);
  }
  if (f.host) {
    parts.push('lower(host) = lower(?)');
    params.push(f.host);
  }
  if (f.from) {
    parts.push('time >= ?');
    params.push(f.from);
  }
  if (f.to) {
    parts.push('time <= ?');
    params.push(f.to);
  }
  if (f.text) {
    parts.push(
      "(contains(lower(rule_title), lower(?)) OR contains(lower(coalesce(host, '')), lower(?)) OR contains(lower(coalesce(user_name, '')), lower(?)) OR contains(lower(CAST(alert AS VARCHAR)), lower(?)))",
    );
    params.push(f.text, f.text, f.text, f.text);
  }
  return { where: parts.join(' AND '), params };
}

function parseJson(v: unknown): unknown {
  return typeof v === 'string' ? JSON.parse(v) : v;
}
