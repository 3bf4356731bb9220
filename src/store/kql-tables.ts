/**
 * The tables KQL queries name, as a SQL store keeps them beside its events (ClickHouse: written at
 * ingest; DuckDB's embedded store: its own tables) and as a query of the SQL tree reads them:
 * times as 100 ns ticks (see kql/to-tree.ts), one SELECT per table giving exactly the schema's
 * columns.
 */
import type { KqlType, TableSchema } from '../detect/kql/schemas.js';
import { datetimeTicks } from '../detect/kql/to-tree.js';
import type { Dialect } from '../sql/dialects.js';
import { cell, type TableRow } from './kql-rows.js';

/** ClickHouse's name of a KQL table (one per Defender or Sentinel table). */
export const kqlTableName = (table: string) => `lotl_kql_${table}`;

/** Column types on ClickHouse 18.16: nullable everything, times and timespans as ticks. */
const CLICKHOUSE_TYPE: Record<KqlType, string> = {
  string: 'Nullable(String)',
  guid: 'Nullable(String)',
  dynamic: 'Nullable(String)',
  long: 'Nullable(Int64)',
  int: 'Nullable(Int64)',
  timespan: 'Nullable(Int64)',
  datetime: 'Nullable(Int64)',
  real: 'Nullable(Float64)',
  bool: 'Nullable(UInt8)',
};

/** The CREATE TABLE of a KQL table on ClickHouse (rows kept per file run, as events are). */
export function clickhouseKqlTable(schema: TableSchema, identifier: (name: string) => string): string {
  const columns = schema.columns.map(([name, type]) => `${identifier(name)} ${CLICKHOUSE_TYPE[type]}`);
  return `CREATE TABLE IF NOT EXISTS ${kqlTableName(schema.name)} (sha256 String, run String, ${columns.join(', ')}) ENGINE = MergeTree ORDER BY sha256`;
}

/** One row as ClickHouse's JSONEachRow wants it: absent values left out, times as ticks. */
export function clickhouseKqlRow(
  row: TableRow,
  schema: TableSchema,
  file: { sha256: string; run: string },
): string {
  const out: Record<string, unknown> = { sha256: file.sha256, run: file.run };
  for (const [name, type] of schema.columns) {
    const v = cell(row.value(name), type);
    if (v === null) continue;
    if (type === 'datetime') {
      const ticks = datetimeTicks(String(v));
      if (ticks !== null) out[name] = String(ticks);
    } else if (type === 'bool') out[name] = v ? 1 : 0;
    else if (type === 'dynamic') out[name] = typeof v === 'string' ? v : JSON.stringify(v);
    else out[name] = v;
  }
  return JSON.stringify(out);
}

/**
 * The SELECT a tree query reads a table through: the schema's columns, times as ticks, from
 * `from` (the table, or ClickHouse's visible rows of it).
 */
export function kqlTableSelect(schema: TableSchema, dialect: Dialect, from: string): string {
  const columns = schema.columns.map(([name, type]) => {
    const id = dialect.identifier(name);
    return type === 'datetime' ? `${dialect.call('ticks', [id])} AS ${id}` : id;
  });
  return `(SELECT ${columns.join(', ')} FROM ${from})`;
}
