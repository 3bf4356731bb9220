/**
 * A small SQL expression tree: what detections compile to before a dialect writes it out. The
 * functions are named for what they do (`contains`, `lower`, `ip_in_range`), and each dialect
 * (dialects.ts) says how its engine spells them, so one tree is DuckDB SQL or ClickHouse SQL.
 */
/** (bigint: integers past 2^53, such as times in 100 ns ticks.) */
export type SqlValue = string | number | bigint | boolean | null;

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
  | 'coalesce'
  | 'upper'
  /** Characters (code points) in a text. */
  | 'length'
  /** The texts one after the other. */
  | 'concat'
  /** (text, start from 1, count): characters of the text. */
  | 'substring'
  /** (text, what, by): every occurrence replaced. */
  | 'replace'
  /** A value as text (numbers in their shortest form; booleans are the caller's to write). */
  | 'to_text'
  /** Text or a number as a double, null when it is not one. */
  | 'to_real'
  /** Text or a number as a 64-bit integer, null when it is not one. */
  | 'to_integer'
  /** Integer division, towards zero. */
  | 'int_div'
  /** A stored time (the engine's timestamp) as 100 ns ticks since 1970 (how queries count time). */
  | 'ticks';

/** Types a value can be cast to (nullable everywhere). */
export type SqlType = 'text' | 'integer' | 'real' | 'boolean' | 'json';

/** Aggregate functions, by meaning. */
export type SqlAggregate =
  | 'count'
  | 'count_if'
  | 'count_distinct'
  | 'min'
  | 'max'
  | 'sum'
  | 'avg'
  /** The distinct values (in no particular order) as a list. */
  | 'set'
  /** Every value as a list. */
  | 'list'
  /** (value, by): the value of a row where `by` is greatest (smallest). */
  | 'arg_max'
  | 'arg_min'
  /** Some value of the group. */
  | 'any';

export type SqlExpr =
  /** `table`: the alias of the subquery the column is read from (unqualified when absent). */
  | { readonly kind: 'column'; readonly name: string; readonly table?: string }
  | { readonly kind: 'value'; readonly value: SqlValue }
  | { readonly kind: 'call'; readonly fn: SqlFunction; readonly args: readonly SqlExpr[] }
  | {
      readonly kind: 'binary';
      readonly op: '=' | '<>' | '<' | '<=' | '>' | '>=' | 'AND' | 'OR' | '+' | '-' | '*' | '/' | '%';
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
  | { readonly kind: 'any_element'; readonly list: SqlExpr; readonly test: SqlExpr }
  | { readonly kind: 'is_null'; readonly of: SqlExpr }
  | { readonly kind: 'cast'; readonly of: SqlExpr; readonly type: SqlType }
  /** The `result` of the first `when` that holds, else `else`. */
  | {
      readonly kind: 'case';
      readonly whens: readonly { readonly when: SqlExpr; readonly result: SqlExpr }[];
      readonly else: SqlExpr;
    }
  /** The text a regular expression (RE2; a constant) matches first: all of it (0) or its first group (1); '' if none. */
  | { readonly kind: 'regex_extract'; readonly of: SqlExpr; readonly pattern: string; readonly group: 0 | 1 }
  | { readonly kind: 'aggregate'; readonly fn: SqlAggregate; readonly args: readonly SqlExpr[] }
  /**
   * Whether an address key (ir/ip.ts addressKey: the store parses each address once) is in the
   * range (CIDR text).
   */
  | { readonly kind: 'address_key_in_range'; readonly of: SqlExpr; readonly range: string }
  /** The text of a member of a JSON object (a string member; null where there is none). */
  | { readonly kind: 'json_member'; readonly of: SqlExpr; readonly key: string }
  /** Part `index` of a text cut at every `separator` (a constant): from 1, or from the end when negative. */
  | { readonly kind: 'split_part'; readonly of: SqlExpr; readonly separator: string; readonly index: number };

/**
 * A query: a SELECT over a table, another query or nothing, or the rows of several queries. Each
 * SELECT's output columns are named; a subquery is read through the name `alias` (columns as
 * `alias.name`, which is how ClickHouse keeps an input column apart from an output of that name).
 */
export type SqlQuery =
  | {
      readonly kind: 'select';
      /** null: every column of the input (`*`). */
      readonly columns: readonly { readonly expr: SqlExpr; readonly as: string }[] | null;
      readonly distinct?: boolean;
      readonly from: SqlSource | null;
      readonly where?: SqlExpr;
      readonly groupBy?: readonly SqlExpr[];
      readonly orderBy?: readonly {
        readonly expr: SqlExpr;
        readonly desc: boolean;
        readonly nullsFirst: boolean;
      }[];
      readonly limit?: number;
    }
  | { readonly kind: 'union_all'; readonly queries: readonly SqlQuery[] };

export type SqlSource =
  /** One of the store's tables, as the store presents it (see render-query.ts). */
  | { readonly kind: 'table'; readonly name: string }
  | { readonly kind: 'query'; readonly query: SqlQuery; readonly alias: string };

export const column = (name: string): SqlExpr => ({ kind: 'column', name });
export const value = (v: SqlValue): SqlExpr => ({ kind: 'value', value: v });
export const call = (fn: SqlFunction, ...args: SqlExpr[]): SqlExpr => ({ kind: 'call', fn, args });
export const binary = (
  op: Extract<SqlExpr, { kind: 'binary' }>['op'],
  left: SqlExpr,
  right: SqlExpr,
): SqlExpr => ({ kind: 'binary', op, left, right });
