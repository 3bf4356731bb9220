/**
 * `lotl rules convert`: Sigma rules as queries for another engine — DuckDB or ClickHouse SQL, or
 * KQL — through the predicate IR (to-predicate.ts, src/sql/, ir/to-kql.ts). The query reads one
 * table (`--table`, default `events`) with a row per event and a text column per Sigma field name,
 * the layout lotl's stores will have; the rule's logsource is given as a comment. A rule the IR or
 * the engine cannot express is listed with the reason, never approximated.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { CLICKHOUSE, type Dialect, DUCKDB, SqlUnsupportedError } from '../../sql/dialects.js';
import { predicateSql } from '../../sql/from-predicate.js';
import { EVERY_VALUE, fieldsOf, type Node, PredicateError, unportable } from '../ir/predicate.js';
import { predicateToKql } from '../ir/to-kql.js';
import { CompileError } from './compile.js';
import { ConditionError } from './condition.js';
import { ruleFiles } from './load.js';
import { sigmaToPredicate } from './to-predicate.js';

export type Target = 'duckdb' | 'clickhouse' | 'kql';
export const TARGETS: Target[] = ['duckdb', 'clickhouse', 'kql'];

export interface Converted {
  file: string;
  id: string | null;
  title: string;
  logsource: string;
  /** The fields the query reads (the table's columns it needs). */
  fields: string[];
  query?: string;
  /** Why the rule has no query. */
  unsupported?: string;
}

/** DuckDB with its values written as literals: a query to print and run as it is. */
const DUCKDB_INLINE: Dialect = { ...DUCKDB, parameters: false };

export function queryFor(node: Node, target: Target, table: string): string {
  if (fieldsOf(node).has(EVERY_VALUE))
    throw new SqlUnsupportedError(
      "a keyword search over every value: it runs over lotl's own stores (lotl hunt --db | --clickhouse), not over a table of the rule's fields",
    );
  if (target === 'kql')
    return `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(table) ? table : `['${table}']`}\n| where ${predicateToKql(node)}`;
  const dialect = target === 'duckdb' ? DUCKDB_INLINE : CLICKHOUSE;
  return `SELECT * FROM ${dialect.identifier(table)} WHERE ${predicateSql(node, dialect).sql}`;
}

/** Each rule document of the files: its facts and predicate, or why it has none. */
export function* rulePredicates(
  paths: string[],
  placeholders?: Record<string, string[]>,
  unreadable: { file: string; message: string }[] = [],
): Generator<Omit<Converted, 'query' | 'fields'> & { node?: Node }> {
  const { files, problems } = ruleFiles(paths);
  for (const p of problems) unreadable.push({ file: p.file, message: p.message });
  for (const file of files) {
    let docs: unknown[];
    try {
      docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJSON());
    } catch (err) {
      unreadable.push({ file, message: (err as Error).message });
      continue;
    }
    for (const doc of docs) {
      if (!doc || typeof doc !== 'object') continue;
      const d = doc as Record<string, unknown>;
      const ls = (d.logsource ?? {}) as Record<string, unknown>;
      const entry = {
        file,
        id: typeof d.id === 'string' ? d.id : null,
        title: typeof d.title === 'string' ? d.title : '(untitled)',
        logsource: ['product', 'category', 'service'].map((k) => String(ls[k] ?? '*')).join('/'),
      };
      if (d.correlation) {
        yield {
          ...entry,
          unsupported:
            'a correlation rule is no one query: lotl hunt --db | --clickhouse judges it over the matches of its rules',
        };
        continue;
      }
      if (!d.detection || typeof d.detection !== 'object') continue;
      let node: Node;
      try {
        node = sigmaToPredicate(d.detection as Record<string, unknown>, placeholders);
      } catch (err) {
        // Not valid Sigma (loading the rule says where): no query either.
        if (err instanceof CompileError || err instanceof ConditionError || err instanceof PredicateError) {
          yield { ...entry, unsupported: `not a valid rule: ${err.message}` };
          continue;
        }
        throw err;
      }
      // What only the streaming engine runs (a JavaScript-only regex, a time part) is said as such.
      const why = unportable(node);
      yield why ? { ...entry, unsupported: why } : { ...entry, node };
    }
  }
}

export function convertRules(
  paths: string[],
  target: Target,
  options: { table?: string; placeholders?: Record<string, string[]> } = {},
): { converted: Converted[]; unreadable: { file: string; message: string }[] } {
  const table = options.table ?? 'events';
  const converted: Converted[] = [];
  const unreadable: { file: string; message: string }[] = [];
  for (const r of rulePredicates(paths, options.placeholders, unreadable)) {
    const { node, ...entry } = r;
    if (!node) {
      converted.push({ ...entry, fields: [] });
      continue;
    }
    try {
      converted.push({ ...entry, fields: [...fieldsOf(node)], query: queryFor(node, target, table) });
    } catch (err) {
      if (err instanceof SqlUnsupportedError)
        converted.push({ ...entry, fields: [], unsupported: err.message });
      else throw err;
    }
  }
  return { converted, unreadable };
}
