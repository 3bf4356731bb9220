/**
 * Helpers of the portable-KQL tests: a query's rows by the embedded compiler (to-sql.ts on
 * DuckDB, the reference) and by the SQL tree (to-tree.ts) on a given engine, shown the same way.
 */
import { bindKql } from '../../src/detect/kql/frontend.js';
import { presentRow, presentTreeRow } from '../../src/detect/kql/rows.js';
import { compileKql } from '../../src/detect/kql/to-sql.js';
import { kqlToTree, type TreeQuery } from '../../src/detect/kql/to-tree.js';
import type { SqlQuery } from '../../src/sql/tree.js';
import type { EventStore } from '../../src/store/duckdb.js';

export function bound(query: string) {
  const b = bindKql(query);
  const errors = b.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) throw new Error(`${query}: ${errors.map((e) => e.message).join('; ')}`);
  return b;
}

/** Sets come in no particular order: their elements sorted, so engines can be compared. */
function comparable(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [k, Array.isArray(v) ? [...v].map(String).sort() : v]),
    ),
  );
}

export async function referenceRows(store: EventStore, query: string, now: Date) {
  const compiled = compileKql(bound(query), { now });
  return comparable((await store.kql(compiled)).map((r) => presentRow(r, compiled.columns)));
}

export async function treeRows(
  run: (query: SqlQuery) => Promise<Record<string, unknown>[]>,
  query: string,
  now: Date,
): Promise<{ tree: TreeQuery; rows: Record<string, unknown>[] }> {
  const tree = kqlToTree(bound(query), { now });
  return { tree, rows: comparable((await run(tree.query)).map((r) => presentTreeRow(r, tree.columns))) };
}

/** Rows of a query without an order, in one order. */
export const unordered = (rows: Record<string, unknown>[]) => rows.map((r) => JSON.stringify(r)).sort();
