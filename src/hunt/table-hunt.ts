/**
 * A Sigma hunt run as SQL where the events are stored (`lotl hunt --db FILE`, `--clickhouse URL`):
 * each rule through the predicate IR becomes one query — its logsource key among the event's, its
 * detection as a WHERE condition on the event's fields — and every row is an alert, made as the
 * streaming hunt makes it. Rules the IR or the engine cannot express (keyword searches,
 * correlations, IPv6 ranges on ClickHouse 18.16) are listed with the reason and do not run.
 */
import { type Alert, alertFor } from '../detect/alert.js';
import type { Node } from '../detect/ir/predicate.js';
import { keyOf, ruleMeta } from '../detect/sigma/engine.js';
import type { SigmaRule } from '../detect/sigma/load.js';
import type { RawEvent } from '../ingest/raw-event.js';
import { normalize, OVERRIDDEN_FIELDS } from '../normalize/normalize.js';
import { type Dialect, SqlUnsupportedError } from '../sql/dialects.js';
import { predicateSql } from '../sql/from-predicate.js';

/**
 * Which of a field's two values a rule reads first: `category` rules the taxonomy's, `service`
 * rules the source's own — except the fields a profile recomputes (as the streaming getters do).
 */
export function taxonomyFirst(field: string, scope: 'category' | 'service'): boolean {
  return scope === 'category' || OVERRIDDEN_FIELDS.has(field.toLowerCase());
}

/** Where the events are, as a rule's query needs them. */
export interface RuleStore {
  readonly dialect: Dialect;
  /**
   * A field as a rule of this logsource scope reads it (`category`: the taxonomy first; `service`:
   * the source's own field first), and the LIST_PREFIX / HAS_LIST_PREFIX names (from-predicate.ts).
   */
  fieldSql(field: string, scope: 'category' | 'service'): string;
  /** The fields (lower case) some stored event holds a list of values in. */
  listFields(): Promise<Set<string>>;
  /** The events serving the logsource key that the condition accepts. */
  select(key: string, condition: string, params: (string | number | boolean | null)[]): Promise<RawEvent[]>;
}

export interface TableHuntResult {
  alerts: Alert[];
  /** Rules that ran as SQL. */
  ran: number;
  /** Rules that did not, with the reason. */
  skipped: { title: string; id: string | null; reason: string }[];
}

export async function huntTable(
  store: RuleStore,
  rules: SigmaRule[],
  predicates: Map<string, { node?: Node; unsupported?: string }>,
): Promise<TableHuntResult> {
  const alerts: Alert[] = [];
  const skipped: TableHuntResult['skipped'] = [];
  let ran = 0;
  // Only fields some event holds a list in are searched element by element (a test of a list is
  // a lambda; on every field it made ClickHouse's expressions too big).
  const lists = await store.listFields();
  for (const rule of rules) {
    const p = predicates.get(`${rule.file}\n${rule.id}`);
    if (!p?.node) {
      skipped.push({ title: rule.title, id: rule.id, reason: p?.unsupported ?? 'no detection found for it' });
      continue;
    }
    const scope = rule.logsource.category ? 'category' : 'service';
    let condition: { sql: string; params: (string | number | boolean | null)[] };
    try {
      condition = predicateSql(p.node, store.dialect, {
        lists: (f) => lists.has(f.toLowerCase()),
        fieldSql: (f) => store.fieldSql(f, scope),
      });
    } catch (err) {
      if (!(err instanceof SqlUnsupportedError)) throw err;
      skipped.push({ title: rule.title, id: rule.id, reason: err.message });
      continue;
    }
    let events: RawEvent[];
    try {
      events = await store.select(keyOf(rule.logsource), condition.sql, condition.params);
    } catch (err) {
      throw new Error(`rule ${rule.title} (${rule.id}, ${rule.file}): ${(err as Error).message}`);
    }
    ran++;
    const meta = ruleMeta(rule);
    for (const raw of events) alerts.push(alertFor(normalize(raw), meta));
  }
  return { alerts, ran, skipped };
}
