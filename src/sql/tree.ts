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
  /** The decimal number the text reads as (sign, digits, fraction, spaces around), else null. */
  | 'decimal'
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
  | { readonly kind: 'is_not_null'; readonly of: SqlExpr }
  /** Whether a regular expression (RE2 syntax; a constant) matches anywhere in the text. */
  | { readonly kind: 'regex'; readonly of: SqlExpr; readonly pattern: string; readonly ignoreCase: boolean }
  /** Whether the text, an IP address with ASCII whitespace around, is in the range (CIDR text). */
  | { readonly kind: 'ip_in_range'; readonly of: SqlExpr; readonly range: string }
  /** A lambda's variable (an element of a list, in any_element). */
  | { readonly kind: 'variable'; readonly name: string }
  /** Whether the test holds for some element of the list (the element is the variable `x`). */
  | { readonly kind: 'any_element'; readonly list: SqlExpr; readonly test: SqlExpr };

export const column = (name: string): SqlExpr => ({ kind: 'column', name });
export const value = (v: SqlValue): SqlExpr => ({ kind: 'value', value: v });
export const call = (fn: SqlFunction, ...args: SqlExpr[]): SqlExpr => ({ kind: 'call', fn, args });
export const binary = (
  op: Extract<SqlExpr, { kind: 'binary' }>['op'],
  left: SqlExpr,
  right: SqlExpr,
): SqlExpr => ({ kind: 'binary', op, left, right });
