/**
 * A small SQL expression tree: what detections compile to before a dialect writes it out. The
 * functions are named for what they do (`contains`, `lower`, `ip_in_range`), and each dialect
 * (dialects.ts) says how its engine spells them, so one tree is DuckDB SQL or ClickHouse SQL.
 */
export type SqlValue = string | number | boolean | null;

/** Functions every dialect provides, by meaning. */
export type SqlFunction =
  /** Unicode lower case of text. */
  | 'lower'
  /** Whether the first text holds the second. */
  | 'contains'
  | 'starts_with'
  | 'ends_with'
  /** Whether a regular expression (RE2 syntax) matches anywhere in the text. */
  | 'regex_search'
  /** The same, ignoring case. */
  | 'regex_search_ci'
  /** The decimal number the text reads as (sign, digits, fraction, spaces around), else null. */
  | 'decimal'
  /** Whether the text, an IP address, is in the range (CIDR text). */
  | 'ip_in_range'
  /** The first argument that is not null. */
  | 'coalesce';

export type SqlExpr =
  | { readonly kind: 'column'; readonly name: string }
  | { readonly kind: 'value'; readonly value: SqlValue }
  | { readonly kind: 'call'; readonly fn: SqlFunction; readonly args: readonly SqlExpr[] }
  | {
      readonly kind: 'binary';
      readonly op: '=' | '<>' | '<' | '<=' | '>' | '>=' | 'AND' | 'OR';
      readonly left: SqlExpr;
      readonly right: SqlExpr;
    }
  | { readonly kind: 'not'; readonly of: SqlExpr }
  | { readonly kind: 'in'; readonly of: SqlExpr; readonly list: readonly SqlExpr[] }
  | { readonly kind: 'is_not_null'; readonly of: SqlExpr };

export const column = (name: string): SqlExpr => ({ kind: 'column', name });
export const value = (v: SqlValue): SqlExpr => ({ kind: 'value', value: v });
export const call = (fn: SqlFunction, ...args: SqlExpr[]): SqlExpr => ({ kind: 'call', fn, args });
export const binary = (
  op: Extract<SqlExpr, { kind: 'binary' }>['op'],
  left: SqlExpr,
  right: SqlExpr,
): SqlExpr => ({ kind: 'binary', op, left, right });
