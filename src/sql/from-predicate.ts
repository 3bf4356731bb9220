/**
 * The predicate IR (detect/ir/predicate.ts) as a SQL condition over a table whose columns are the
 * fields (text; NULL when absent). Every test is made two-valued — `coalesce(test, FALSE)` — so
 * that NOT of a test on an absent field is TRUE, as the IR (and Sigma) mean it; SQL's three-valued
 * NOT would make it NULL and drop the row.
 *
 * With `lists`, a field may also hold a list of texts (a log's unnamed Data values): a test then
 * holds when it holds for the text or for any element of the list, as Sigma matches lists. The
 * list of field F is the column named LIST_PREFIX + F, and whether F holds one HAS_LIST_PREFIX + F
 * (the caller's `column` hook writes both).
 */
import { foldCase, foldPattern, globPattern, type Node, unportable, visit } from '../detect/ir/predicate.js';
import { type Dialect, render, SqlUnsupportedError } from './dialects.js';
import { binary, call, column, type SqlExpr, type SqlValue, value } from './tree.js';

/** The name under which a field's list of values is asked of the `column` hook. */
export const LIST_PREFIX = '\u0000list:';
/** The name under which whether a field holds a list is asked of the `column` hook (a boolean). */
export const HAS_LIST_PREFIX = '\u0000has-list:';

const TRUE = value(true);
const FALSE = value(false);
const known = (e: SqlExpr): SqlExpr => call('coalesce', e, FALSE);
const ELEMENT: SqlExpr = { kind: 'variable', name: 'x' };
/** An element of a list the store keeps folded (the same variable, already in lower case). */
const FOLDED_ELEMENT: SqlExpr = { kind: 'variable', name: 'x' };

/** The name under which a field's folded text (foldCase, made where it was stored) is asked. */
export const FOLDED_PREFIX = '\u0000folded:';

/**
 * The name under which a field's address key is asked (ir/ip.ts addressKey, or null when the text
 * is no address): a store that parses each address once a row (`addressKeys`) answers it.
 */
export const ADDRESS_KEY_PREFIX = '\u0000address-key:';

/** Alternatives of one field and test from which they are written as one regular expression. */
export const ALTERNATION_FROM = 8;

/** A text as an RE2 pattern matching it literally (control characters as \x{…}). */
export function literalPattern(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}]|[\u0000-\u001f\u007f]/g, (c) =>
    c.charCodeAt(0) < 32 || c === '\u007f' ? `\\x{${c.charCodeAt(0).toString(16)}}` : `\\${c}`,
  );
}

export interface PredicateSqlOptions {
  /** Field name → column name (default: the same). */
  columnOf?: (field: string) => string;
  /** Whether fields may hold lists (see the header). */
  lists?: boolean | ((field: string) => boolean);
  /**
   * Whether the store keeps each field's text folded too (FOLDED_PREFIX + field): folding in the
   * query is then not needed (on ClickHouse 18.16, its 58 replacements a field made analysing a
   * batch of rules take seconds).
   */
  foldedFields?: boolean;
  /**
   * Whether the store answers ADDRESS_KEY_PREFIX + field: a range test is then a comparison of
   * texts instead of parsing the address for every range (DuckDB: a call into JavaScript each).
   */
  addressKeys?: boolean;
}

export function predicateToSql(node: Node, options: PredicateSqlOptions = {}): SqlExpr {
  const col = options.columnOf ?? ((f: string) => f);
  /** A text in lower case: a stored field's folded copy where the store keeps one. */
  const folded = (v: SqlExpr, cased: boolean): SqlExpr =>
    cased || v === FOLDED_ELEMENT
      ? v
      : options.foldedFields && v.kind === 'column'
        ? column(FOLDED_PREFIX + v.name)
        : call('lower', v);
  /** Whether a field may hold a list (all may, with `lists: true`; those named, with a test). */
  const listy = (field: string) =>
    typeof options.lists === 'function' ? options.lists(field) : options.lists === true;
  /**
   * A test of one field's value: on its text, and with `lists` on any element of its list. A test
   * ignoring case (`cased` false: it folds what it is given) reads the store's folded list where
   * there is one, its elements not folded again.
   */
  const onField = (field: string, test: (v: SqlExpr) => SqlExpr, cased = true): SqlExpr => {
    const scalar = known(test(column(col(field))));
    if (!listy(field)) return scalar;
    const pre = !cased && options.foldedFields === true;
    const list = column(LIST_PREFIX + (pre ? FOLDED_PREFIX : '') + col(field));
    return binary(
      'OR',
      scalar,
      known({ kind: 'any_element', list, test: test(pre ? FOLDED_ELEMENT : ELEMENT) }),
    );
  };
  // Balanced, not a chain: a rule's hundred alternatives make a tree log2(100) deep (ClickHouse
  // refuses expressions over 1,000 deep).
  const balanced = (op: 'AND' | 'OR', xs: SqlExpr[]): SqlExpr =>
    xs.length === 1
      ? xs[0]
      : binary(op, balanced(op, xs.slice(0, xs.length >> 1)), balanced(op, xs.slice(xs.length >> 1)));
  const join = (op: 'AND' | 'OR', parts: readonly Node[], empty: SqlExpr): SqlExpr => {
    if (parts.length === 0) return empty;
    const written = op === 'OR' ? alternations(parts) : { rest: parts, regexes: [] };
    return balanced(op, [...written.regexes, ...written.rest.map((p) => predicateToSql(p, options))]);
  };
  /**
   * Many alternatives testing one field the same way (a rule's list of `contains` values: hash
   * lists run to thousands) as one regular expression of the escaped texts: one call instead of
   * thousands, which ClickHouse analyses in milliseconds instead of seconds.
   */
  const alternations = (parts: readonly Node[]) => {
    const groups = new Map<string, Extract<Node, { kind: 'string' }>[]>();
    for (const p of parts)
      if (p.kind === 'string' && p.op !== 'equals') {
        const k = `${p.field}\u0000${p.op}\u0000${p.cased}`;
        groups.set(k, [...(groups.get(k) ?? []), p]);
      }
    const merged = new Set<Node>();
    const regexes: SqlExpr[] = [];
    for (const nodes of groups.values()) {
      if (nodes.length < ALTERNATION_FROM) continue;
      const { field, op, cased } = nodes[0];
      const body = `(?:${nodes.map((n) => literalPattern(cased ? n.value : foldCase(n.value))).join('|')})`;
      const pattern = op === 'startswith' ? `^${body}` : op === 'endswith' ? `${body}$` : body;
      regexes.push(
        onField(field, (v) => ({ kind: 'regex', of: folded(v, cased), pattern, ignoreCase: false }), cased),
      );
      for (const n of nodes) merged.add(n);
    }
    return { regexes, rest: parts.filter((p) => !merged.has(p)) };
  };
  return visit<SqlExpr>(node, {
    and: (n) => join('AND', n.of, TRUE),
    or: (n) => join('OR', n.of, FALSE),
    not: (n) => ({ kind: 'not', of: predicateToSql(n.of, options) }),
    const: (n) => value(n.value),
    exists: (n) => {
      const scalar: SqlExpr = { kind: 'is_not_null', of: column(col(n.field)) };
      return listy(n.field) ? binary('OR', scalar, known(column(HAS_LIST_PREFIX + col(n.field)))) : scalar;
    },
    string: (n) => {
      const right = value(n.cased ? n.value : foldCase(n.value));
      return onField(
        n.field,
        (v) => {
          const left = folded(v, n.cased);
          switch (n.op) {
            case 'equals':
              return binary('=', left, right);
            case 'contains':
              return call('contains', left, right);
            case 'startswith':
              return call('starts_with', left, right);
            case 'endswith':
              return call('ends_with', left, right);
          }
        },
        n.cased,
      );
    },
    in: (n) =>
      n.values.length === 0
        ? FALSE
        : onField(
            n.field,
            (v) => ({
              kind: 'in',
              of: folded(v, n.cased),
              list: n.values.map((x) => value(n.cased ? x : foldCase(x))),
            }),
            n.cased,
          ),
    glob: (n) =>
      onField(
        n.field,
        (v) => ({
          kind: 'regex',
          of: folded(v, n.cased),
          pattern: globPattern(n.parts, n.cased),
          ignoreCase: false,
        }),
        n.cased,
      ),
    // Two fields' texts (lists are not compared element by element).
    fieldref: (n) => {
      const a = folded(column(col(n.field)), n.cased);
      const b = folded(column(col(n.other)), n.cased);
      switch (n.op) {
        case 'equals':
          return known(binary('=', a, b));
        case 'contains':
          return known(call('contains', a, b));
        case 'startswith':
          return known(call('starts_with', a, b));
        case 'endswith':
          return known(call('ends_with', a, b));
      }
    },
    // Ignoring case: the folded text against the folded pattern (foldPattern), in every engine.
    regex: (n) =>
      onField(
        n.field,
        (v) =>
          n.ignoreCase
            ? { kind: 'regex', of: folded(v, false), pattern: foldPattern(n.pattern), ignoreCase: false }
            : { kind: 'regex', of: v, pattern: n.pattern, ignoreCase: false },
        !n.ignoreCase,
      ),
    jsregex: (n) => {
      throw new SqlUnsupportedError(unportable(n)!);
    },
    timepart: (n) => {
      throw new SqlUnsupportedError(unportable(n)!);
    },
    cidr: (n) =>
      onField(n.field, (v) =>
        options.addressKeys && v.kind === 'column'
          ? { kind: 'address_key_in_range', of: column(ADDRESS_KEY_PREFIX + v.name), range: n.range }
          : { kind: 'ip_in_range', of: v, range: n.range },
      ),
    compare: (n) => {
      const op = ({ lt: '<', lte: '<=', gt: '>', gte: '>=', eq: '=' } as const)[n.op];
      return onField(n.field, (v) => binary(op, call('decimal', v), value(n.value)));
    },
  });
}

/**
 * The predicate as a WHERE condition in a dialect. `fieldSql` writes a field (or, with `lists`, a
 * field's list) as an SQL expression of lotl's own — a map lookup — with no parameters in it.
 */
export function predicateSql(
  node: Node,
  dialect: Dialect,
  options: PredicateSqlOptions & { fieldSql?: (name: string) => string } = {},
): { sql: string; params: SqlValue[] } {
  return render(predicateToSql(node, options), dialect, options.fieldSql);
}
