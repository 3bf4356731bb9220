/**
 * How each engine writes the tree (tree.ts): identifiers, literals, functions. `render` returns
 * `{ sql, params }`: values travel as parameters where the engine takes them (DuckDB), and are
 * written as escaped literals where it does not (ClickHouse 18.16 has no query parameters).
 */
import { parseCidr, rangeKeys } from '../detect/ir/ip.js';
import { foldCase, foldPattern } from '../detect/ir/predicate.js';
import type { SqlAggregate, SqlExpr, SqlFunction, SqlType, SqlValue } from './tree.js';

/**
 * One statement's memory of expressions a dialect writes once and names (a folded field on
 * ClickHouse): `named` per SELECT (a name is seen only where it is made), `count` across the
 * statement (so names never repeat).
 */
export interface RenderMemo {
  named: Map<string, string>;
  count: { n: number };
}

export interface Dialect {
  readonly name: 'duckdb' | 'clickhouse';
  /** Whether values go as `?` parameters (else as literals). */
  readonly parameters: boolean;
  identifier(name: string): string;
  literal(value: SqlValue): string;
  /** `memo`: one per rendered statement, for expressions the dialect writes once and names. */
  call(fn: SqlFunction, args: string[], memo?: RenderMemo): string;
  cast(text: string, type: SqlType): string;
  aggregate(fn: SqlAggregate, args: string[]): string;
  /** The text a pattern matches first (group 0) or its first group (1); '' where none. */
  regexExtract(text: string, pattern: string, group: 0 | 1): string;
  jsonMember(json: string, key: string): string;
  splitPart(text: string, separator: string, index: number): string;
  regex(text: string, pattern: string, ignoreCase: boolean): string;
  ipInRange(text: string, range: string): string;
  /** Whether `test` (over the variable x) holds for some element of `list`. */
  anyElement(list: string, test: string): string;
}

/** What a dialect cannot express (with the engine and the reason). */
export class SqlUnsupportedError extends Error {}

/** A SQL string literal: quotes doubled, backslashes too where the engine reads escapes. */
function quoted(s: string, backslashes: boolean): string {
  let t = s.replace(/'/g, "''");
  if (backslashes) t = t.replace(/\\/g, '\\\\');
  // NUL and other control characters cut or confuse a SQL text: spelled as escapes or chr().
  return `'${t}'`;
}

export const DUCKDB: Dialect = {
  name: 'duckdb',
  parameters: true,
  identifier: (name) => `"${name.replace(/"/g, '""')}"`,
  literal(v) {
    if (v === null) return 'NULL';
    if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'NULL';
    if (typeof v === 'bigint') return String(v);
    // chr() for control characters: a NUL would end the statement's text.
    return [...v].some((c) => c.charCodeAt(0) < 32)
      ? `(${[...v].map((c) => (c.charCodeAt(0) < 32 ? `chr(${c.charCodeAt(0)})` : quoted(c, false))).join(' || ')})`
      : quoted(v, false);
  },
  call(fn, a) {
    switch (fn) {
      case 'lower':
        return `lower(${a[0]})`;
      case 'contains':
        return `contains(${a[0]}, ${a[1]})`;
      case 'starts_with':
        return `starts_with(${a[0]}, ${a[1]})`;
      case 'ends_with':
        return `ends_with(${a[0]}, ${a[1]})`;
      case 'decimal':
        // (Its argument is written twice: tree.ts gives it a column, never a parameter.)
        return `CASE WHEN regexp_full_match(${a[0]}, ' *-?[0-9]+(\\.[0-9]+)? *') THEN CAST(trim(${a[0]}) AS DOUBLE) END`;
      case 'coalesce':
        return `coalesce(${a.join(', ')})`;
      case 'upper':
        return `upper(${a[0]})`;
      case 'length':
        return `length(${a[0]})`;
      case 'concat':
        return `concat(${a.join(', ')})`;
      case 'substring':
        return `substring(${a[0]}, ${a[1]}, ${a[2]})`;
      case 'replace':
        return `replace(${a[0]}, ${a[1]}, ${a[2]})`;
      case 'to_text':
        return `CAST(${a[0]} AS VARCHAR)`;
      case 'to_real':
        return `TRY_CAST(${a[0]} AS DOUBLE)`;
      case 'to_integer':
        return `TRY_CAST(${a[0]} AS BIGINT)`;
      case 'int_div':
        return `(${a[0]} // ${a[1]})`;
      case 'ticks':
        return `(epoch_ns(${a[0]}) // 100)`;
    }
  },
  cast: (text, type) =>
    `CAST(${text} AS ${{ text: 'VARCHAR', integer: 'BIGINT', real: 'DOUBLE', boolean: 'BOOLEAN', json: 'JSON' }[type]})`,
  aggregate(fn, a) {
    switch (fn) {
      case 'count':
        return a.length === 0 ? 'count(*)' : `count(${a[0]})`;
      case 'count_if':
        return `count_if(${a[0]})`;
      case 'count_distinct':
        return `count(DISTINCT ${a[0]})`;
      case 'min':
      case 'max':
      case 'sum':
      case 'avg':
        return `${fn}(${a[0]})`;
      case 'set':
        return `list(DISTINCT ${a[0]}) FILTER (WHERE ${a[0]} IS NOT NULL)`;
      case 'list':
        return `list(${a[0]}) FILTER (WHERE ${a[0]} IS NOT NULL)`;
      case 'arg_max':
      case 'arg_min':
        return `${fn}(${a[0]}, ${a[1]})`;
      case 'any':
        return `any_value(${a[0]})`;
    }
  },
  regexExtract: (text, pattern, group) => `regexp_extract(${text}, ${DUCKDB.literal(pattern)}, ${group})`,
  jsonMember(json, key) {
    if (/["\\\u0000-\u001f]/.test(key))
      throw new SqlUnsupportedError(`the JSON member name ${JSON.stringify(key)}`);
    return `json_extract_string(${json}, ${DUCKDB.literal(`$."${key}"`)})`;
  },
  splitPart: (text, separator, index) => `string_split(${text}, ${DUCKDB.literal(separator)})[${index}]`,
  regex(text, pattern, ignoreCase) {
    // Ignoring case: the folded text against the folded pattern (see foldPattern).
    if (!ignoreCase) return `regexp_matches(${text}, ${DUCKDB.literal(pattern)})`;
    return `regexp_matches(lower(${text}), ${DUCKDB.literal(foldPattern(pattern))})`;
  },
  // A function of lotl's own, registered with the connection (store/udfs.ts): ir/ip.ts parses.
  // (A store hunt reads each address once as a key instead: from-predicate.ts addressKeys.)
  ipInRange: (text, range) => `lotl_ip_in_range(${text}, ${DUCKDB.literal(range)})`,
  anyElement: (list, test) => `(len(list_filter(${list}, x -> ${test})) > 0)`,
};

/**
 * ClickHouse's lowerUTF8 leaves alone the letters whose lower case has another UTF-8 length (İ,
 * the Kelvin sign, Ω …) and the title-case digraphs (ǅ …): those are replaced first, so that its
 * lower case is the IR's (foldCase). Found by scanning every code point — on first use, not when
 * the module loads (every `lotl hunt` imports it; the scan took ~0.2 s of its start-up).
 */
let clickhouseFold: [string, string][] | null = null;
function clickhouseFoldPairs(): [string, string][] {
  if (clickhouseFold) return clickhouseFold;
  const out: [string, string][] = [];
  for (let cp = 0x80; cp < 0x110000; cp++) {
    if (cp >= 0xd800 && cp < 0xe000) continue;
    const c = String.fromCodePoint(cp);
    const f = foldCase(c);
    if (f !== c && (Buffer.byteLength(f) !== Buffer.byteLength(c) || /\p{Lt}/u.test(c))) out.push([c, f]);
  }
  clickhouseFold = out;
  return out;
}

const IPV4_OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4_TEXT = `${IPV4_OCTET}(\\.${IPV4_OCTET}){3}`;
/**
 * IPv6 text as ir/ip.ts accepts it, as one RE2 pattern: eight groups, or fewer around one `::`
 * standing for at least one; an IPv4 tail counts as two groups.
 */
const IPV6_TEXT = (() => {
  const h = '[0-9a-fA-F]{1,4}';
  const groups = (n: number) => (n === 0 ? '' : `${h}(:${h}){${n - 1}}`);
  const alternatives = [`(${h}:){7}${h}`, `(${h}:){6}${IPV4_TEXT}`];
  for (let a = 0; a <= 7; a++)
    for (let b = 0; a + b <= 7; b++) alternatives.push(`${groups(a)}::${groups(b)}`);
  for (let a = 0; a <= 5; a++)
    for (let b = 0; a + b <= 5; b++)
      alternatives.push(`${groups(a)}::${b > 0 ? `(${h}:){${b}}` : ''}${IPV4_TEXT}`);
  return `^(${alternatives.join('|')})$`;
})();

export const CLICKHOUSE: Dialect = {
  name: 'clickhouse',
  parameters: false,
  identifier: (name) => `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``,
  literal(v) {
    if (v === null) return 'NULL';
    if (typeof v === 'boolean') return v ? '1' : '0';
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'NULL';
    if (typeof v === 'bigint') return `toInt64(${v})`;
    // Backslash escapes are read in ClickHouse literals; control characters as \xHH.
    const body = v
      .replace(/\\/g, '\\\\')
      .replace(/'/g, "\\'")
      .replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    return `'${body}'`;
  },
  call(fn, a, memo) {
    switch (fn) {
      case 'lower': {
        // The same field folded again in one query is the name given to its first folding (an
        // alias: ClickHouse evaluates it once; 58 replacements a use made rules with many items
        // too big a query). A lambda's element (x) is folded where it is.
        const known = memo?.named.get(a[0]);
        if (known) return known;
        let text = a[0];
        for (const [from, to] of clickhouseFoldPairs())
          text = `replaceAll(${text}, ${CLICKHOUSE.literal(from)}, ${CLICKHOUSE.literal(to)})`;
        if (!memo || a[0] === 'x') return `lowerUTF8(${text})`;
        const name = `lotl_folded_${++memo.count.n}`;
        memo.named.set(a[0], name);
        return `(lowerUTF8(${text}) AS ${name})`;
      }
      case 'contains':
        return `(position(${a[0]}, ${a[1]}) > 0)`;
      case 'starts_with':
        return `startsWith(${a[0]}, ${a[1]})`;
      case 'ends_with':
        return `endsWith(${a[0]}, ${a[1]})`;
      case 'decimal':
        // (Its argument is written twice: tree.ts gives it a column, never a parameter.)
        return `if(match(${a[0]}, '^ *-?[0-9]+(\\\\.[0-9]+)? *$'), toFloat64OrZero(replaceAll(${a[0]}, ' ', '')), NULL)`;
      case 'coalesce':
        return `coalesce(${a.join(', ')})`;
      case 'upper':
        return `upperUTF8(${a[0]})`;
      case 'length':
        return `lengthUTF8(${a[0]})`;
      case 'concat':
        return a.length === 1 ? a[0] : `concat(${a.join(', ')})`;
      case 'substring':
        return `substringUTF8(${a[0]}, ${a[1]}, ${a[2]})`;
      case 'replace':
        return `replaceAll(${a[0]}, ${a[1]}, ${a[2]})`;
      case 'to_text':
        return `toString(${a[0]})`;
      case 'to_real':
        return `toFloat64OrNull(toString(${a[0]}))`;
      case 'to_integer':
        return `toInt64OrNull(toString(${a[0]}))`;
      case 'int_div':
        return `intDiv(${a[0]}, ${a[1]})`;
      case 'ticks':
        // lotl keeps times as ticks already (18.16's DateTime counts seconds).
        return a[0];
    }
  },
  cast: (text, type) =>
    `CAST(${text} AS Nullable(${{ text: 'String', integer: 'Int64', real: 'Float64', boolean: 'UInt8', json: 'String' }[type]}))`,
  aggregate(fn, a) {
    switch (fn) {
      case 'count':
        return a.length === 0 ? 'count()' : `count(${a[0]})`;
      case 'count_if':
        return `countIf(ifNull(${a[0]}, 0))`;
      case 'count_distinct':
        return `uniqExact(${a[0]})`;
      case 'min':
      case 'max':
      case 'sum':
      case 'avg':
        return `${fn}(${a[0]})`;
      case 'set':
        return `groupUniqArray(${a[0]})`;
      case 'list':
        return `groupArray(${a[0]})`;
      case 'arg_max':
        return `argMax(${a[0]}, ${a[1]})`;
      case 'arg_min':
        return `argMin(${a[0]}, ${a[1]})`;
      case 'any':
        return `any(${a[0]})`;
    }
  },
  // extract() takes the first group where the pattern has one, all of the match where not.
  regexExtract: (text, pattern, group) =>
    `extract(${text}, ${CLICKHOUSE.literal(group === 0 ? `(${pattern})` : pattern)})`,
  // 18.16 has no JSON functions but these, which read a flat object's members (Windows' EventData).
  jsonMember: (json, key) =>
    `if(visitParamHas(${json}, ${CLICKHOUSE.literal(key)}), visitParamExtractString(${json}, ${CLICKHOUSE.literal(key)}), NULL)`,
  // An index past the parts reads as '' (arrays' default), as Kusto's tostring() of a missing part.
  splitPart: (text, separator, index) => `splitByString(${CLICKHOUSE.literal(separator)}, ${text})[${index}]`,
  regex(text, pattern, ignoreCase) {
    // Ignoring case: the folded text against the folded pattern (see foldPattern).
    if (!ignoreCase) return `match(${text}, ${CLICKHOUSE.literal(pattern)})`;
    return `match(${CLICKHOUSE.call('lower', [text])}, ${CLICKHOUSE.literal(foldPattern(pattern))})`;
  },
  ipInRange(text, range) {
    const cidr = parseCidr(range);
    if (!cidr) throw new SqlUnsupportedError(`'${range}' is not an IPv4 or IPv6 range`);
    // ir/ip.ts's reading, spelt in 18.16's functions: ASCII whitespace trimmed; IPv4 dotted quads
    // without leading zeros; IPv6 (a zone and brackets taken off) checked by a pattern before
    // IPv6StringToNum, which reads a bad address as ::; an IPv4-mapped IPv6 address is IPv4.
    const lit = CLICKHOUSE.literal;
    const trimmed = `replaceRegexpAll(${text}, ${lit('^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$')}, '')`;
    const bare = `replaceRegexpOne(replaceRegexpOne(${trimmed}, ${lit('%[\\s\\S]*$')}, ''), ${lit('^\\[([\\s\\S]*)\\]$')}, '\\\\1')`;
    const v6 = `if(match(${bare}, ${lit(IPV6_TEXT)}), hex(IPv6StringToNum(${bare})), NULL)`;
    const mapped = `startsWith(${v6}, '${'0'.repeat(20)}FFFF')`;
    if (cidr.version === 6) {
      const host = (1n << BigInt(128 - cidr.prefix)) - 1n;
      const hex = (n: bigint) => lit(n.toString(16).toUpperCase().padStart(32, '0'));
      return `(NOT ${mapped} AND ${v6} BETWEEN ${hex(cidr.network)} AND ${hex(cidr.network | host)})`;
    }
    const v4 = `if(match(${trimmed}, ${lit(`^${IPV4_TEXT}$`)}), IPv4StringToNum(${trimmed}), if(${mapped}, reinterpretAsUInt32(reverse(unhex(substring(${v6}, 25, 8)))), NULL))`;
    const mask = cidr.prefix === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - cidr.prefix)) - 1n);
    return `(bitAnd(${v4}, ${mask}) = ${cidr.network & mask})`;
  },
  // 18.16 wants the lambda to return UInt8, not Nullable(UInt8).
  anyElement: (list, test) => `arrayExists(x -> ifNull(${test}, 0), ${list})`,
};

/**
 * Writes an expression; values as parameters or literals, as the dialect takes them. `column`, when
 * given, writes a column reference as an expression instead (a field read from a map).
 */
export function render(
  expr: SqlExpr,
  dialect: Dialect,
  column?: (name: string) => string,
): { sql: string; params: SqlValue[] } {
  const { sqls, params } = renderMany([{ expr, column }], dialect);
  return { sql: sqls[0], params };
}

/**
 * Several expressions for one statement (a batch of rules in one query): one list of parameters,
 * in the order the texts are given, and one memo, so that an expression the dialect names (a
 * folded field on ClickHouse) is written once for all of them. Each may read columns its own way.
 */
export function renderMany(
  exprs: readonly { expr: SqlExpr; column?: (name: string) => string }[],
  dialect: Dialect,
): { sqls: string[]; params: SqlValue[] } {
  const params: SqlValue[] = [];
  const memo: RenderMemo = { named: new Map(), count: { n: 0 } };
  let column: ((name: string) => string) | undefined;
  const write = expressionWriter(dialect, params, memo, (name) =>
    column ? column(name) : dialect.identifier(name),
  );
  const sqls = exprs.map((x) => {
    column = x.column;
    return write(x.expr);
  });
  return { sqls, params };
}

/**
 * The writer of expressions for one statement: string values pushed on `params` where the dialect
 * takes parameters; `column` writes an unqualified column reference.
 */
export function expressionWriter(
  dialect: Dialect,
  params: SqlValue[],
  memo: RenderMemo,
  column: (name: string) => string,
): (e: SqlExpr) => string {
  const write = (e: SqlExpr): string => {
    switch (e.kind) {
      case 'column':
        return e.table !== undefined
          ? `${dialect.identifier(e.table)}.${dialect.identifier(e.name)}`
          : column(e.name);
      case 'value':
        if (dialect.parameters && typeof e.value === 'string') {
          params.push(e.value);
          return '?';
        }
        return dialect.literal(e.value);
      case 'call':
        return dialect.call(
          e.fn,
          e.args.map((a) => write(a)),
          memo,
        );
      case 'binary':
        return `(${write(e.left)} ${e.op} ${write(e.right)})`;
      case 'not':
        return `(NOT ${write(e.of)})`;
      case 'in':
        return `(${write(e.of)} IN (${e.list.map((x) => write(x)).join(', ')}))`;
      case 'is_not_null':
        return `(${write(e.of)} IS NOT NULL)`;
      case 'regex':
        return dialect.regex(write(e.of), e.pattern, e.ignoreCase);
      case 'ip_in_range':
        return dialect.ipInRange(write(e.of), e.range);
      case 'variable':
        return e.name;
      case 'any_element':
        // (The list first: its text has no parameters, the test's come after.)
        return dialect.anyElement(write(e.list), write(e.test));
      case 'is_null':
        return `(${write(e.of)} IS NULL)`;
      case 'cast':
        return dialect.cast(write(e.of), e.type);
      case 'case':
        return `(CASE ${e.whens.map((w) => `WHEN ${write(w.when)} THEN ${write(w.result)}`).join(' ')} ELSE ${write(e.else)} END)`;
      case 'regex_extract':
        return dialect.regexExtract(write(e.of), e.pattern, e.group);
      case 'address_key_in_range': {
        const cidr = parseCidr(e.range);
        if (!cidr) throw new SqlUnsupportedError(`'${e.range}' is not an IPv4 or IPv6 range`);
        const [lo, hi] = rangeKeys(cidr);
        return `(${write(e.of)} BETWEEN ${dialect.literal(lo)} AND ${dialect.literal(hi)})`;
      }
      case 'json_member':
        return dialect.jsonMember(write(e.of), e.key);
      case 'split_part':
        return dialect.splitPart(write(e.of), e.separator, e.index);
      case 'aggregate':
        return dialect.aggregate(
          e.fn,
          e.args.map((a) => write(a)),
        );
    }
  };
  return write;
}
