/**
 * How each engine writes the tree (tree.ts): identifiers, literals, functions. `render` returns
 * `{ sql, params }`: values travel as parameters where the engine takes them (DuckDB), and are
 * written as escaped literals where it does not (ClickHouse 18.16 has no query parameters).
 */
import type { SqlExpr, SqlFunction, SqlValue } from './tree.js';

export interface Dialect {
  readonly name: 'duckdb' | 'clickhouse';
  /** Whether values go as `?` parameters (else as literals). */
  readonly parameters: boolean;
  identifier(name: string): string;
  literal(value: SqlValue): string;
  call(fn: SqlFunction, args: string[]): string;
}

/** A SQL string literal: quotes doubled, backslashes too where the engine reads escapes. */
function quoted(s: string, backslashes: boolean): string {
  let t = s.replace(/'/g, "''");
  if (backslashes) t = t.replace(/\\/g, '\\\\');
  // NUL and other control characters cut or confuse a SQL text: spelled as escapes or chr().
  return `'${t}'`;
}

export const DUCKDB: Dialect = {
  name: 'duckdb',
  parameters: true,
  identifier: (name) => `"${name.replace(/"/g, '""')}"`,
  literal(v) {
    if (v === null) return 'NULL';
    if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'NULL';
    // chr() for control characters: a NUL would end the statement's text.
    return [...v].some((c) => c.charCodeAt(0) < 32)
      ? `(${[...v].map((c) => (c.charCodeAt(0) < 32 ? `chr(${c.charCodeAt(0)})` : quoted(c, false))).join(' || ')})`
      : quoted(v, false);
  },
  call(fn, a) {
    switch (fn) {
      case 'lower':
        return `lower(${a[0]})`;
      case 'contains':
        return `contains(${a[0]}, ${a[1]})`;
      case 'starts_with':
        return `starts_with(${a[0]}, ${a[1]})`;
      case 'ends_with':
        return `ends_with(${a[0]}, ${a[1]})`;
      case 'regex_search':
        return `regexp_matches(${a[0]}, ${a[1]})`;
      case 'regex_search_ci':
        return `regexp_matches(${a[0]}, ${a[1]}, 'i')`;
      case 'decimal':
        // (Its argument is written twice: tree.ts gives it a column, never a parameter.)
        return `CASE WHEN regexp_full_match(${a[0]}, ' *-?[0-9]+(\\.[0-9]+)? *') THEN CAST(trim(${a[0]}) AS DOUBLE) END`;
      case 'ip_in_range':
        // A function of lotl's own, registered with the connection (store/udfs.ts): ir/ip.ts parses.
        return `lotl_ip_in_range(${a[0]}, ${a[1]})`;
      case 'coalesce':
        return `coalesce(${a.join(', ')})`;
    }
  },
};

/** Writes an expression; values as parameters or literals, as the dialect takes them. */
export function render(expr: SqlExpr, dialect: Dialect): { sql: string; params: SqlValue[] } {
  const params: SqlValue[] = [];
  const write = (e: SqlExpr): string => {
    switch (e.kind) {
      case 'column':
        return dialect.identifier(e.name);
      case 'value':
        if (dialect.parameters && typeof e.value === 'string') {
          params.push(e.value);
          return '?';
        }
        return dialect.literal(e.value);
      case 'call':
        return dialect.call(
          e.fn,
          e.args.map((a) => write(a)),
        );
      case 'binary':
        return `(${write(e.left)} ${e.op} ${write(e.right)})`;
      case 'not':
        return `(NOT ${write(e.of)})`;
      case 'in':
        return `(${write(e.of)} IN (${e.list.map((x) => write(x)).join(', ')}))`;
      case 'is_not_null':
        return `(${write(e.of)} IS NOT NULL)`;
    }
  };
  return { sql: write(expr), params };
}
