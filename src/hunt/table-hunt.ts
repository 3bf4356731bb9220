/**
 * A Sigma hunt run as SQL where the events are stored (`lotl hunt --db FILE`, `--clickhouse URL`):
 * each rule through the predicate IR becomes a condition on the event's fields; the rules of one
 * logsource run in batches, one query a batch reading that logsource's events once and saying which
 * rules each event matched; every match is an alert, made as the streaming hunt makes it. Rules the
 * IR or the engine cannot express are listed with the reason and do not run. Correlation rules are judged over the matches of the rules they reference, by the
 * streaming correlation engine, the events in the order a stream reads them.
 */
import { type Alert, alertFor } from '../detect/alert.js';
import { EVERY_VALUE, type Node } from '../detect/ir/predicate.js';
import { CorrelationEngine, type CorrelationRule } from '../detect/sigma/correlation.js';
import { keyOf, ruleMeta } from '../detect/sigma/engine.js';
import type { SigmaRule } from '../detect/sigma/load.js';
import type { RawEvent } from '../ingest/raw-event.js';
import { type EventView, normalize, OVERRIDDEN_FIELDS } from '../normalize/normalize.js';
import { type Dialect, renderMany, SqlUnsupportedError } from '../sql/dialects.js';
import { predicateToSql } from '../sql/from-predicate.js';
import type { SqlExpr, SqlValue } from '../sql/tree.js';

/**
 * Which of a field's two values a rule reads first: `category` rules the taxonomy's, `service`
 * rules the source's own — except the fields a profile recomputes (as the streaming getters do).
 */
export function taxonomyFirst(field: string, scope: 'category' | 'service'): boolean {
  return scope === 'category' || OVERRIDDEN_FIELDS.has(field.toLowerCase());
}

/**
 * A field as a rule of this scope reads it from a store's two values of it (SQL expressions): the
 * taxonomy's or the source's first, as taxonomyFirst says.
 */
export function scopedField(
  field: string,
  scope: 'category' | 'service',
  taxonomy: string,
  source: string,
): string {
  return taxonomyFirst(field, scope)
    ? `coalesce(${taxonomy}, ${source})`
    : `coalesce(${source}, ${taxonomy})`;
}

/**
 * A batch's conditions as a store's query reads them: each a named column (`two` makes the test
 * two-valued in the dialect), and the test that some rule matched. `matched` reads a row back.
 */
export function ruleColumns(conditions: readonly string[], two: (condition: string) => string) {
  return {
    tests: conditions.map((c, i) => `${two(c)} AS lotl_rule_${i}`).join(', '),
    any: conditions.map((_, i) => `lotl_rule_${i}`).join(' OR '),
    matched: (row: Record<string, unknown>) =>
      conditions.flatMap((_, i) =>
        row[`lotl_rule_${i}`] === true || Number(row[`lotl_rule_${i}`]) === 1 ? [i] : [],
      ),
  };
}

/** Where the events are, as a rule's query needs them. */
export interface RuleStore {
  readonly dialect: Dialect;
  /** Whether fields' folded texts are stored (FOLDED_PREFIX names; from-predicate.ts). */
  readonly foldedFields: boolean;
  /** Whether fields' address keys are answered (ADDRESS_KEY_PREFIX names; from-predicate.ts). */
  readonly addressKeys?: boolean;
  /**
   * A field as a rule of this logsource scope reads it (`category`: the taxonomy first; `service`:
   * the source's own field first), and the LIST_PREFIX / HAS_LIST_PREFIX names (from-predicate.ts).
   */
  fieldSql(field: string, scope: 'category' | 'service'): string;
  /** The fields (lower case) some stored event holds a list of values in. */
  listFields(): Promise<Set<string>>;
  /** How many rules, and characters of SQL, one query may hold (see huntTable). */
  readonly batch: { rules: number; chars: number };
  /**
   * The events serving the logsource key that some of the conditions accept, each with the
   * indexes of those that do: one scan for a batch of rules. `params` are the conditions', in order.
   */
  selectMatching(
    key: string,
    conditions: readonly string[],
    params: readonly SqlValue[],
  ): Promise<{ event: RawEvent; matched: number[] }[]>;
}

export interface TableHuntResult {
  alerts: Alert[];
  /** Rules that ran as SQL. */
  ran: number;
  /** Rules that did not, with the reason. */
  skipped: { title: string; id: string | null; reason: string }[];
  /** Queries run (a batch of rules of one logsource a query). */
  queries: number;
}

/** A rule ready for a batch: its condition, how it reads fields, and its SQL's length alone. */
interface BatchItem {
  rule: SigmaRule;
  expr: SqlExpr;
  column: (field: string) => string;
  chars: number;
}

/**
 * Rules run in batches: a batch reads the logsource's events once for all its rules (one query a
 * rule made all of SigmaHQ on ClickHouse 3,623 scans). Each store says how big a batch may be:
 * DuckDB's cost is the scan (big batches), ClickHouse 18.16's analysis grows faster than the query
 * (small ones).
 */
export async function huntTable(
  store: RuleStore,
  rules: SigmaRule[],
  predicates: Map<string, { node?: Node; unsupported?: string }>,
  on: {
    batch?(done: number, total: number): void;
    /**
     * Each alert as its batch is read, instead of in the result (a spool keeps memory bounded: a
     * hunt of 10M events raised 482,320). Correlation rules still need the matches to the end.
     */
    alert?(alert: Alert, view: EventView | null): void;
  } = {},
  /** Correlation rules over the rules' matches (their referenced rules must be among `rules`). */
  correlations: CorrelationRule[] = [],
): Promise<TableHuntResult> {
  const alerts: Alert[] = [];
  const skipped: TableHuntResult['skipped'] = [];
  const order = new Map(rules.map((r, i) => [r, i]));
  const matches = new Map<string, { view: EventView; rules: number[] }>();
  // Only fields some event holds a list in are searched element by element (a test of a list is
  // a lambda; on every field it made ClickHouse's expressions too big).
  const lists = await store.listFields();
  const byKey = new Map<string, BatchItem[]>();
  for (const rule of rules) {
    const p = predicates.get(`${rule.file}\n${rule.id}`);
    if (!p?.node) {
      skipped.push({ title: rule.title, id: rule.id, reason: p?.unsupported ?? 'no detection found for it' });
      continue;
    }
    const scope = rule.logsource.category ? 'category' : 'service';
    const column = (f: string) => store.fieldSql(f, scope);
    const expr = predicateToSql(p.node, {
      lists: (f) => f === EVERY_VALUE || lists.has(f.toLowerCase()),
      foldedFields: store.foldedFields,
      addressKeys: store.addressKeys,
    });
    let chars: number;
    try {
      // Written alone first: what the dialect cannot express is found per rule, and its size.
      chars = renderMany([{ expr, column }], store.dialect).sqls[0].length;
    } catch (err) {
      if (!(err instanceof SqlUnsupportedError)) throw err;
      skipped.push({ title: rule.title, id: rule.id, reason: err.message });
      continue;
    }
    const key = keyOf(rule.logsource);
    const list = byKey.get(key) ?? [];
    list.push({ rule, expr, column, chars });
    byKey.set(key, list);
  }
  const batches: { key: string; items: BatchItem[] }[] = [];
  for (const [key, items] of byKey) {
    let batch: BatchItem[] = [];
    let chars = 0;
    for (const item of items) {
      if (batch.length > 0 && (batch.length >= store.batch.rules || chars + item.chars > store.batch.chars)) {
        batches.push({ key, items: batch });
        batch = [];
        chars = 0;
      }
      batch.push(item);
      chars += item.chars;
    }
    if (batch.length > 0) batches.push({ key, items: batch });
  }
  let ran = 0;
  for (const [i, batch] of batches.entries()) {
    const { key } = batch;
    let { items } = batch;
    const { sqls, params } = renderMany(items, store.dialect);
    let rows: Awaited<ReturnType<RuleStore['selectMatching']>>;
    try {
      rows = await store.selectMatching(key, sqls, params);
    } catch (err) {
      // One rule the engine refuses must not cost the others: each alone, the refused listed.
      // If the first few fail alone too, the store itself is failing: said as it is.
      rows = [];
      const kept: typeof items = [];
      let failedInARow = 0;
      for (const item of items) {
        const one = renderMany([item], store.dialect);
        try {
          const got = await store.selectMatching(key, one.sqls, one.params);
          for (const r of got) rows.push({ event: r.event, matched: [kept.length] });
          kept.push(item);
          failedInARow = 0;
        } catch (alone) {
          if (++failedInARow >= 3 && kept.length === 0)
            throw new Error(`rules of ${key}: ${(err as Error).message}`);
          const { rule } = item;
          skipped.push({
            title: rule.title,
            id: rule.id,
            reason: `the store refused its query: ${(alone as Error).message.split('\n')[0].slice(0, 300)}`,
          });
        }
      }
      items = kept;
    }
    ran += items.length;
    const metas = items.map(({ rule }) => ruleMeta(rule));
    for (const { event, matched } of rows) {
      const view = normalize(event);
      if (correlations.length > 0) {
        // Kept per event until every batch has run: correlations see events in order.
        const o = view.raw.origin;
        const ref = `${o.file}\u0000${o.offset ?? ''}\u0000${o.line ?? ''}\u0000${o.record ?? ''}`;
        const seen = matches.get(ref) ?? { view, rules: [] };
        for (const m of matched) seen.rules.push(order.get(items[m].rule)!);
        matches.set(ref, seen);
        continue;
      }
      for (const m of matched) {
        const alert = alertFor(view, metas[m]);
        if (on.alert) on.alert(alert, view);
        else alerts.push(alert);
      }
    }
    on.batch?.(i + 1, batches.length);
  }
  if (correlations.length > 0) {
    // A correlation over a rule that did not run cannot be judged: said, not guessed.
    const missing = new Set(skipped.map((s) => s.id));
    for (const r of rules) if (r.name !== undefined && missing.has(r.id)) missing.add(r.name);
    const usable = correlations.filter((c) => {
      const gone = c.rules.find((ref) => missing.has(ref));
      if (gone)
        skipped.push({
          title: c.title,
          id: c.id,
          reason: `a correlation of a rule that did not run as SQL (${gone})`,
        });
      return !gone;
    });
    for (const { alert, view } of correlate(rules, usable, matches))
      if (on.alert) on.alert(alert, view);
      else alerts.push(alert);
  }
  return { alerts, ran, skipped, queries: batches.length };
}

/**
 * The matches fed to the streaming correlation engine as a stream would feed them: events by file
 * and position in it (record or line), each event's rules in their load order. The windows are
 * judged by the same code, so a store's correlation alerts are the streamed hunt's.
 */
function correlate(
  rules: SigmaRule[],
  correlations: CorrelationRule[],
  matches: Map<string, { view: EventView; rules: number[] }>,
): { alert: Alert; view: EventView | null }[] {
  const engine = new CorrelationEngine(correlations);
  const metas = rules.map(ruleMeta);
  // Read order: a record's byte offset (EVTX) or an event's line (text formats).
  const position = (v: EventView) => v.raw.origin.offset ?? v.raw.origin.line ?? v.raw.origin.record ?? 0;
  const events = [...matches.values()].sort((a, b) => {
    const fa = a.view.raw.origin.file;
    const fb = b.view.raw.origin.file;
    return fa < fb ? -1 : fa > fb ? 1 : position(a.view) - position(b.view);
  });
  const out: { alert: Alert; view: EventView | null }[] = [];
  // A correlation's alert goes with the event that completed it, as a stream gives it.
  const completed = (alerts: Alert[], view: EventView | null) => {
    for (const alert of alerts) out.push({ alert, view });
  };
  for (const { view, rules: matched } of events) {
    for (const i of [...new Set(matched)].sort((a, b) => a - b)) {
      const rule = rules[i];
      const alert = alertFor(view, metas[i]);
      if (engine.feeds(rule.id, rule.name)) {
        completed(engine.signal(rule.id, rule.name, view, alert), view);
        if (engine.silenced.has(rule.id) || (rule.name !== undefined && engine.silenced.has(rule.name)))
          continue;
      }
      out.push({ alert, view });
    }
  }
  completed(engine.flush(), null);
  return out;
}
