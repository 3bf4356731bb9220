/**
 * A Sigma hunt run as SQL where the events are stored (`lotl hunt --db FILE`): each rule through
 * the predicate IR becomes one query over lotl_events (store/event-table.ts) — its logsource key
 * among the event's, its detection as a WHERE condition on the event's fields — and every row is
 * an alert, made as the streaming hunt makes it. Rules the IR cannot express (keyword searches,
 * correlations) are listed with the reason and do not run.
 */
import { type Alert, alertFor } from '../detect/alert.js';
import type { Node } from '../detect/ir/predicate.js';
import { keyOf, ruleMeta } from '../detect/sigma/engine.js';
import type { SigmaRule } from '../detect/sigma/load.js';
import type { RawEvent } from '../ingest/raw-event.js';
import { normalize, OVERRIDDEN_FIELDS } from '../normalize/normalize.js';
import { DUCKDB } from '../sql/dialects.js';
import { LIST_PREFIX, predicateSql } from '../sql/from-predicate.js';
import type { EventTable } from '../store/event-table.js';

/**
 * A field as a rule of its logsource reads it: `category` rules the taxonomy first, `service` rules
 * the source's own field first (as the streaming matcher's getters do).
 */
export function fieldExpression(field: string, scope: 'category' | 'service'): string {
  // A field's list of values (the source's lists: the taxonomy's fields are texts).
  if (field.startsWith(LIST_PREFIX))
    return `map_extract_value(source_lists, ${DUCKDB.literal(field.slice(LIST_PREFIX.length).toLowerCase())})`;
  const name = DUCKDB.literal(field.toLowerCase());
  const taxonomy = `map_extract_value(taxonomy_fields, ${name})`;
  const source = `map_extract_value(source_fields, ${name})`;
  return scope === 'category' || OVERRIDDEN_FIELDS.has(field.toLowerCase())
    ? `coalesce(${taxonomy}, ${source})`
    : `coalesce(${source}, ${taxonomy})`;
}

export interface TableHuntResult {
  alerts: Alert[];
  /** Rules that ran as SQL. */
  ran: number;
  /** Rules that did not, with the reason. */
  skipped: { title: string; id: string | null; reason: string }[];
}

export async function huntTable(
  table: EventTable,
  rules: SigmaRule[],
  predicates: Map<string, { node?: Node; unsupported?: string }>,
): Promise<TableHuntResult> {
  const alerts: Alert[] = [];
  const skipped: TableHuntResult['skipped'] = [];
  let ran = 0;
  for (const rule of rules) {
    const p = predicates.get(`${rule.file}\n${rule.id}`);
    if (!p?.node) {
      skipped.push({ title: rule.title, id: rule.id, reason: p?.unsupported ?? 'no detection found for it' });
      continue;
    }
    const scope = rule.logsource.category ? 'category' : 'service';
    const { sql, params } = predicateSql(p.node, DUCKDB, {
      lists: true,
      fieldSql: (f) => fieldExpression(f, scope),
    });
    const rows = await table.select(`SELECT event FROM lotl_events WHERE list_contains(keys, ?) AND ${sql}`, [
      keyOf(rule.logsource),
      ...params,
    ]);
    ran++;
    const meta = ruleMeta(rule);
    for (const row of rows) {
      const raw = (typeof row.event === 'string' ? JSON.parse(row.event) : row.event) as RawEvent;
      alerts.push(alertFor(normalize(raw), meta));
    }
  }
  return { alerts, ran, skipped };
}
