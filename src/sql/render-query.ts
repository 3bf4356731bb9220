/**
 * Writes a query of the tree (tree.ts) in a dialect: SELECTs nested as subqueries (ClickHouse 18.16
 * has no CTEs), UNION ALL, and the store's tables as the store presents them (`table`: the text
 * that reads a table in a FROM, such as ClickHouse's visible rows of it).
 */
import { type Dialect, expressionWriter, type RenderMemo } from './dialects.js';
import type { SqlQuery, SqlSource, SqlValue } from './tree.js';

export function renderQuery(
  query: SqlQuery,
  dialect: Dialect,
  table: (name: string) => string,
): { sql: string; params: SqlValue[] } {
  const params: SqlValue[] = [];
  const count = { n: 0 };
  const writeQuery = (q: SqlQuery): string => {
    if (q.kind === 'union_all') return q.queries.map((leg) => writeQuery(leg)).join(' UNION ALL ');
    // A name made for an expression (a folded field) is seen only in its own SELECT.
    const memo: RenderMemo = { named: new Map(), count };
    const write = expressionWriter(dialect, params, memo, (name) => dialect.identifier(name));
    // Written in the order the text reads, so parameters (DuckDB) come in order.
    const columns =
      q.columns === null
        ? '*'
        : q.columns.map((c) => `${write(c.expr)} AS ${dialect.identifier(c.as)}`).join(', ');
    let sql = `SELECT ${q.distinct ? 'DISTINCT ' : ''}${columns}`;
    if (q.from) sql += ` FROM ${source(q.from)}`;
    if (q.where) sql += ` WHERE ${write(q.where)}`;
    if (q.groupBy && q.groupBy.length > 0) sql += ` GROUP BY ${q.groupBy.map((e) => write(e)).join(', ')}`;
    if (q.orderBy && q.orderBy.length > 0)
      sql += ` ORDER BY ${q.orderBy
        .map((o) => `${write(o.expr)} ${o.desc ? 'DESC' : 'ASC'} NULLS ${o.nullsFirst ? 'FIRST' : 'LAST'}`)
        .join(', ')}`;
    if (q.limit !== undefined) sql += ` LIMIT ${q.limit}`;
    return sql;
  };
  const source = (s: SqlSource): string =>
    s.kind === 'table' ? table(s.name) : `(${writeQuery(s.query)}) AS ${dialect.identifier(s.alias)}`;
  return { sql: writeQuery(query), params };
}
