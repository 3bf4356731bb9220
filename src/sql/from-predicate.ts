/**
 * The predicate IR (detect/ir/predicate.ts) as a SQL condition over a table whose columns are the
 * fields (text; NULL when absent). Every test is made two-valued — `coalesce(test, FALSE)` — so
 * that NOT of a test on an absent field is TRUE, as the IR (and Sigma) mean it; SQL's three-valued
 * NOT would make it NULL and drop the row.
 */
import { foldCase, globPattern, type Node, visit } from '../detect/ir/predicate.js';
import { type Dialect, render } from './dialects.js';
import { binary, call, column, type SqlExpr, type SqlValue, value } from './tree.js';

const TRUE = value(true);
const FALSE = value(false);
const known = (e: SqlExpr): SqlExpr => call('coalesce', e, FALSE);

function folded(field: string, cased: boolean): SqlExpr {
  return cased ? column(field) : call('lower', column(field));
}

export function predicateToSql(node: Node, columnOf: (field: string) => string = (f) => f): SqlExpr {
  const col = (field: string) => columnOf(field);
  const join = (op: 'AND' | 'OR', parts: readonly Node[], empty: SqlExpr): SqlExpr =>
    parts.length === 0
      ? empty
      : parts.map((p) => predicateToSql(p, columnOf)).reduce((l, r) => binary(op, l, r));
  return visit<SqlExpr>(node, {
    and: (n) => join('AND', n.of, TRUE),
    or: (n) => join('OR', n.of, FALSE),
    not: (n) => ({ kind: 'not', of: predicateToSql(n.of, columnOf) }),
    const: (n) => value(n.value),
    exists: (n) => ({ kind: 'is_not_null', of: column(col(n.field)) }),
    string: (n) => {
      const left = folded(col(n.field), n.cased);
      const right = value(n.cased ? n.value : foldCase(n.value));
      switch (n.op) {
        case 'equals':
          return known(binary('=', left, right));
        case 'contains':
          return known(call('contains', left, right));
        case 'startswith':
          return known(call('starts_with', left, right));
        case 'endswith':
          return known(call('ends_with', left, right));
      }
    },
    in: (n) =>
      n.values.length === 0
        ? FALSE
        : known({
            kind: 'in',
            of: folded(col(n.field), n.cased),
            list: n.values.map((v) => value(n.cased ? v : foldCase(v))),
          }),
    glob: (n) =>
      known({
        kind: 'regex',
        of: folded(col(n.field), n.cased),
        pattern: globPattern(n.parts, n.cased),
        ignoreCase: false,
      }),
    fieldref: (n) => {
      const a = folded(col(n.field), n.cased);
      const b = folded(col(n.other), n.cased);
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
    regex: (n) =>
      known({ kind: 'regex', of: column(col(n.field)), pattern: n.pattern, ignoreCase: n.ignoreCase }),
    cidr: (n) => known({ kind: 'ip_in_range', of: column(col(n.field)), range: n.range }),
    compare: (n) => {
      const op = ({ lt: '<', lte: '<=', gt: '>', gte: '>=', eq: '=' } as const)[n.op];
      return known(binary(op, call('decimal', column(col(n.field))), value(n.value)));
    },
  });
}

/** The predicate as a WHERE condition in a dialect. */
export function predicateSql(
  node: Node,
  dialect: Dialect,
  columnOf?: (field: string) => string,
): { sql: string; params: SqlValue[] } {
  return render(predicateToSql(node, columnOf), dialect);
}
