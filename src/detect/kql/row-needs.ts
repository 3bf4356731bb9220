/**
 * Which rows of a table a query could ever read: the filters (`where`) that come straight after a
 * table, before anything renames or adds a column, reduced to what a row must hold — a column
 * containing a term, a column equal to one of some values. A hunt's store stages only rows that
 * meet some query's needs: the advisory's hunts read a few 4688 command lines out of millions of
 * Security events, and staging every one cost most of a big hunt's memory.
 *
 * The reduction is conservative: anything it does not understand (a computed value, `not`, a
 * table behind a `let`, a join's other side, a non-ASCII value) needs nothing, so the row is kept.
 * A kept row that fails the real filter costs only space; a dropped row that passes it would be a
 * missed result, so every test here is implied by the filter it comes from.
 */
import type { SyntaxNode } from './frontend.js';
import { listValues, nameOf } from './sql-scalar.js';

export type RowNeed =
  | { kind: 'all'; of: RowNeed[] }
  | { kind: 'any'; of: RowNeed[] }
  /** The column's text holds `term` (lower case, ASCII), ignoring case. */
  | { kind: 'contains'; column: string; term: string }
  /** The column's text is one of `values` (lower case, ASCII), ignoring case. */
  | { kind: 'text-in'; column: string; values: string[] }
  /** The column's number is one of `values`. */
  | { kind: 'number-in'; column: string; values: number[] };

/** Per table, what a row must meet for some query to read it; null: every row may be read. */
export type TableNeeds = Map<string, RowNeed | null>;

/** Every table: a `table(name)` call with a computed name may read any of them. */
const ANY_TABLE = '*';

const ASCII = /^[\x20-\x7e]*$/;
const TEXT_OPERATORS = new Set([
  'has',
  'has_cs',
  'hasprefix',
  'hasprefix_cs',
  'hassuffix',
  'hassuffix_cs',
  'contains',
  'contains_cs',
  'startswith',
  'startswith_cs',
  'endswith',
  'endswith_cs',
]);
const NUMBER_TYPES = new Set(['long', 'int', 'real']);

/** The needs of every table a bound query reads. */
export function rowNeeds(root: SyntaxNode): TableNeeds {
  const out: TableNeeds = new Map();
  walk(root, out);
  return out;
}

/** Several queries over one store: a row is worth staging when any of them may read it. */
export function mergeRowNeeds(all: TableNeeds[]): TableNeeds {
  const out: TableNeeds = new Map();
  for (const needs of all) for (const [table, need] of needs) record(out, table, need);
  return out;
}

/**
 * The test for one table's rows, given a reader of the row's values (as the store holds them:
 * strings, numbers, or null); undefined when every row is worth staging.
 */
export function rowTest(
  needs: TableNeeds,
  table: string,
): ((get: (column: string) => unknown) => boolean) | undefined {
  if (needs.has(ANY_TABLE)) return undefined;
  const need = needs.get(table);
  // A table no query names is not staged at all (the store's `only`); keep its rows here.
  if (!need) return undefined;
  return (get) => meets(need, get);
}

function meets(need: RowNeed, get: (column: string) => unknown): boolean {
  switch (need.kind) {
    case 'all':
      return need.of.every((n) => meets(n, get));
    case 'any':
      return need.of.some((n) => meets(n, get));
    case 'contains': {
      const v = text(get(need.column));
      return v === null || v.toLowerCase().includes(need.term);
    }
    case 'text-in': {
      const v = text(get(need.column));
      return v === null || need.values.includes(v.toLowerCase());
    }
    case 'number-in': {
      const v = get(need.column);
      return typeof v === 'number' && need.values.includes(v);
    }
  }
}

/**
 * A value's text for a case-insensitive test, or null when the test cannot be trusted to agree
 * with DuckDB's: non-ASCII text (its case folding and JavaScript's differ) is always kept.
 */
function text(v: unknown): string | null {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : String(v);
  return ASCII.test(s) ? s : null;
}

function record(out: TableNeeds, table: string, need: RowNeed | null): void {
  if (!out.has(table)) {
    out.set(table, need);
    return;
  }
  const before = out.get(table) ?? null;
  out.set(table, before === null || need === null ? null : { kind: 'any', of: [before, need] });
}

const isTable = (n: SyntaxNode) => n.kindName === 'NameReference' && n.referencedKind === 'Table';

function walk(n: SyntaxNode, out: TableNeeds): void {
  if (n.isToken) return;
  if (n.kindName === 'PipeExpression') {
    // T | op1 | op2 …: the base and its operators, in order.
    const ops: SyntaxNode[] = [];
    let base = n;
    while (base.kindName === 'PipeExpression') {
      ops.unshift(base.child(2));
      base = base.child(0);
    }
    if (isTable(base)) {
      const parts: RowNeed[] = [];
      for (const op of ops) {
        if (op.kindName !== 'FilterOperator') break;
        const need = predicateNeed(op.last());
        if (need) parts.push(need);
      }
      record(out, nameOf(base), all(parts));
    } else walk(base, out);
    // Tables inside the operators (a join's right side, `x in (T | project c)`) are read whole.
    for (const op of ops) walk(op, out);
    return;
  }
  if (isTable(n)) {
    record(out, nameOf(n), null);
    return;
  }
  if (n.kindName === 'FunctionCallExpression' && /^table$/i.test(n.child(0).text.trim())) {
    const name = listValues(n.child(1))[0]?.literalValue();
    record(out, typeof name === 'string' ? name : ANY_TABLE, null);
  }
  for (const c of n.children()) walk(c, out);
}

function all(parts: RowNeed[]): RowNeed | null {
  return parts.length === 0 ? null : parts.length === 1 ? parts[0] : { kind: 'all', of: parts };
}

/** A column of the table itself (the filters read before any operator renames or adds one). */
function columnOf(n: SyntaxNode): { name: string; type: string } | null {
  while (n.kindName === 'ParenthesizedExpression') n = n.child(1);
  if (n.kindName !== 'NameReference' || n.referencedKind !== 'Column') return null;
  return { name: nameOf(n), type: n.typeName ?? '' };
}

function stringLiteralOf(n: SyntaxNode): string | null {
  while (n.kindName === 'ParenthesizedExpression') n = n.child(1);
  if (n.kindName !== 'LiteralExpression' && n.kindName !== 'CompoundStringLiteralExpression') return null;
  const v = n.literalValue();
  return typeof v === 'string' && ASCII.test(v) ? v : null;
}

function numberLiteralOf(n: SyntaxNode): number | null {
  while (n.kindName === 'ParenthesizedExpression') n = n.child(1);
  if (n.kindName !== 'LiteralExpression') return null;
  const v = n.literalValue();
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** What a filter's predicate needs of a row; null: nothing known. */
function predicateNeed(n: SyntaxNode): RowNeed | null {
  switch (n.kindName) {
    case 'ParenthesizedExpression':
      return predicateNeed(n.child(1));
    case 'BinaryExpression':
      return binaryNeed(n);
    case 'HasAllExpression':
    case 'HasAnyExpression': {
      const column = columnOf(n.child(0));
      if (column?.type !== 'string') return null;
      const terms = listValues(n.child(2)).map(stringLiteralOf);
      if (terms.length === 0 || terms.some((t) => t === null || t === '')) return null;
      const parts: RowNeed[] = terms.map((t) => ({
        kind: 'contains',
        column: column.name,
        term: (t as string).toLowerCase(),
      }));
      return n.kindName === 'HasAllExpression' ? all(parts) : { kind: 'any', of: parts };
    }
    case 'InExpression': {
      const op = n.child(1).text.trim().toLowerCase();
      if (op !== 'in' && op !== 'in~') return null;
      const column = columnOf(n.child(0));
      if (!column) return null;
      const values = listValues(n.child(2));
      if (values.length === 0) return null;
      if (column.type === 'string') {
        const texts = values.map(stringLiteralOf);
        if (texts.some((t) => t === null)) return null;
        return {
          kind: 'text-in',
          column: column.name,
          values: texts.map((t) => (t as string).toLowerCase()),
        };
      }
      if (NUMBER_TYPES.has(column.type) && op === 'in') {
        const numbers = values.map(numberLiteralOf);
        if (numbers.some((v) => v === null)) return null;
        return { kind: 'number-in', column: column.name, values: numbers as number[] };
      }
      return null;
    }
    default:
      return null;
  }
}

function binaryNeed(n: SyntaxNode): RowNeed | null {
  const op = n.child(1).text.trim().toLowerCase();
  if (op === 'and')
    return all([predicateNeed(n.child(0)), predicateNeed(n.child(2))].filter((x) => x !== null));
  if (op === 'or') {
    const l = predicateNeed(n.child(0));
    const r = predicateNeed(n.child(2));
    return l && r ? { kind: 'any', of: [l, r] } : null;
  }
  // Column op literal (or literal == column).
  let column = columnOf(n.child(0));
  let other = n.child(2);
  if (!column && (op === '==' || op === '=~')) {
    column = columnOf(n.child(2));
    other = n.child(0);
  }
  if (!column) return null;
  if (TEXT_OPERATORS.has(op) && column.type === 'string') {
    const term = stringLiteralOf(other);
    return term ? { kind: 'contains', column: column.name, term: term.toLowerCase() } : null;
  }
  if ((op === '==' || op === '=~') && column.type === 'string') {
    const value = stringLiteralOf(other);
    return value === null ? null : { kind: 'text-in', column: column.name, values: [value.toLowerCase()] };
  }
  if (op === '==' && NUMBER_TYPES.has(column.type)) {
    // A string literal compared to a number column is cast by the SQL; its number, when it is one.
    const literal = numberLiteralOf(other) ?? numericText(stringLiteralOf(other));
    return literal === null ? null : { kind: 'number-in', column: column.name, values: [literal] };
  }
  return null;
}

function numericText(s: string | null): number | null {
  if (s === null || !/^\s*-?\d+\s*$/.test(s)) return null;
  const v = Number(s);
  return Number.isSafeInteger(v) ? v : null;
}
