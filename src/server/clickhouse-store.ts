/**
 * The server's store on ClickHouse (`lotl serve --clickhouse URL`): the tables `lotl ingest
 * --clickhouse` writes (events, KQL tables, lotl_files) plus lotl_alerts. ClickHouse 18.16 has no
 * transactions: a batch's rows are written under a new run id and become visible together when the
 * batch's row goes into lotl_files, last, as a file's do (clickhouse-table.ts). A batch key already
 * in lotl_files is not written again. Every read filters to the visible rows.
 */
import { randomUUID } from 'node:crypto';
import type { Alert } from '../detect/alert.js';
import { LEVELS } from '../detect/alert.js';
import type { BoundQuery } from '../detect/kql/frontend.js';
import { presentTreeRow } from '../detect/kql/rows.js';
import { TABLES } from '../detect/kql/schemas.js';
import { kqlToTree } from '../detect/kql/to-tree.js';
import type { CorrelationSignal } from '../detect/sigma/correlation.js';
import type { RawEvent } from '../ingest/raw-event.js';
import { CLICKHOUSE } from '../sql/dialects.js';
import { ClickHouseTable, clickhouseEventRow, clickhouseKqlSql } from '../store/clickhouse-table.js';
import type { QueryLimits } from '../store/duckdb.js';
import { wellFormedJson } from '../store/duckdb.js';
import { alertRows, eventRows, type TableRow } from '../store/kql-rows.js';
import { clickhouseKqlRow } from '../store/kql-tables.js';
import { storeName } from '../store/stored-events.js';
import {
  type AlertFilter,
  alertColumns,
  type Batch,
  type CommitResult,
  type KqlPage,
  type ReplayItem,
  restoreFrom,
  type ServerStore,
} from './store.js';

const ALERTS_TABLE = `CREATE TABLE IF NOT EXISTS lotl_alerts (sha256 String, run String, time Nullable(String),
  level String, rank Int32, rule_id String, rule_title String, kind String, host Nullable(String),
  user_name Nullable(String), alert String, raw Nullable(String)) ENGINE = MergeTree ORDER BY sha256`;

/** Correlation matches in the order they were judged: by commit (ms, then a counter), then place. */
const SIGNALS_TABLE = `CREATE TABLE IF NOT EXISTS lotl_signals (sha256 String, run String, committed UInt64,
  i UInt32, time Nullable(String), signal String) ENGINE = MergeTree ORDER BY (committed, i)`;

const SCHEMAS = new Map(TABLES.map((t) => [t.name, t]));
const lit = (v: string | number) => (typeof v === 'number' ? String(v) : CLICKHOUSE.literal(v));

export class ClickHouseServerStore implements ServerStore {
  version = 0;
  private writing: Promise<unknown> = Promise.resolve();
  /** The last commit's stamp: signals of later commits sort after (even if the clock steps back). */
  private lastCommitted = 0;

  private constructor(
    private readonly table: ClickHouseTable,
    readonly name: string,
    private readonly limits: QueryLimits,
  ) {}

  static async open(url: string, limits: QueryLimits, cluster?: string): Promise<ClickHouseServerStore> {
    const table = await ClickHouseTable.open(url, { cluster });
    await table.run(ALERTS_TABLE);
    await table.run(SIGNALS_TABLE);
    return new ClickHouseServerStore(table, storeName({ clickhouse: url, cluster }), limits);
  }

  commit(batch: Batch): Promise<CommitResult> {
    const run = this.writing.then(() => this.commitNow(batch));
    this.writing = run.catch(() => undefined);
    return run;
  }

  async known(id: string): Promise<CommitResult | null> {
    const t = this.table;
    const key = lit(id);
    const [seen] = await t.rows(`SELECT events FROM lotl_files WHERE sha256 = ${key} LIMIT 1`);
    if (!seen) return null;
    const [a] = await t.rows(`SELECT count() AS n FROM lotl_alerts WHERE sha256 = ${key} AND ${t.visible}`);
    return { stored: false, events: Number(seen.events), alerts: Number(a.n) };
  }

  private async commitNow(batch: Batch): Promise<CommitResult> {
    const t = this.table;
    const known = await this.known(batch.id);
    if (known) return known;
    const run = randomUUID();
    const file = { sha256: batch.id, run };
    const kql = new Map<string, string[]>();
    const keep = (row: TableRow) => {
      const schema = SCHEMAS.get(row.table);
      if (!schema) return;
      const rows = kql.get(row.table);
      const json = wellFormedJson(clickhouseKqlRow(row, schema, file));
      if (rows) rows.push(json);
      else kql.set(row.table, [json]);
    };
    const events = batch.views.map((view) => {
      for (const row of eventRows(view)) keep(row);
      return clickhouseEventRow(view, batch.source, batch.id, run);
    });
    const alerts = batch.alerts.map(({ alert, event }) => {
      const view = event === null ? null : batch.views[event];
      if (view) for (const row of alertRows(alert, view)) keep(row);
      return wellFormedJson(
        JSON.stringify({
          sha256: batch.id,
          run,
          ...alertColumns(alert),
          alert: JSON.stringify(alert),
          raw: view ? JSON.stringify(view.raw) : null,
        }),
      );
    });
    if (events.length > 0) await t.run(`INSERT INTO ${t.events} FORMAT JSONEachRow`, events.join('\n'));
    for (const [name, rows] of kql)
      await t.run(`INSERT INTO ${t.kqlTable(name)} FORMAT JSONEachRow`, rows.join('\n'));
    if (alerts.length > 0) await t.run('INSERT INTO lotl_alerts FORMAT JSONEachRow', alerts.join('\n'));
    if (batch.signals?.length) {
      this.lastCommitted = Math.max(this.lastCommitted + 1, Date.now());
      const committed = this.lastCommitted;
      const rows = batch.signals.map((signal, i) =>
        wellFormedJson(
          JSON.stringify({
            sha256: batch.id,
            run,
            committed,
            i,
            time: signal.alert.time,
            signal: JSON.stringify(signal),
          }),
        ),
      );
      await t.run('INSERT INTO lotl_signals FORMAT JSONEachRow', rows.join('\n'));
    }
    // Last: the batch's rows become visible together.
    await t.run(
      'INSERT INTO lotl_files FORMAT JSONEachRow',
      JSON.stringify({ sha256: batch.id, run, path: batch.source, bytes: 0, events: events.length }),
    );
    this.version++;
    return { stored: true, events: events.length, alerts: alerts.length };
  }

  private where(f: AlertFilter): string {
    const parts = [this.table.visible];
    if (f.minLevel) parts.push(`rank >= ${LEVELS.indexOf(f.minLevel)}`);
    if (f.rule) parts.push(`rule_id = ${lit(f.rule)}`);
    if (f.host) parts.push(`lowerUTF8(ifNull(host, '')) = lowerUTF8(${lit(f.host)})`);
    if (f.from) parts.push(`time >= ${lit(f.from)}`);
    if (f.to) parts.push(`time <= ${lit(f.to)}`);
    if (f.text) {
      const t = lit(f.text);
      parts.push(
        `(positionCaseInsensitiveUTF8(rule_title, ${t}) > 0 OR positionCaseInsensitiveUTF8(ifNull(host, ''), ${t}) > 0 OR positionCaseInsensitiveUTF8(ifNull(user_name, ''), ${t}) > 0 OR positionCaseInsensitiveUTF8(alert, ${t}) > 0)`,
      );
    }
    return parts.join(' AND ');
  }

  async alerts(
    filter: AlertFilter,
    page: { offset: number; limit: number },
  ): Promise<{ total: number; alerts: Alert[] }> {
    const where = this.where(filter);
    const [count] = await this.table.rows(`SELECT count() AS n FROM lotl_alerts WHERE ${where}`);
    const rows = await this.table.rows(
      `SELECT alert FROM lotl_alerts WHERE ${where} ORDER BY time, rule_id, cityHash64(alert) LIMIT ${page.offset}, ${page.limit}`,
    );
    return { total: Number(count.n), alerts: rows.map((r) => JSON.parse(String(r.alert)) as Alert) };
  }

  async timeline(filter: AlertFilter): Promise<{ hour: string; level: string; n: number }[]> {
    const rows = await this.table.rows(
      `SELECT substring(assumeNotNull(time), 1, 13) AS hour, level, count() AS n FROM lotl_alerts WHERE ${this.where(filter)} AND isNotNull(time) GROUP BY hour, level ORDER BY hour, level LIMIT 10000`,
    );
    return rows.map((r) => ({ hour: String(r.hour), level: String(r.level), n: Number(r.n) }));
  }

  async alertsOfKind(kind: string): Promise<Alert[]> {
    const rows = await this.table.rows(
      `SELECT alert FROM lotl_alerts WHERE kind = ${lit(kind)} AND ${this.table.visible}`,
    );
    return rows.map((r) => JSON.parse(String(r.alert)) as Alert);
  }

  async ruleHits(): Promise<Map<string, number>> {
    const rows = await this.table.rows(
      `SELECT rule_id, count() AS n FROM lotl_alerts WHERE ${this.table.visible} GROUP BY rule_id`,
    );
    return new Map(rows.map((r) => [String(r.rule_id), Number(r.n)]));
  }

  async counts(): Promise<{ events: number; alerts: number; batches: number; hosts: number }> {
    const t = this.table;
    const [e] = await t.rows(
      `SELECT count() AS n, uniqExact(host) AS hosts FROM ${t.events} WHERE ${t.visible}`,
    );
    const [a] = await t.rows(`SELECT count() AS n FROM lotl_alerts WHERE ${t.visible}`);
    const [b] = await t.rows('SELECT uniqExact(sha256) AS n FROM lotl_files');
    return { events: Number(e.n), alerts: Number(a.n), batches: Number(b.n), hosts: Number(e.hosts) };
  }

  /**
   * Events in time order, then each alert with the event it was raised on (kept with the alert:
   * rows of a MergeTree table have no order of arrival to join on). The correlate stage answers
   * at the end, so alerts after the events give the same answers.
   */
  async *replay(pageSize = 5_000): AsyncGenerator<ReplayItem> {
    const t = this.table;
    for (let offset = 0; ; offset += pageSize) {
      const rows = await t.rows(
        `SELECT event FROM ${t.events} WHERE ${t.visible} ORDER BY ifNull(time, ''), sha256, cityHash64(event) LIMIT ${offset}, ${pageSize}`,
      );
      for (const r of rows) yield { event: JSON.parse(String(r.event)) as RawEvent, alerts: [] };
      if (rows.length < pageSize) break;
    }
    for (let offset = 0; ; offset += pageSize) {
      const rows = await t.rows(
        `SELECT alert, raw FROM lotl_alerts WHERE ${t.visible} ORDER BY time, rule_id, cityHash64(alert) LIMIT ${offset}, ${pageSize}`,
      );
      for (const r of rows)
        yield {
          event: r.raw === null ? null : (JSON.parse(String(r.raw)) as RawEvent),
          alerts: [JSON.parse(String(r.alert)) as Alert],
          fed: true,
        };
      if (rows.length < pageSize) break;
    }
  }

  async undetected(): Promise<number> {
    // The server's batches are named `ingest:`, `upload:`, `kql:`; `lotl ingest` names a file by its hash.
    const [row] = await this.table.rows(
      "SELECT sum(events) AS n FROM (SELECT sha256, any(events) AS events FROM lotl_files WHERE position(sha256, ':') = 0 GROUP BY sha256)",
    );
    return Number(row?.n ?? 0);
  }

  async recentSignals(spanMs: number, cap: number): Promise<{ signals: CorrelationSignal[]; total: number }> {
    const t = this.table;
    const [newest] = await t.rows(
      `SELECT max(assumeNotNull(time)) AS t, count() AS n FROM lotl_signals WHERE isNotNull(time) AND ${t.visible}`,
    );
    const from = newest && Number(newest.n) > 0 ? restoreFrom(String(newest.t), spanMs) : null;
    if (from === null) return { signals: [], total: 0 };
    const where = `isNotNull(time) AND assumeNotNull(time) >= ${lit(from)} AND ${t.visible}`;
    const [count] = await t.rows(`SELECT count() AS n FROM lotl_signals WHERE ${where}`);
    const rows = await t.rows(
      `SELECT signal FROM (SELECT committed, i, signal FROM lotl_signals WHERE ${where} ORDER BY committed DESC, i DESC LIMIT ${Math.max(0, Math.floor(cap))}) ORDER BY committed, i`,
    );
    return {
      signals: rows.map((r) => JSON.parse(String(r.signal)) as CorrelationSignal),
      total: Number(count.n),
    };
  }

  checkKql(bound: BoundQuery): void {
    kqlToTree(bound);
  }

  /** A page of a KQL query's rows: compiled to the SQL tree, run read-only within the limits. */
  async kql(bound: BoundQuery, page: { offset: number; limit: number }, now: Date): Promise<KqlPage> {
    const tree = kqlToTree(bound, { now });
    const sql = clickhouseKqlSql(tree.query, this.table.cluster);
    const rows = await this.table.rows(`SELECT * FROM (${sql}) LIMIT ${page.offset}, ${page.limit + 1}`, {
      readonly: '2',
      max_result_rows: String(page.limit + 1),
      result_overflow_mode: 'throw',
      max_execution_time: String(Math.max(1, Math.ceil(this.limits.timeoutMs / 1000))),
    });
    return {
      columns: tree.columns,
      rows: rows.slice(0, page.limit).map((r) => presentTreeRow(r, tree.columns)),
      sql,
      more: rows.length > page.limit,
    };
  }

  async close(): Promise<void> {
    await this.writing;
    this.table.close();
  }
}
