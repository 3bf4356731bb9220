/**
 * KQL scalar expressions → DuckDB SQL. Types come from Kusto's binder (SyntaxNode.typeName), so
 * each expression is compiled for what it is: strings are never null (a missing string is ''),
 * `dynamic` values are DuckDB JSON and turn into strings, numbers or times where Kusto would
 * convert them, `has` is term matching. Aggregates live here too; summarize picks them up.
 */
import type { SyntaxNode } from './frontend.js';

export class KqlUnsupportedError extends Error {
  constructor(
    message: string,
    readonly start: number,
    readonly length: number,
  ) {
    super(message);
  }
}

/** What a query can only do with Microsoft's cloud (a GeoIP service, a URL to download). */
export class KqlOfflineError extends KqlUnsupportedError {}

export interface KqlWarning {
  message: string;
  start: number;
  length: number;
}

/** The relation an operator reads: its SQL alias and the binder's columns. */
export interface Input {
  alias: string;
  columns: { name: string; type: string }[];
}

export interface Ctx {
  now: string;
  n: number;
  /** let-bound scalars and function parameters, as SQL. */
  scalars: Map<string, string>;
  /** let-bound literal lists (`dynamic([...])`), expanded by in / has_any / has_all. */
  lists: Map<string, SyntaxNode[]>;
  /** let-bound tabular values and tabular parameters, as SQL queries. */
  relations: Map<string, string>;
  /** let-bound user functions. */
  functions: Map<string, SyntaxNode>;
  /** Common table expressions, in order of definition. */
  ctes: string[];
  warnings: KqlWarning[];
  /** The row source of the operator being compiled (pack_all, column_ifexists, ingestion_time). */
  input?: Input;
  /** Compiles a tabular expression (toscalar, `in (T)`). */
  tabular: (n: SyntaxNode, ctx: Ctx) => string;
  externalData?: (url: string) => string | undefined;
  /** The rows an operator with no table before it reads (inside mv-apply). */
  implicit?: { sql: string; columns: { name: string; type: string }[] };
  /**
   * Set after bag_unpack or pivot: the relation has columns the binder cannot know (they depend
   * on the data), so operators keep every column instead of the binder's list.
   */
  open?: boolean;
  /** Queries run before the main one whose results complete it (the keys bag_unpack makes columns). */
  prepares: Prepare[];
}

/**
 * A step of a query that needs the data first: `keysSql` lists the values (bag keys, pivot
 * values) that become columns; `marker` in the SQL is replaced by `columns(values)`.
 */
export interface Prepare {
  marker: string;
  keysSql: string;
  columns: (values: string[]) => string;
}

/**
 * How many values a series of SQL constants makes (literals as the compiler writes them: numbers,
 * `TIMESTAMP_NS '…'`, `to_microseconds(n)`), or null when one is not a constant.
 */
export function constantSpan(from: string, to: string, step: string): number | null {
  const value = (sql: string): number | null => {
    const t = /^TIMESTAMP_NS '([^']+)'$/.exec(sql);
    if (t) return Date.parse(`${t[1]}Z`) * 1000;
    const us = /^to_microseconds\((\d+)\)$/.exec(sql);
    if (us) return Number(us[1]);
    const n = /^\(?(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\)?$/.exec(sql);
    return n ? Number(n[1]) : null;
  };
  const [a, b, c] = [value(from), value(to), value(step)];
  if (a === null || b === null || c === null || !Number.isFinite(a) || !Number.isFinite(b) || c === 0)
    return null;
  return Math.abs((b - a) / c);
}

/**
 * The end of a series from `from` by `step`, or a query error when the series would hold more
 * than `max` values: a hostile `range` or `make-series` (1 s bins over 2,000 years) otherwise
 * allocates the whole list before any limit on rows or time can act.
 */
export function boundedEnd(
  from: string,
  to: string,
  step: string,
  max: number,
  what: string,
  time: boolean,
): string {
  const span = time
    ? `(epoch(${to}) - epoch(${from})) / nullif(epoch(${step}), 0)`
    : `((${to}) - (${from})) / nullif(${step}, 0)`;
  return `(CASE WHEN abs(${span}) >= ${max} THEN error('${what} would make more than ${max.toLocaleString('en-US')} values') ELSE ${to} END)`;
}

export const unsupported = (n: SyntaxNode, what: string): never => {
  throw new KqlUnsupportedError(`${what} is not supported yet`, n.start, n.width);
};

/** A name as written (`Name`, `['Name with spaces']`, `["x"]`) → the name. */
export const nameOf = (n: SyntaxNode) =>
  n.text.trim().replace(/^\[\s*'(.*)'\s*\]$|^\[\s*"(.*)"\s*\]$/, '$1$2');

export const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
/** A SQL string literal; control characters (NUL cuts a SQL text short) spelled with chr(). */
export const str = (s: string) => {
  const quoted = `'${s.replace(/'/g, "''")}'`;
  const control = /[\x00-\x08\x0b\x0c\x0e-\x1f]/g;
  return control.test(s)
    ? `(${quoted.replace(control, (c) => `' || chr(${c.charCodeAt(0)}) || '`)})`
    : quoted;
};

const kind = (n: SyntaxNode) => n.kindName;
const NUMERIC = new Set(['long', 'int', 'real', 'decimal']);
const INTEGER = new Set(['long', 'int']);

/** A Kusto type's DuckDB type. */
export const SQL_TYPE: Record<string, string> = {
  string: 'VARCHAR',
  long: 'BIGINT',
  int: 'INTEGER',
  real: 'DOUBLE',
  decimal: 'DOUBLE',
  bool: 'BOOLEAN',
  datetime: 'TIMESTAMP_NS',
  timespan: 'INTERVAL',
  dynamic: 'JSON',
  guid: 'VARCHAR',
};

/** The SQL of an expression, with Kusto's string-is-never-null rule for names. */
export function scalar(n: SyntaxNode, ctx: Ctx): string {
  switch (kind(n)) {
    case 'ParenthesizedExpression':
      return `(${scalar(n.child(1), ctx)})`;
    case 'NameReference':
      return nameRef(n, ctx);
    case 'LiteralExpression':
    case 'CompoundStringLiteralExpression':
      return literal(n);
    case 'DynamicExpression':
      return dynamicLiteral(n);
    case 'BinaryExpression':
      return binary(n, ctx);
    case 'HasAllExpression':
    case 'HasAnyExpression': {
      const l = asString(n.child(0), ctx);
      const values = listValues(n.child(2), ctx);
      if (values.length === 0) return 'FALSE';
      // has_any (T): any value of the table's first column.
      if (values.length === 1 && values[0].columns().length > 0 && values[0].typeName !== 'dynamic') {
        const t = values[0];
        const col = `s.${q(t.columns()[0].name)}`;
        return `(${kind(n) === 'HasAllExpression' ? 'NOT ' : ''}EXISTS (SELECT 1 FROM (${ctx.tabular(t, ctx)}) AS s WHERE ${kind(n) === 'HasAllExpression' ? 'NOT ' : ''}${hasTermSql(l, `coalesce(CAST(${col} AS VARCHAR), '')`)}))`;
      }
      // has_any (someDynamicArray): any of its elements.
      if (
        values.length === 1 &&
        values[0].typeName === 'dynamic' &&
        values[0].kindName !== 'LiteralExpression'
      ) {
        const list = jsonList(asDynamic(values[0], ctx));
        const test = hasTermSql(l, "coalesce(json_extract_string(e, '$'), '')");
        return kind(n) === 'HasAllExpression'
          ? `list_bool_and(list_transform(${list}, e -> ${test}))`
          : `list_bool_or(list_transform(${list}, e -> ${test}))`;
      }
      const join = kind(n) === 'HasAllExpression' ? ' AND ' : ' OR ';
      return `(${values.map((v) => hasTerm(l, v, ctx)).join(join)})`;
    }
    case 'InExpression':
      return inList(n, ctx);
    case 'BetweenExpression': {
      // x between (a .. b): inclusive at both ends; for times, b may be a length from a.
      const couple = n.child(2);
      const not = n.child(1).text.trim().startsWith('!');
      const left = n.child(0);
      const lo = couple.child(1);
      const hi = couple.child(3);
      const a = scalar(lo, ctx);
      const b =
        left.typeName === 'datetime' && hi.typeName === 'timespan'
          ? `(${a} + ${scalar(hi, ctx)})`
          : scalar(hi, ctx);
      const x =
        left.typeName === 'dynamic'
          ? convert(scalar(left, ctx), 'dynamic', lo.typeName ?? 'real')
          : scalar(left, ctx);
      return `(${x} ${not ? 'NOT ' : ''}BETWEEN ${a} AND ${b})`;
    }
    case 'PrefixUnaryExpression':
      return `(${n.child(0).text.trim()}${scalar(n.child(1), ctx)})`;
    case 'FunctionCallExpression':
      return call(n, ctx);
    case 'PathExpression': {
      // d.key: JSON member access (null when missing).
      const member = n
        .child(2)
        .text.trim()
        .replace(/^\['(.*)'\]$|^\["(.*)"\]$/, '$1$2');
      return `json_extract(${asDynamic(n.child(0), ctx)}, ${str(`$.${jsonKey(member)}`)})`;
    }
    case 'ElementExpression':
      return element(n, ctx);
    case 'ToScalarExpression': {
      const inner = n.children().find((c) => !c.isToken && c.columns().length > 0);
      if (!inner) return unsupported(n, 'this toscalar()');
      return `(SELECT ${q(inner.columns()[0].name)} FROM (${ctx.tabular(inner, ctx)}) AS s${ctx.n++} LIMIT 1)`;
    }
    case 'MaterializeExpression':
      return unsupported(n, 'materialize() as a scalar');
    case 'SimpleNamedExpression':
      // `case(p, x = "…")`: Kusto ignores a name given to an argument.
      return scalar(n.child(2), ctx);
    case 'TypeOfLiteralExpression':
      return unsupported(n, 'typeof() outside of mv-expand or extract');
    default:
      return unsupported(n, `the expression ${kind(n)}`);
  }
}

function nameRef(n: SyntaxNode, ctx: Ctx): string {
  const name = nameOf(n);
  const relation = ctx.relations.get(name);
  // A table where a value is wanted: its first column's values, as a dynamic array.
  if (relation !== undefined && n.referencedKind !== 'Column' && n.columns().length > 0)
    return `(SELECT to_json(list(s.${q(n.columns()[0].name)})) FROM (${relation}) AS s)`;
  const bound = ctx.scalars.get(name);
  if (bound !== undefined && n.referencedKind !== 'Column') return bound;
  if (ctx.lists.has(name) && n.referencedKind !== 'Column')
    return `to_json([${ctx.lists
      .get(name)!
      .map((v) => asDynamicSql(scalar(v, ctx), v.typeName))
      .join(', ')}])`;
  if (ctx.functions.has(name) && n.referencedKind === 'Function') return callUser(n, name, [], ctx);
  // Kusto has no null string: a missing string is empty.
  return n.typeName === 'string' ? `coalesce(${q(name)}, '')` : q(name);
}

/** A key of a JSON path, quoted when it is not a plain identifier. */
const jsonKey = (k: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : `"${k.replace(/["\\]/g, '\\$&')}"`);

function element(n: SyntaxNode, ctx: Ctx): string {
  const base = asDynamic(n.child(0), ctx);
  const index = n.child(1).child(1);
  const literal = index.kindName === 'LiteralExpression' ? index.literalValue() : undefined;
  if (typeof literal === 'string') return `json_extract(${base}, ${str(`$.${jsonKey(literal)}`)})`;
  if (typeof literal === 'number') return `json_extract(${base}, ${str(`$[${literal}]`)})`;
  if (index.kindName === 'PrefixUnaryExpression' && /^-\s*\d+$/.test(index.text.trim()))
    return `json_extract(${base}, ${str(`$[#-${index.text.trim().slice(1).trim()}]`)})`;
  const i = scalar(index, ctx);
  if (index.typeName === 'string') return `json_extract(${base}, '$."' || replace(${i}, '"', '\\"') || '"')`;
  return `json_extract(${base}, CASE WHEN ${i} < 0 THEN '$[#' || (${i}) || ']' ELSE '$[' || (${i}) || ']' END)`;
}

function literal(n: SyntaxNode): string {
  const text = n.text.trim();
  if (n.kindName === 'CompoundStringLiteralExpression')
    return str(
      n
        .find('LiteralExpression')
        .map((l) => l.literalValue())
        .join(''),
    );
  if (n.typeName === 'string') {
    const v = n.literalValue();
    if (typeof v === 'string') return str(v);
  }
  // Everything else is rebuilt from validated parts: the text of a literal never reaches SQL
  // as written (`long(1; COPY … TO '/path')` is one token to Kusto's lexer).
  const typed = /^([a-z]+)\((.*)\)$/is.exec(text);
  if (typed) {
    const [, type, inner] = typed;
    const t = type.toLowerCase();
    const value = inner.trim();
    if (value.toLowerCase() === 'null') {
      const sqlType = SQL_TYPE[t === 'date' ? 'datetime' : t === 'time' ? 'timespan' : t];
      return sqlType ? `CAST(NULL AS ${sqlType})` : invalidLiteral(n, text);
    }
    if (t === 'datetime' || t === 'date') return datetimeLiteral(value);
    if (t === 'timespan' || t === 'time') return timespanLiteral(value) ?? invalidLiteral(n, text);
    if (t === 'long' || t === 'int') return integerLiteral(value, t) ?? invalidLiteral(n, text);
    if (t === 'real' || t === 'double' || t === 'decimal')
      return realLiteral(value) ?? invalidLiteral(n, text);
    if (t === 'bool' || t === 'boolean') return boolLiteral(value) ?? invalidLiteral(n, text);
    if (t === 'guid')
      return /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(value)
        ? str(value)
        : invalidLiteral(n, text);
    return unsupported(n, `the literal ${text}`);
  }
  const ts = timespanLiteral(text);
  if (ts) return ts;
  if (/^(true|false)$/i.test(text)) return text.toUpperCase();
  return integerLiteral(text, 'long') ?? realLiteral(text) ?? unsupported(n, `the literal ${text}`);
}

/** A literal Kusto would reject too, at its position. */
const invalidLiteral = (n: SyntaxNode, text: string): never => {
  throw new KqlUnsupportedError(`${text} is not a valid literal`, n.start, n.width);
};

const INT_RANGE = { long: [-(2n ** 63n), 2n ** 63n - 1n], int: [-(2n ** 31n), 2n ** 31n - 1n] } as const;

/** Decimal or 0x digits within the type's range, as canonical digits (no precision lost). */
export function integerLiteral(text: string, type: 'long' | 'int'): string | null {
  const m = /^([+-]?)(?:(\d+)|0x([0-9a-f]+))$/i.exec(text);
  if (!m) return null;
  const magnitude = m[2] !== undefined ? BigInt(m[2]) : BigInt(`0x${m[3]}`);
  const v = m[1] === '-' ? -magnitude : magnitude;
  const [lo, hi] = INT_RANGE[type];
  if (v < lo || v > hi) return null;
  return v < 0n ? `(${v})` : String(v);
}

/** A real number's digits, re-spelled from the parsed value; nan and ±inf as DuckDB's doubles. */
export function realLiteral(text: string): string | null {
  const special = /^([+-]?)(nan|inf)$/i.exec(text);
  if (special)
    return special[2].toLowerCase() === 'nan'
      ? "'nan'::DOUBLE"
      : special[1] === '-'
        ? "'-inf'::DOUBLE"
        : "'inf'::DOUBLE";
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return null;
  if (!Number.isFinite(Number(text))) return null;
  // Only digits, a point, an exponent and a sign are left: the text is safe as written, and
  // keeps its exact digits and DuckDB's type for them.
  return text.startsWith('-') ? `(${text})` : text.replace(/^\+/, '');
}

/** bool(true|false|1|0), case-insensitive. */
function boolLiteral(text: string): string | null {
  const t = text.toLowerCase();
  return t === 'true' || t === '1' ? 'TRUE' : t === 'false' || t === '0' ? 'FALSE' : null;
}

function datetimeLiteral(s: string): string {
  const zoned = /[zZ]|[+-]\d\d:?\d\d$/.test(s) || !/T|\s\d/.test(s) ? s : `${s}Z`;
  const t = Date.parse(zoned);
  if (!Number.isFinite(t)) return `TRY_CAST(${str(s)} AS TIMESTAMP_NS)`;
  // Keep the sub-millisecond digits Date drops: Kusto has 100 ns ticks, as TIMESTAMP_NS.
  const iso = new Date(t).toISOString().replace('Z', '');
  const frac = /\.(\d{4,7})/.exec(s);
  return `TIMESTAMP_NS ${str(frac ? iso.replace(/\.\d{3}$/, `.${frac[1]}`) : iso)}`;
}

/** Microseconds in a timespan unit (`1h`, `30m`, `5ticks`). */
export const TIMESPAN_UNITS: Record<string, number> = {
  d: 86_400_000_000,
  day: 86_400_000_000,
  days: 86_400_000_000,
  h: 3_600_000_000,
  hr: 3_600_000_000,
  hrs: 3_600_000_000,
  hour: 3_600_000_000,
  hours: 3_600_000_000,
  m: 60_000_000,
  min: 60_000_000,
  minute: 60_000_000,
  minutes: 60_000_000,
  s: 1_000_000,
  sec: 1_000_000,
  second: 1_000_000,
  seconds: 1_000_000,
  ms: 1_000,
  milli: 1_000,
  millis: 1_000,
  millisecond: 1_000,
  milliseconds: 1_000,
  microsecond: 1,
  microseconds: 1,
  tick: 0.1,
  ticks: 0.1,
};

/** `1h`, `30m`, `2.5d`, `00:05:00`, `1.02:00:00`; as a DuckDB interval. */
function timespanLiteral(text: string): string | null {
  const unit = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(text);
  if (unit && TIMESPAN_UNITS[unit[2].toLowerCase()] !== undefined)
    return `to_microseconds(${Math.round(Number(unit[1]) * TIMESPAN_UNITS[unit[2].toLowerCase()])})`;
  const clock = /^(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/.exec(text);
  if (clock) {
    const [, d = '0', h, m, s = '0', f = '0'] = clock;
    const micros =
      ((Number(d) * 24 + Number(h)) * 60 + Number(m)) * 60_000_000 +
      Number(s) * 1_000_000 +
      Math.round(Number(`0.${f}`) * 1e6);
    return `to_microseconds(${micros})`;
  }
  return null;
}

/** A dynamic literal: `dynamic([...])`, `dynamic({...})`, `dynamic(null)`, `dynamic("x")`. */
function dynamicLiteral(n: SyntaxNode): string {
  const inner = n.children().filter((c) => !c.isToken)[0];
  if (!inner) return 'CAST(NULL AS JSON)';
  const json = jsonText(inner);
  if (json === undefined) return unsupported(n, 'this dynamic literal');
  return json === 'null' ? 'CAST(NULL AS JSON)' : `CAST(${str(json)} AS JSON)`;
}

/**
 * A dynamic literal's JSON text, built from its parts: keys and strings as Kusto unescaped them,
 * integers with every digit (a long does not fit a JS number), other scalars validated.
 */
function jsonText(n: SyntaxNode): string | undefined {
  switch (n.kindName) {
    case 'JsonArrayExpression': {
      const items = n
        .find('SeparatedElement')
        .map((e) => e.child(0))
        .filter((e) => e && !e.isToken)
        .map(jsonText);
      return items.includes(undefined) ? undefined : `[${items.join(',')}]`;
    }
    case 'JsonObjectExpression': {
      const members: string[] = [];
      for (const pair of n.find('JsonPair')) {
        const key = pair.child(0);
        const name = key.stringValue() ?? unquote(key.text.trim());
        const value = jsonText(pair.child(2));
        if (value === undefined) return undefined;
        members.push(`${JSON.stringify(name)}:${value}`);
      }
      return `{${members.join(',')}}`;
    }
    case 'LiteralExpression': {
      const text = n.text.trim();
      const s = n.stringValue();
      if (s !== undefined && n.typeName === 'string') return JSON.stringify(s);
      if (/^null$/i.test(text)) return 'null';
      if (/^(true|false)$/i.test(text)) return text.toLowerCase();
      const integer = /^[+-]?\d+$/.test(text) ? BigInt(text) : null;
      if (integer !== null) return String(integer);
      if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) && Number.isFinite(Number(text)))
        return JSON.stringify(Number(text));
      const v = n.literalValue();
      if (typeof v === 'string') return JSON.stringify(v);
      // Typed literals inside dynamic (datetime(…), timespan) keep their text, as Kusto shows them.
      return JSON.stringify(text);
    }
    case 'PrefixUnaryExpression': {
      const v = jsonText(n.child(1));
      const sign = n.child(0).text.trim();
      if (v === undefined || !/^\d/.test(v)) return v;
      return sign === '-' ? (v.startsWith('-') ? v.slice(1) : `-${v}`) : v;
    }
    default:
      return undefined;
  }
}

/** A JSON key written with quotes Kusto did not unescape for us. */
function unquote(text: string): string {
  const m = /^(['"])(.*)\1$/s.exec(text);
  if (!m) return text;
  return m[2].replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c);
}

/** A value of type `type` turned into another type the way Kusto converts dynamic values. */
function convert(sql: string, from: string, to: string): string {
  if (from !== 'dynamic' || to === 'dynamic') return sql;
  if (to === 'string' || to === 'guid') return `coalesce(json_extract_string(${sql}, '$'), '')`;
  if (NUMERIC.has(to)) return `TRY_CAST(json_extract_string(${sql}, '$') AS DOUBLE)`;
  if (to === 'bool') return `TRY_CAST(json_extract_string(${sql}, '$') AS BOOLEAN)`;
  if (to === 'datetime') return `TRY_CAST(json_extract_string(${sql}, '$') AS TIMESTAMP)`;
  return `json_extract_string(${sql}, '$')`;
}

/** Kusto's tostring(): never null; dynamic strings unquoted, objects as JSON, times in ISO 8601. */
export function asString(n: SyntaxNode, ctx: Ctx): string {
  return toStringSql(scalar(n, ctx), n.typeName);
}

function toStringSql(sql: string, type: string | undefined): string {
  switch (type) {
    case 'string':
      return sql;
    case 'dynamic':
      return `coalesce(json_extract_string(${sql}, '$'), '')`;
    case 'datetime':
      // Up to 7 digits of fraction (Kusto's 100 ns ticks), trailing zeros dropped.
      return `coalesce(regexp_replace(strftime(CAST(${sql} AS TIMESTAMP_NS), '%Y-%m-%dT%H:%M:%S.%n'), '\\.?0+$', '') || 'Z', '')`;
    case 'bool':
      return `coalesce(CASE WHEN ${sql} THEN 'true' ELSE 'false' END, '')`;
    default:
      return `coalesce(CAST(${sql} AS VARCHAR), '')`;
  }
}

/** A value as JSON (dynamic). */
export function asDynamic(n: SyntaxNode, ctx: Ctx): string {
  return asDynamicSql(scalar(n, ctx), n.typeName);
}

function asDynamicSql(sql: string, type: string | undefined): string {
  if (type === 'dynamic') return sql;
  if (type === 'datetime') return `to_json(${toStringSql(sql, type)})`;
  return `to_json(${sql})`;
}

/** A value as a number (dynamic values converted). */
function asNumber(n: SyntaxNode, ctx: Ctx): string {
  return convert(scalar(n, ctx), n.typeName ?? '', 'real');
}

/** A list without repeats, first occurrences in their order (Kusto's set functions keep it). */
const distinctInOrder = (list: string) => `list_filter(${list}, (x, i) -> list_position(${list}, x) = i)`;

/** A JSON array's elements as a DuckDB list of JSON (a non-array counts as one element). */
const jsonList = (sql: string) =>
  `(CASE WHEN json_type(${sql}) = 'ARRAY' THEN CAST(${sql} AS JSON[]) WHEN ${sql} IS NULL THEN CAST([] AS JSON[]) ELSE [${sql}] END)`;

const ALNUM = /[A-Za-z0-9]/;

/**
 * Kusto's `has` of a literal needle (already folded unless `cased`) as a regular expression: the
 * needle at term boundaries where it starts or ends with a letter or digit; null when it has no
 * such edge (a plain `contains` then). Shared by both KQL compilers.
 */
export function termPattern(
  needle: string,
  mode: 'has' | 'prefix' | 'suffix',
  cased: boolean,
): string | null {
  const word = cased ? 'A-Za-z0-9' : 'a-z0-9';
  const head = mode !== 'suffix' && ALNUM.test(needle[0] ?? '') ? `(^|[^${word}])` : '';
  const tail = mode !== 'prefix' && ALNUM.test(needle[needle.length - 1] ?? '') ? `($|[^${word}])` : '';
  if (head === '' && tail === '') return null;
  return `${head}${needle.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}${tail}`;
}

/** Kusto's `has`: the needle at term boundaries where it starts or ends with a letter or digit. */
function hasTerm(
  haystack: string,
  needleNode: SyntaxNode,
  ctx: Ctx,
  mode: 'has' | 'prefix' | 'suffix' = 'has',
  cased = false,
): string {
  const needle = stringLiteral(needleNode);
  const h = cased ? haystack : `lower(${haystack})`;
  if (needle === null) return hasTermSql(haystack, asString(needleNode, ctx), mode, cased);
  const folded = cased ? needle : needle.toLowerCase();
  const pattern = termPattern(folded, mode, cased);
  if (pattern === null)
    return cased ? `contains(${haystack}, ${str(needle)})` : `contains(${h}, ${str(folded)})`;
  return `regexp_matches(${h}, ${str(pattern)})`;
}

/** `has` with a needle computed per row: the same rule, the edges decided by the needle's value. */
function hasTermSql(
  haystack: string,
  needle: string,
  mode: 'has' | 'prefix' | 'suffix' = 'has',
  cased = false,
): string {
  const h = cased ? haystack : `lower(${haystack})`;
  const x = cased ? needle : `lower(${needle})`;
  const head =
    mode === 'suffix'
      ? "''"
      : `CASE WHEN regexp_matches(${x}, '^[A-Za-z0-9]') THEN '(^|[^A-Za-z0-9])' ELSE '' END`;
  const tail =
    mode === 'prefix'
      ? "''"
      : `CASE WHEN regexp_matches(${x}, '[A-Za-z0-9]$') THEN '($|[^A-Za-z0-9])' ELSE '' END`;
  return `(${x} <> '' AND regexp_matches(${h}, ${head} || regexp_escape(${x}) || ${tail}))`;
}

export function stringLiteral(n: SyntaxNode): string | null {
  if (kind(n) !== 'LiteralExpression') return null;
  const v = n.literalValue();
  return typeof v === 'string' ? v : null;
}

/** The array of a `dynamic([…])` literal (not an array nested in an object). */
function literalArray(n: SyntaxNode): SyntaxNode | undefined {
  if (n.kindName !== 'DynamicExpression') return undefined;
  const inner = n.children().find((c) => !c.isToken);
  return inner?.kindName === 'JsonArrayExpression' ? inner : undefined;
}

/** A call's arguments, as written. */
export function argsOf(list: SyntaxNode): SyntaxNode[] {
  return list
    .find('SeparatedElement')
    .map((e) => e.child(0))
    .filter((e) => e && !e.isToken);
}

/** The elements of `(a, b, …)` or `dynamic([…])`; a let-bound literal list is expanded. */
export function listValues(n: SyntaxNode, ctx?: Ctx): SyntaxNode[] {
  const values = n
    .find('SeparatedElement')
    .map((e) => e.child(0))
    .filter((e) => e && !e.isToken);
  return values.flatMap((v) => {
    if (v.kindName === 'NameReference' && ctx?.lists.has(v.text.trim())) return ctx.lists.get(v.text.trim())!;
    const array = literalArray(v);
    if (array) return listValues(array, ctx);
    return [v];
  });
}

function inList(n: SyntaxNode, ctx: Ctx): string {
  const op = n.child(1).text.trim().toLowerCase();
  const folded = op.endsWith('~');
  const not = op.startsWith('!');
  const left = n.child(0);
  const values = listValues(n.child(2), ctx);
  const stringy = left.typeName === 'string' || left.typeName === 'dynamic' || folded;
  const l = stringy ? asString(left, ctx) : scalar(left, ctx);
  const fold = (s: string) => (folded ? `lower(${s})` : s);
  // `x in (T | project c)`: the first column of a tabular expression.
  if (values.length === 1 && values[0].columns().length > 0 && values[0].typeName !== 'dynamic') {
    const t = values[0];
    const col = `s.${q(t.columns()[0].name)}`;
    const c = stringy ? `coalesce(CAST(${col} AS VARCHAR), '')` : col;
    return `(${fold(l)} ${not ? 'NOT IN' : 'IN'} (SELECT ${fold(c)} FROM (${ctx.tabular(t, ctx)}) AS s))`;
  }
  // `x in (someDynamicArray)`: its elements.
  if (values.length === 1 && values[0].typeName === 'dynamic' && values[0].kindName !== 'LiteralExpression') {
    const list = `list_transform(${jsonList(asDynamic(values[0], ctx))}, e -> ${fold("coalesce(json_extract_string(e, '$'), '')")})`;
    return `(${not ? 'NOT ' : ''}list_contains(${list}, ${fold(stringy ? l : `CAST(${l} AS VARCHAR)`)}))`;
  }
  if (values.length === 0) return not ? 'TRUE' : 'FALSE';
  const set = values.map((v) => fold(stringy ? asString(v, ctx) : scalar(v, ctx))).join(', ');
  return `(${fold(l)} ${not ? 'NOT IN' : 'IN'} (${set}))`;
}

function binary(n: SyntaxNode, ctx: Ctx): string {
  const left = n.child(0);
  const right = n.child(2);
  const op = n.child(1).text.trim().toLowerCase();
  switch (op) {
    case 'and':
      return `(${scalar(left, ctx)} AND ${scalar(right, ctx)})`;
    case 'or':
      return `(${scalar(left, ctx)} OR ${scalar(right, ctx)})`;
    case '==':
    case '!=':
    case '<>':
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const [l, r] = comparable(left, right, ctx);
      const sqlOp = op === '==' ? '=' : op === '!=' ? '<>' : op;
      return `(${l} ${sqlOp} ${r})`;
    }
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
      return arithmetic(op, left, right, ctx);
    case '=~':
    case '!~':
      return `(lower(${asString(left, ctx)}) ${op === '=~' ? '=' : '<>'} lower(${asString(right, ctx)}))`;
    case 'has':
    case '!has':
    case 'has_cs':
    case '!has_cs':
    case 'hasprefix':
    case '!hasprefix':
    case 'hassuffix':
    case '!hassuffix':
    case 'hasprefix_cs':
    case '!hasprefix_cs':
    case 'hassuffix_cs':
    case '!hassuffix_cs': {
      const mode = op.includes('prefix') ? 'prefix' : op.includes('suffix') ? 'suffix' : 'has';
      const test = hasTerm(asString(left, ctx), right, ctx, mode, op.endsWith('_cs'));
      return op.startsWith('!') ? `(NOT ${test})` : test;
    }
    case 'contains':
    case '!contains':
      return `(${op[0] === '!' ? 'NOT ' : ''}contains(lower(${asString(left, ctx)}), lower(${asString(right, ctx)})))`;
    case 'contains_cs':
    case '!contains_cs':
      return `(${op[0] === '!' ? 'NOT ' : ''}contains(${asString(left, ctx)}, ${asString(right, ctx)}))`;
    case 'startswith':
    case '!startswith':
      return `(${op[0] === '!' ? 'NOT ' : ''}starts_with(lower(${asString(left, ctx)}), lower(${asString(right, ctx)})))`;
    case 'startswith_cs':
    case '!startswith_cs':
      return `(${op[0] === '!' ? 'NOT ' : ''}starts_with(${asString(left, ctx)}, ${asString(right, ctx)}))`;
    case 'endswith':
    case '!endswith':
      return `(${op[0] === '!' ? 'NOT ' : ''}ends_with(lower(${asString(left, ctx)}), lower(${asString(right, ctx)})))`;
    case 'endswith_cs':
    case '!endswith_cs':
      return `(${op[0] === '!' ? 'NOT ' : ''}ends_with(${asString(left, ctx)}, ${asString(right, ctx)}))`;
    case 'matches regex':
      return `regexp_matches(${asString(left, ctx)}, ${asString(right, ctx)})`;
    case 'like':
    case 'notlike':
      return unsupported(n.child(1), `the operator \`${op}\``);
    default:
      return unsupported(n.child(1), `the operator \`${op}\``);
  }
}

/** Both sides of a comparison in one type: dynamic takes the other side's type; strings vs numbers compare as text. */
function comparable(left: SyntaxNode, right: SyntaxNode, ctx: Ctx): [string, string] {
  const lt = left.typeName ?? '';
  const rt = right.typeName ?? '';
  if (lt === 'dynamic' && rt === 'dynamic') return [asString(left, ctx), asString(right, ctx)];
  if (lt === 'dynamic') return [convert(scalar(left, ctx), lt, rt), scalar(right, ctx)];
  if (rt === 'dynamic') return [scalar(left, ctx), convert(scalar(right, ctx), rt, lt)];
  if ((lt === 'string' && NUMERIC.has(rt)) || (rt === 'string' && NUMERIC.has(lt)))
    return [asString(left, ctx), asString(right, ctx)];
  // Columns the data named (bag_unpack, pivot) have no type until the query runs: compare as numbers with numbers.
  if (lt === 'unknown' && NUMERIC.has(rt))
    return [`TRY_CAST(${scalar(left, ctx)} AS DOUBLE)`, scalar(right, ctx)];
  if (rt === 'unknown' && NUMERIC.has(lt))
    return [scalar(left, ctx), `TRY_CAST(${scalar(right, ctx)} AS DOUBLE)`];
  return [scalar(left, ctx), scalar(right, ctx)];
}

function arithmetic(op: string, left: SyntaxNode, right: SyntaxNode, ctx: Ctx): string {
  const lt = left.typeName ?? '';
  const rt = right.typeName ?? '';
  const l = lt === 'dynamic' ? asNumber(left, ctx) : scalar(left, ctx);
  const r = rt === 'dynamic' ? asNumber(right, ctx) : scalar(right, ctx);
  if (op === '/' && lt === 'timespan' && rt === 'timespan') return `(epoch_us(${l}) / epoch_us(${r}))`;
  if ((op === '/' || op === '*') && lt === 'timespan' && NUMERIC.has(rt))
    return `to_microseconds(CAST(epoch_us(${l}) ${op} ${r} AS BIGINT))`;
  if (op === '*' && rt === 'timespan' && NUMERIC.has(lt))
    return `to_microseconds(CAST(epoch_us(${r}) * ${l} AS BIGINT))`;
  // Kusto divides integers as integers.
  if (op === '/' && INTEGER.has(lt) && INTEGER.has(rt)) return `(${l} // ${r})`;
  if (op === '+' && lt === 'string') return `(${l} || ${asString(right, ctx)})`;
  return `(${l} ${op} ${r})`;
}

// ---------------------------------------------------------------------------------------------
// Functions

type Fn = (args: SyntaxNode[], ctx: Ctx, call: SyntaxNode) => string;

const S = (n: SyntaxNode, ctx: Ctx) => asString(n, ctx);
const X = (n: SyntaxNode, ctx: Ctx) => scalar(n, ctx);
const D = (n: SyntaxNode, ctx: Ctx) => asDynamic(n, ctx);
const N = (n: SyntaxNode, ctx: Ctx) => asNumber(n, ctx);

const nowSql = (ctx: Ctx) => `TIMESTAMP ${str(ctx.now.replace('Z', ''))}`;
const time = (n: SyntaxNode, ctx: Ctx) =>
  n.typeName === 'datetime' ? scalar(n, ctx) : `TRY_CAST(${S(n, ctx)} AS TIMESTAMP)`;

/** ipv4 text → its 32-bit number (null when not an address). */
const ipNumber = (s: string) =>
  `(CASE WHEN regexp_matches(${s}, '^\\d{1,3}(\\.\\d{1,3}){3}$') THEN (CAST(split_part(${s}, '.', 1) AS BIGINT) << 24) + (CAST(split_part(${s}, '.', 2) AS BIGINT) << 16) + (CAST(split_part(${s}, '.', 3) AS BIGINT) << 8) + CAST(split_part(${s}, '.', 4) AS BIGINT) END)`;

const DATE_PARTS: Record<string, string> = {
  year: 'years',
  quarter: 'quarters',
  month: 'months',
  week: 'weeks',
  day: 'days',
  hour: 'hours',
  minute: 'minutes',
  second: 'seconds',
  millisecond: 'milliseconds',
  microsecond: 'microseconds',
  nanosecond: 'microseconds',
};

function datePart(n: SyntaxNode): string {
  const part = (stringLiteral(n) ?? '').toLowerCase();
  if (!DATE_PARTS[part]) return unsupported(n, `the date part ${n.text.trim()}`);
  return part === 'nanosecond' ? 'microsecond' : part;
}

/** Kusto's format_datetime tokens → strftime. */
function strftimeFormat(n: SyntaxNode): string {
  const f = stringLiteral(n);
  if (f === null) return unsupported(n, 'a computed format');
  const tokens: [RegExp, string][] = [
    [/^yyyy/, '%Y'],
    [/^yy/, '%y'],
    [/^MM/, '%m'],
    [/^M/, '%-m'],
    [/^dd/, '%d'],
    [/^d/, '%-d'],
    [/^HH/, '%H'],
    [/^H/, '%-H'],
    [/^hh/, '%I'],
    [/^h/, '%-I'],
    [/^mm/, '%M'],
    [/^m/, '%-M'],
    [/^ss/, '%S'],
    [/^s/, '%-S'],
    [/^f{1,7}/, '%f'],
    [/^tt/, '%p'],
  ];
  let out = '';
  let rest = f;
  outer: while (rest.length > 0) {
    for (const [re, to] of tokens) {
      const m = re.exec(rest);
      if (m) {
        out += to;
        rest = rest.slice(m[0].length);
        continue outer;
      }
    }
    out += rest[0] === '%' ? '%%' : rest[0];
    rest = rest.slice(1);
  }
  return str(out);
}

/** format_timespan(t, "d.hh:mm:ss.fff"): days, hours, minutes, seconds and fractions of a timespan. */
function formatTimespan(t: string, format: SyntaxNode): string {
  const f = stringLiteral(format);
  if (f === null) return unsupported(format, 'a computed format');
  const us = `abs(epoch_us(${t}))`;
  const part = (micros: number, mod: number | null, width: number) =>
    `lpad(CAST(${mod === null ? `${us} // ${micros}` : `(${us} // ${micros}) % ${mod}`} AS VARCHAR), ${width}, '0')`;
  const pieces: string[] = [];
  let rest = f;
  while (rest.length > 0) {
    const m = /^(d+|h+|H+|m+|s+|f+|F+)/.exec(rest);
    if (m) {
      const token = m[0];
      const c = token[0];
      if (c === 'd') pieces.push(part(86_400_000_000, null, token.length));
      else if (c === 'h' || c === 'H') pieces.push(part(3_600_000_000, 24, token.length));
      else if (c === 'm') pieces.push(part(60_000_000, 60, token.length));
      else if (c === 's') pieces.push(part(1_000_000, 60, token.length));
      else
        pieces.push(
          `substr(lpad(CAST(${us} % 1000000 AS VARCHAR), 6, '0') || '0', 1, ${Math.min(token.length, 7)})`,
        );
      rest = rest.slice(token.length);
    } else {
      const literal = rest[0] === '\\' && rest.length > 1 ? rest[1] : rest[0];
      pieces.push(str(literal));
      rest = rest.slice(rest[0] === '\\' ? 2 : 1);
    }
  }
  return `(CASE WHEN ${t} IS NULL THEN '' ELSE ${pieces.join(' || ')} END)`;
}

const startOf = (unit: string) => (a: SyntaxNode[], ctx: Ctx) => {
  const t = time(a[0], ctx);
  const base =
    unit === 'week'
      ? `CAST(CAST(${t} AS DATE) - CAST(dayofweek(${t}) AS INTEGER) AS TIMESTAMP)`
      : `date_trunc('${unit}', ${t})`;
  return a[1] ? `(${base} + to_${unit}s(CAST(${X(a[1], ctx)} AS INTEGER)))` : base;
};

const endOf = (unit: string) => (a: SyntaxNode[], ctx: Ctx) =>
  `(${startOf(unit)(a, ctx)} + to_${unit}s(1) - to_microseconds(1))`;

/** Aggregates: functions that summarize many rows into one value. */
const AGGREGATES: Record<string, Fn> = {
  count: () => 'count(*)',
  countif: (a, ctx) => `count(*) FILTER (WHERE ${X(a[0], ctx)})`,
  dcount: (a, ctx) =>
    `count(DISTINCT ${a[0].typeName === 'dynamic' ? `CAST(${X(a[0], ctx)} AS VARCHAR)` : X(a[0], ctx)})`,
  dcountif: (a, ctx) => `count(DISTINCT ${X(a[0], ctx)}) FILTER (WHERE ${X(a[1], ctx)})`,
  count_distinct: (a, ctx) => `count(DISTINCT ${X(a[0], ctx)})`,
  count_distinctif: (a, ctx) => `count(DISTINCT ${X(a[0], ctx)}) FILTER (WHERE ${X(a[1], ctx)})`,
  sum: (a, ctx) => `sum(${N(a[0], ctx)})`,
  sumif: (a, ctx) => `sum(${N(a[0], ctx)}) FILTER (WHERE ${X(a[1], ctx)})`,
  min: (a, ctx) => `min(${X(a[0], ctx)})`,
  max: (a, ctx) => `max(${X(a[0], ctx)})`,
  minif: (a, ctx) => `min(${X(a[0], ctx)}) FILTER (WHERE ${X(a[1], ctx)})`,
  maxif: (a, ctx) => `max(${X(a[0], ctx)}) FILTER (WHERE ${X(a[1], ctx)})`,
  avg: (a, ctx) => `avg(${N(a[0], ctx)})`,
  avgif: (a, ctx) => `avg(${N(a[0], ctx)}) FILTER (WHERE ${X(a[1], ctx)})`,
  stdev: (a, ctx) => `stddev_samp(${N(a[0], ctx)})`,
  variance: (a, ctx) => `var_samp(${N(a[0], ctx)})`,
  percentile: (a, ctx) => `quantile_disc(${X(a[0], ctx)}, ${X(a[1], ctx)} / 100.0)`,
  take_any: (a, ctx) => `any_value(${X(a[0], ctx)})`,
  any: (a, ctx) => `any_value(${X(a[0], ctx)})`,
  take_anyif: (a, ctx) => `any_value(${X(a[0], ctx)}) FILTER (WHERE ${X(a[1], ctx)})`,
  make_set: (a, ctx) => collect(a, ctx, true),
  makeset: (a, ctx) => collect(a, ctx, true),
  make_set_if: (a, ctx) => collect([a[0], a[2]].filter(Boolean), ctx, true, a[1]),
  make_list: (a, ctx) => collect(a, ctx, false),
  makelist: (a, ctx) => collect(a, ctx, false),
  make_list_if: (a, ctx) => collect([a[0], a[2]].filter(Boolean), ctx, false, a[1]),
  make_bag: (a, ctx) =>
    `coalesce(list_reduce(list(${D(a[0], ctx)}) FILTER (WHERE json_type(${D(a[0], ctx)}) = 'OBJECT'), (x, y) -> json_merge_patch(x, y)), CAST('{}' AS JSON))`,
  make_bag_if: (a, ctx) =>
    `coalesce(list_reduce(list(${D(a[0], ctx)}) FILTER (WHERE json_type(${D(a[0], ctx)}) = 'OBJECT' AND ${X(a[1], ctx)}), (x, y) -> json_merge_patch(x, y)), CAST('{}' AS JSON))`,
};

/** make_set / make_list: arrays given to them contribute their elements; nulls are skipped. */
function collect(a: SyntaxNode[], ctx: Ctx, distinct: boolean, where?: SyntaxNode): string {
  const arg = a[0];
  const x = X(arg, ctx);
  const filter = `FILTER (WHERE ${x} IS NOT NULL${where ? ` AND ${X(where, ctx)}` : ''})`;
  let list: string;
  if (arg.typeName === 'dynamic') {
    list = `flatten(list(${jsonList(x)}) ${filter})`;
    if (distinct) list = `list_distinct(${list})`;
  } else {
    // Plain values are gathered as they are (DISTINCT in the aggregate, the fast path) and the
    // list turned into JSON once; times as ISO 8601 text, as Kusto shows them.
    const value = arg.typeName === 'datetime' ? toStringSql(x, 'datetime') : x;
    list = `list(${distinct ? 'DISTINCT ' : ''}${value}) ${filter}`;
  }
  if (a[1]) list = `list_slice(${list}, 1, ${X(a[1], ctx)})`;
  return `to_json(coalesce(${list}, []))`;
}

export const isAggregate = (name: string) => name in AGGREGATES || name === 'arg_max' || name === 'arg_min';

const FUNCTIONS: Record<string, Fn> = {
  ...AGGREGATES,
  // Conversions
  tostring: (a, ctx) => S(a[0], ctx),
  tolower: (a, ctx) => `lower(${S(a[0], ctx)})`,
  toupper: (a, ctx) => `upper(${S(a[0], ctx)})`,
  tolong: (a, ctx) => toInteger(a[0], ctx),
  toint: (a, ctx) => toInteger(a[0], ctx),
  toreal: (a, ctx) =>
    `TRY_CAST(${a[0].typeName === 'string' || a[0].typeName === 'dynamic' ? S(a[0], ctx) : X(a[0], ctx)} AS DOUBLE)`,
  todouble: (a, ctx) => FUNCTIONS.toreal(a, ctx, a[0]),
  todecimal: (a, ctx) => FUNCTIONS.toreal(a, ctx, a[0]),
  tobool: (a, ctx) =>
    `TRY_CAST(${a[0].typeName === 'string' || a[0].typeName === 'dynamic' ? S(a[0], ctx) : X(a[0], ctx)} AS BOOLEAN)`,
  toboolean: (a, ctx) => FUNCTIONS.tobool(a, ctx, a[0]),
  todatetime: (a, ctx) => time(a[0], ctx),
  toguid: (a, ctx) => S(a[0], ctx),
  parse_json: (a, ctx) => parseJson(a[0], ctx),
  parsejson: (a, ctx) => parseJson(a[0], ctx),
  todynamic: (a, ctx) => parseJson(a[0], ctx),
  toobject: (a, ctx) => parseJson(a[0], ctx),
  dynamic_to_json: (a, ctx) => `coalesce(CAST(${D(a[0], ctx)} AS VARCHAR), '')`,
  // Logic
  not: (a, ctx) => `(NOT ${X(a[0], ctx)})`,
  iff: (a, ctx, c) =>
    `(CASE WHEN ${X(a[0], ctx)} THEN ${branch(a[1], c, ctx)} ELSE ${branch(a[2], c, ctx)} END)`,
  iif: (a, ctx, c) => FUNCTIONS.iff(a, ctx, c),
  case: (a, ctx, c) => {
    const whens: string[] = [];
    for (let i = 0; i + 1 < a.length; i += 2)
      whens.push(`WHEN ${X(a[i], ctx)} THEN ${branch(a[i + 1], c, ctx)}`);
    return `(CASE ${whens.join(' ')} ELSE ${branch(a[a.length - 1], c, ctx)} END)`;
  },
  coalesce: (a, ctx, c) =>
    c.typeName === 'string'
      ? `coalesce(${a.map((x) => `nullif(${S(x, ctx)}, '')`).join(', ')}, '')`
      : `coalesce(${a.map((x) => branch(x, c, ctx)).join(', ')})`,
  isempty: (a, ctx) => `(${X(a[0], ctx)} IS NULL OR CAST(${X(a[0], ctx)} AS VARCHAR) = '')`,
  isnotempty: (a, ctx) => `(${X(a[0], ctx)} IS NOT NULL AND CAST(${X(a[0], ctx)} AS VARCHAR) <> '')`,
  notempty: (a, ctx) => FUNCTIONS.isnotempty(a, ctx, a[0]),
  isnull: (a, ctx) =>
    `(${X(a[0], ctx)} IS NULL${a[0].typeName === 'dynamic' ? ` OR json_type(${X(a[0], ctx)}) = 'NULL'` : ''})`,
  isnotnull: (a, ctx) => `(NOT ${FUNCTIONS.isnull(a, ctx, a[0])})`,
  notnull: (a, ctx) => FUNCTIONS.isnotnull(a, ctx, a[0]),
  column_ifexists: (a, ctx) => {
    const name = stringLiteral(a[0]);
    return name !== null && ctx.input?.columns.some((c) => c.name === name) ? q(name) : X(a[1], ctx);
  },
  // Strings
  strlen: (a, ctx) => `length(${S(a[0], ctx)})`,
  string_size: (a, ctx) => `octet_length(encode(${S(a[0], ctx)}))`,
  strcat: (a, ctx) => (a.length === 0 ? "''" : `(${a.map((x) => S(x, ctx)).join(' || ')})`),
  strcat_delim: (a, ctx) =>
    `concat_ws(${S(a[0], ctx)}, ${a
      .slice(1)
      .map((x) => S(x, ctx))
      .join(', ')})`,
  substring: (a, ctx) =>
    `substr(${S(a[0], ctx)}, greatest(CAST(${X(a[1], ctx)} AS BIGINT), 0) + 1${a[2] ? `, CAST(${X(a[2], ctx)} AS BIGINT)` : ''})`,
  indexof: (a, ctx) => `(strpos(${S(a[0], ctx)}, ${S(a[1], ctx)}) - 1)`,
  indexof_regex: (a, ctx) =>
    // Where the first match starts (the first occurrence of the matched text), -1 without one.
    `(CASE WHEN regexp_matches(${S(a[0], ctx)}, ${S(a[1], ctx)}) THEN strpos(${S(a[0], ctx)}, regexp_extract(${S(a[0], ctx)}, ${S(a[1], ctx)})) - 1 ELSE -1 END)`,
  countof: (a, ctx) => {
    const kind = a[2] ? stringLiteral(a[2]) : 'normal';
    if (kind === 'regex') return `len(regexp_extract_all(${S(a[0], ctx)}, ${S(a[1], ctx)}))`;
    return `((length(${S(a[0], ctx)}) - length(replace(${S(a[0], ctx)}, ${S(a[1], ctx)}, ''))) // greatest(length(${S(a[1], ctx)}), 1))`;
  },
  replace_string: (a, ctx) => `replace(${S(a[0], ctx)}, ${S(a[1], ctx)}, ${S(a[2], ctx)})`,
  replace_regex: (a, ctx) => `regexp_replace(${S(a[0], ctx)}, ${S(a[1], ctx)}, ${S(a[2], ctx)}, 'g')`,
  replace: (a, ctx) => `regexp_replace(${S(a[2], ctx)}, ${S(a[0], ctx)}, ${S(a[1], ctx)}, 'g')`,
  trim: (a, ctx) => trimRegex(a, ctx, true, true),
  trim_start: (a, ctx) => trimRegex(a, ctx, true, false),
  trim_end: (a, ctx) => trimRegex(a, ctx, false, true),
  reverse: (a, ctx) => `reverse(${S(a[0], ctx)})`,
  translate: (a, ctx) => `translate(${S(a[2], ctx)}, ${S(a[0], ctx)}, ${S(a[1], ctx)})`,
  strrep: (a, ctx) =>
    a[2]
      ? `array_to_string(list_transform(range(CAST(${X(a[1], ctx)} AS BIGINT)), i -> ${S(a[0], ctx)}), ${S(a[2], ctx)})`
      : `repeat(${S(a[0], ctx)}, CAST(${X(a[1], ctx)} AS BIGINT))`,
  extract: (a, ctx) => {
    // extract(regex, group, text[, typeof(T)]): '' when it does not match.
    const s = `coalesce(regexp_extract(${S(a[2], ctx)}, ${S(a[0], ctx)}, CAST(${X(a[1], ctx)} AS INTEGER)), '')`;
    const type = a[3] ? a[3].text.replace(/^typeof\(|\)$/g, '').trim() : 'string';
    return type === 'string' ? s : `TRY_CAST(nullif(${s}, '') AS ${SQL_TYPE[type] ?? 'VARCHAR'})`;
  },
  extract_all: (a, ctx) => {
    const regex = stringLiteral(a[0]);
    const group = regex !== null && /\((?!\?)/.test(regex) ? 1 : 0;
    return `to_json(regexp_extract_all(${S(a[a.length - 1], ctx)}, ${S(a[0], ctx)}, ${group}))`;
  },
  extractjson: (a, ctx) => jsonPath(a, ctx),
  extract_json: (a, ctx) => jsonPath(a, ctx),
  split: (a, ctx) => {
    const parts = `string_split(${S(a[0], ctx)}, ${S(a[1], ctx)})`;
    if (!a[2]) return `to_json(${parts})`;
    const i = `CAST(${X(a[2], ctx)} AS BIGINT)`;
    return `to_json(list_slice(${parts}, ${i} + 1, ${i} + 1))`;
  },
  base64_decode_tostring: (a, ctx) => `coalesce(try(decode(from_base64(${S(a[0], ctx)}))), '')`,
  base64_decodestring: (a, ctx) => FUNCTIONS.base64_decode_tostring(a, ctx, a[0]),
  base64_encode_tostring: (a, ctx) => `to_base64(encode(${S(a[0], ctx)}))`,
  base64_encodestring: (a, ctx) => FUNCTIONS.base64_encode_tostring(a, ctx, a[0]),
  url_decode: (a, ctx) => `coalesce(try(url_decode(${S(a[0], ctx)})), '')`,
  url_encode: (a, ctx) => `url_encode(${S(a[0], ctx)})`,
  hash_sha256: (a, ctx) => `sha256(${S(a[0], ctx)})`,
  hash_md5: (a, ctx) => `md5(${S(a[0], ctx)})`,
  hash_sha1: (a, ctx) => `sha1(${S(a[0], ctx)})`,
  new_guid: () => 'CAST(uuid() AS VARCHAR)',
  parse_command_line: (a, ctx) =>
    // Windows rules, simplified: quoted runs stay together, quotes are dropped.
    `to_json(list_transform(regexp_extract_all(${S(a[0], ctx)}, '"[^"]*"|[^\\s"]+'), x -> replace(x, '"', '')))`,
  parse_url: (a, ctx) => parseUrl(S(a[0], ctx)),
  parse_path: (a, ctx) => parsePath(S(a[0], ctx)),
  make_string: (a, ctx) =>
    `concat(${a.map((x) => (x.typeName === 'dynamic' ? `array_to_string(list_transform(${jsonList(X(x, ctx))}, c -> chr(CAST(json_extract_string(c, '$') AS INTEGER))), '')` : `chr(CAST(${X(x, ctx)} AS INTEGER))`)).join(', ')})`,
  unicode_codepoints_from_string: (a, ctx) =>
    `to_json(list_transform(string_split(${S(a[0], ctx)}, ''), c -> unicode(c)))`,
  parse_csv: (a, ctx) =>
    // One CSV record: quoted fields may hold commas; doubled quotes inside stand for one.
    `to_json(list_transform(regexp_extract_all(${S(a[0], ctx)} || ',', '("(?:[^"]|"")*"|[^,]*),', 1), f -> CASE WHEN starts_with(f, '"') THEN replace(f[2:-2], '""', '"') ELSE f END))`,
  parse_version: (a, ctx) =>
    // Up to four parts, each padded to 8 digits: versions then compare as Kusto's decimals do.
    `(CASE WHEN regexp_matches(${S(a[0], ctx)}, '^[0-9]+([.][0-9]+){0,3}$') THEN array_to_string(list_transform(list_concat(string_split(${S(a[0], ctx)}, '.'), ['0', '0', '0'])[1:4], p -> lpad(p, 8, '0')), '') END)`,
  format_bytes: (a, ctx) => {
    const n = N(a[0], ctx);
    const p = a[1] ? `CAST(${X(a[1], ctx)} AS INTEGER)` : '0';
    const unit = (size: number, name: string) =>
      `(CASE WHEN ${p} = 0 THEN CAST(CAST(round(${n} / ${size}) AS BIGINT) AS VARCHAR) ELSE CAST(round(${n} / ${size}, ${p}) AS VARCHAR) END) || ' ${name}'`;
    return `(CASE WHEN ${n} IS NULL THEN '' WHEN abs(${n}) < 1024 THEN CAST(${n} AS BIGINT) || ' Bytes' WHEN abs(${n}) < 1048576 THEN ${unit(1024, 'KB')} WHEN abs(${n}) < 1073741824 THEN ${unit(1048576, 'MB')} WHEN abs(${n}) < 1099511627776 THEN ${unit(1073741824, 'GB')} ELSE ${unit(1099511627776, 'TB')} END)`;
  },
  format_timespan: (a, ctx) => formatTimespan(X(a[0], ctx), a[1]),
  // Registered by the store (src/store/udfs.ts). Tuple results are JSON arrays; extend splits them.
  series_fit_line: (a, ctx) => seriesCall('fit_line', a, ctx),
  series_fit_2lines: (a, ctx) => seriesCall('fit_2lines', a, ctx),
  series_decompose_anomalies: (a, ctx) => seriesCall('decompose_anomalies', a, ctx),
  parse_xml: (a, ctx) => `TRY_CAST(lotl_parse_xml(${S(a[0], ctx)}) AS JSON)`,
  parse_user_agent: (a, ctx) => `CAST(lotl_parse_user_agent(${S(a[0], ctx)}) AS JSON)`,
  base64_decode_toarray: (a, ctx) =>
    `to_json(list_transform(range(octet_length(from_base64(${S(a[0], ctx)}))), i -> CAST(('0x' || substr(hex(from_base64(${S(a[0], ctx)})), CAST(2 * i + 1 AS INTEGER), 2)) AS INTEGER)))`,
  jaccard_index: (a, ctx) => {
    const x = `list_distinct(${jsonList(D(a[0], ctx))})`;
    const y = `list_distinct(${jsonList(D(a[1], ctx))})`;
    return `(len(list_intersect(${x}, ${y})) / nullif(len(list_distinct(list_concat(${x}, ${y}))), 0))`;
  },
  range: (a, ctx) => {
    const [from, to, step] = [X(a[0], ctx), X(a[1], ctx), a[2] ? X(a[2], ctx) : '1'];
    // A list of at most a million values, as Kusto's range() caps its array.
    const end = boundedEnd(from, to, step, 1_000_000, 'range()', a[0].typeName === 'datetime');
    return `to_json(generate_series(${from}, ${end}, ${step}))`;
  },
  // Numbers
  abs: (a, ctx) =>
    a[0].typeName === 'timespan' ? `to_microseconds(abs(epoch_us(${X(a[0], ctx)})))` : `abs(${N(a[0], ctx)})`,
  round: (a, ctx) => `round(${N(a[0], ctx)}${a[1] ? `, CAST(${X(a[1], ctx)} AS INTEGER)` : ''})`,
  ceiling: (a, ctx) => `ceil(${N(a[0], ctx)})`,
  sqrt: (a, ctx) => `sqrt(${N(a[0], ctx)})`,
  pow: (a, ctx) => `pow(${N(a[0], ctx)}, ${N(a[1], ctx)})`,
  log: (a, ctx) => `ln(${N(a[0], ctx)})`,
  log10: (a, ctx) => `log10(${N(a[0], ctx)})`,
  log2: (a, ctx) => `log2(${N(a[0], ctx)})`,
  exp: (a, ctx) => `exp(${N(a[0], ctx)})`,
  sign: (a, ctx) => `sign(${N(a[0], ctx)})`,
  rand: (a, ctx) => (a[0] ? `floor(random() * ${X(a[0], ctx)})` : 'random()'),
  max_of: (a, ctx) => `greatest(${a.map((x) => X(x, ctx)).join(', ')})`,
  min_of: (a, ctx) => `least(${a.map((x) => X(x, ctx)).join(', ')})`,
  binary_and: (a, ctx) => `(${X(a[0], ctx)} & ${X(a[1], ctx)})`,
  binary_or: (a, ctx) => `(${X(a[0], ctx)} | ${X(a[1], ctx)})`,
  binary_xor: (a, ctx) => `xor(${X(a[0], ctx)}, ${X(a[1], ctx)})`,
  binary_not: (a, ctx) => `(~${X(a[0], ctx)})`,
  binary_shift_left: (a, ctx) => `(${X(a[0], ctx)} << ${X(a[1], ctx)})`,
  binary_shift_right: (a, ctx) => `(${X(a[0], ctx)} >> ${X(a[1], ctx)})`,
  bin: (a, ctx) => binSql(a, ctx),
  floor: (a, ctx) => (a[1] ? binSql(a, ctx) : `floor(${N(a[0], ctx)})`),
  bin_at: (a, ctx) =>
    a[0].typeName === 'datetime'
      ? `time_bucket(${X(a[1], ctx)}, ${X(a[0], ctx)}, ${X(a[2], ctx)})`
      : `(floor((${X(a[0], ctx)} - ${X(a[2], ctx)}) / ${X(a[1], ctx)}) * ${X(a[1], ctx)} + ${X(a[2], ctx)})`,
  // Times
  now: (a, ctx) => (a[0] ? `(${nowSql(ctx)} + ${X(a[0], ctx)})` : nowSql(ctx)),
  ago: (a, ctx) => `(${nowSql(ctx)} - ${X(a[0], ctx)})`,
  startofday: startOf('day'),
  startofweek: startOf('week'),
  startofmonth: startOf('month'),
  startofyear: startOf('year'),
  endofday: endOf('day'),
  endofweek: endOf('week'),
  endofmonth: endOf('month'),
  endofyear: endOf('year'),
  datetime_add: (a, ctx) =>
    `(${time(a[2], ctx)} + to_${DATE_PARTS[datePart(a[0])]}(CAST(${X(a[1], ctx)} AS ${datePart(a[0]) === 'year' || datePart(a[0]) === 'month' ? 'INTEGER' : 'BIGINT'})))`,
  datetime_diff: (a, ctx) => `date_diff('${datePart(a[0])}', ${time(a[2], ctx)}, ${time(a[1], ctx)})`,
  datetime_part: (a, ctx) => `date_part('${datePart(a[0])}', ${time(a[1], ctx)})`,
  datepart: (a, ctx) => FUNCTIONS.datetime_part(a, ctx, a[0]),
  dayofweek: (a, ctx) => `to_days(CAST(dayofweek(${time(a[0], ctx)}) AS INTEGER))`,
  dayofmonth: (a, ctx) => `day(${time(a[0], ctx)})`,
  dayofyear: (a, ctx) => `dayofyear(${time(a[0], ctx)})`,
  hourofday: (a, ctx) => `hour(${time(a[0], ctx)})`,
  getmonth: (a, ctx) => `month(${time(a[0], ctx)})`,
  monthofyear: (a, ctx) => `month(${time(a[0], ctx)})`,
  getyear: (a, ctx) => `year(${time(a[0], ctx)})`,
  week_of_year: (a, ctx) => `weekofyear(${time(a[0], ctx)})`,
  format_datetime: (a, ctx) => `coalesce(strftime(${time(a[0], ctx)}, ${strftimeFormat(a[1])}), '')`,
  unixtime_seconds_todatetime: (a, ctx) =>
    `make_timestamp(CAST(CAST(${N(a[0], ctx)} AS DOUBLE) * 1000000 AS BIGINT))`,
  unixtime_milliseconds_todatetime: (a, ctx) =>
    `make_timestamp(CAST(CAST(${N(a[0], ctx)} AS DOUBLE) * 1000 AS BIGINT))`,
  totimespan: (a, ctx) => (a[0].typeName === 'timespan' ? X(a[0], ctx) : timespanText(S(a[0], ctx))),
  // Dynamic values
  array_length: (a, ctx) =>
    `(CASE WHEN json_type(${D(a[0], ctx)}) = 'ARRAY' THEN json_array_length(${D(a[0], ctx)}) END)`,
  arraylength: (a, ctx) => FUNCTIONS.array_length(a, ctx, a[0]),
  pack_array: (a, ctx) => `to_json([${a.map((x) => D(x, ctx)).join(', ')}])`,
  pack: (a, ctx) => jsonObject(a, ctx),
  bag_pack: (a, ctx) => jsonObject(a, ctx),
  pack_dictionary: (a, ctx) => jsonObject(a, ctx),
  pack_all: (_a, ctx) => (ctx.input ? `to_json(${ctx.input.alias})` : "CAST('{}' AS JSON)"),
  bag_keys: (a, ctx) => `to_json(json_keys(${D(a[0], ctx)}))`,
  bag_merge: (a, ctx) => a.map((x) => D(x, ctx)).reduce((x, y) => `json_merge_patch(${x}, ${y})`),
  array_concat: (a, ctx) =>
    `to_json(${a.map((x) => jsonList(D(x, ctx))).reduce((x, y) => `list_concat(${x}, ${y})`)})`,
  array_slice: (a, ctx) => {
    const from = `CAST(${X(a[1], ctx)} AS BIGINT)`;
    const to = `CAST(${X(a[2], ctx)} AS BIGINT)`;
    return `to_json(list_slice(${jsonList(D(a[0], ctx))}, CASE WHEN ${from} >= 0 THEN ${from} + 1 ELSE ${from} END, CASE WHEN ${to} >= 0 THEN ${to} + 1 ELSE ${to} END))`;
  },
  array_index_of: (a, ctx) => `coalesce(list_position(${jsonList(D(a[0], ctx))}, ${D(a[1], ctx)}) - 1, -1)`,
  set_has_element: (a, ctx) => `list_contains(${jsonList(D(a[0], ctx))}, ${D(a[1], ctx)})`,
  set_union: (a, ctx) =>
    `to_json(${distinctInOrder(a.map((x) => jsonList(D(x, ctx))).reduce((x, y) => `list_concat(${x}, ${y})`))})`,
  set_intersect: (a, ctx) =>
    `to_json(${a.map((x) => jsonList(D(x, ctx))).reduce((x, y) => `list_intersect(${x}, ${y})`)})`,
  set_difference: (a, ctx) => {
    const others = a.slice(1).map((x) => jsonList(D(x, ctx)));
    return `to_json(${distinctInOrder(`list_filter(${jsonList(D(a[0], ctx))}, e -> NOT (${others.map((o) => `list_contains(${o}, e)`).join(' OR ')}))`)})`;
  },
  array_sort_asc: (a, ctx) => `to_json(list_sort(${jsonList(D(a[0], ctx))}))`,
  array_sort_desc: (a, ctx) => `to_json(list_reverse_sort(${jsonList(D(a[0], ctx))}))`,
  strcat_array: (a, ctx) =>
    `coalesce(array_to_string(list_transform(${jsonList(D(a[0], ctx))}, e -> coalesce(json_extract_string(e, '$'), '')), ${S(a[1], ctx)}), '')`,
  // Networks
  ipv4_is_private: (a, ctx) =>
    `regexp_matches(${S(a[0], ctx)}, '^(10\\.|192\\.168\\.|172\\.(1[6-9]|2[0-9]|3[01])\\.)')`,
  parse_ipv4: (a, ctx) => ipNumber(S(a[0], ctx)),
  ipv4_is_in_range: (a, ctx) => ipInRange(S(a[0], ctx), S(a[1], ctx)),
  ipv4_is_match: (a, ctx) =>
    a[2]
      ? `(${ipNumber(S(a[0], ctx))} >> (32 - ${X(a[2], ctx)})) = (${ipNumber(S(a[1], ctx))} >> (32 - ${X(a[2], ctx)}))`
      : `(${ipNumber(S(a[0], ctx))} = ${ipNumber(S(a[1], ctx))})`,
  has_ipv4: (a, ctx) =>
    `regexp_matches(${S(a[0], ctx)}, '(^|[^0-9.])' || regexp_escape(${S(a[1], ctx)}) || '($|[^0-9.])')`,
  // Windows and row order
  row_number: () => 'row_number() OVER ()',
  prev: (a, ctx) =>
    `lag(${X(a[0], ctx)}, ${a[1] ? X(a[1], ctx) : '1'}${a[2] ? `, ${X(a[2], ctx)}` : ''}) OVER ()`,
  next: (a, ctx) =>
    `lead(${X(a[0], ctx)}, ${a[1] ? X(a[1], ctx) : '1'}${a[2] ? `, ${X(a[2], ctx)}` : ''}) OVER ()`,
  // Defender's cloud-side functions
  ingestion_time: (_a, ctx) => {
    const has = (c: string) => ctx.input?.columns.some((x) => x.name === c);
    return has('TimeGenerated')
      ? q('TimeGenerated')
      : has('Timestamp')
        ? q('Timestamp')
        : 'CAST(NULL AS TIMESTAMP)';
  },
  geo_info_from_ip_address: (_a, ctx, c) => {
    // Kusto returns an empty bag for addresses its GeoIP data does not know; offline none are known.
    ctx.warnings.push({
      message:
        'geo_info_from_ip_address(): GeoIP data comes from Microsoft’s cloud — not available offline, so every address gets an empty property bag',
      start: c.start,
      length: c.width,
    });
    return "CAST('{}' AS JSON)";
  },
};

/** Kusto's timespan text `[d.]hh:mm[:ss[.fffffff]]` as an interval (null when it is not one). */
function timespanText(s: string): string {
  const re = `'^(-?)(?:(\\d+)\\.)?(\\d{1,2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d+))?)?$'`;
  const g = (i: number) => `coalesce(TRY_CAST(nullif(regexp_extract(${s}, ${re}, ${i}), '') AS BIGINT), 0)`;
  const frac = `coalesce(TRY_CAST(rpad(nullif(regexp_extract(${s}, ${re}, 6), ''), 6, '0')[1:6] AS BIGINT), 0)`;
  const micros = `((${g(2)} * 24 + ${g(3)}) * 60 + ${g(4)}) * 60000000 + ${g(5)} * 1000000 + ${frac}`;
  return `(CASE WHEN regexp_matches(${s}, ${re}) THEN to_microseconds(CASE WHEN regexp_extract(${s}, ${re}, 1) = '-' THEN -1 ELSE 1 END * (${micros})) END)`;
}

function seriesCall(name: string, a: SyntaxNode[], ctx: Ctx): string {
  const rest = a.slice(1).map((x) => D(x, ctx));
  return `CAST(lotl_series('${name}', CAST(${D(a[0], ctx)} AS VARCHAR), CAST(to_json([${rest.join(', ')}]) AS VARCHAR)) AS JSON)`;
}

function toInteger(n: SyntaxNode, ctx: Ctx): string {
  if (n.typeName === 'string' || n.typeName === 'dynamic')
    return `TRY_CAST(TRY_CAST(${S(n, ctx)} AS DOUBLE) AS BIGINT)`;
  if (n.typeName === 'real' || n.typeName === 'decimal') return `TRY_CAST(trunc(${X(n, ctx)}) AS BIGINT)`;
  if (n.typeName === 'datetime') return `epoch_us(${X(n, ctx)}) * 10 + 621355968000000000`;
  if (n.typeName === 'timespan') return `epoch_us(${X(n, ctx)}) * 10`;
  return `TRY_CAST(${X(n, ctx)} AS BIGINT)`;
}

/** A branch of iff/case/coalesce in the call's result type (Kusto unifies them). */
function branch(n: SyntaxNode, c: SyntaxNode, ctx: Ctx): string {
  if (c.typeName === 'dynamic') return asDynamic(n, ctx);
  if (c.typeName === 'string') return asString(n, ctx);
  return scalar(n, ctx);
}

function parseJson(n: SyntaxNode, ctx: Ctx): string {
  if (n.typeName === 'dynamic') return scalar(n, ctx);
  if (n.typeName !== 'string') return asDynamic(n, ctx);
  // Valid JSON is parsed; anything else stays a string value (Kusto's rule, not null).
  const s = scalar(n, ctx);
  return `(CASE WHEN json_valid(${s}) THEN CAST(${s} AS JSON) ELSE to_json(${s}) END)`;
}

function jsonPath(a: SyntaxNode[], ctx: Ctx): string {
  const s = `json_extract_string(${a[1].typeName === 'dynamic' ? X(a[1], ctx) : `try(CAST(${S(a[1], ctx)} AS JSON))`}, ${S(a[0], ctx)})`;
  const type = a[2] ? a[2].text.replace(/^typeof\(|\)$/g, '').trim() : 'string';
  return type === 'string' ? `coalesce(${s}, '')` : `TRY_CAST(${s} AS ${SQL_TYPE[type] ?? 'VARCHAR'})`;
}

function jsonObject(a: SyntaxNode[], ctx: Ctx): string {
  const parts: string[] = [];
  for (let i = 0; i + 1 < a.length; i += 2) parts.push(`${S(a[i], ctx)}, ${D(a[i + 1], ctx)}`);
  return parts.length > 0 ? `json_object(${parts.join(', ')})` : "CAST('{}' AS JSON)";
}

function trimRegex(a: SyntaxNode[], ctx: Ctx, start: boolean, end: boolean): string {
  const r = S(a[0], ctx);
  const pattern = [start ? `'^(' || ${r} || ')+'` : '', end ? `'(' || ${r} || ')+$'` : '']
    .filter(Boolean)
    .join(" || '|' || ");
  return `regexp_replace(${S(a[1], ctx)}, ${pattern}, '', 'g')`;
}

function binSql(a: SyntaxNode[], ctx: Ctx): string {
  // Datetimes are binned from Kusto's origin, 0001-01-01 (so 7d bins match Kusto's).
  if (a[0].typeName === 'datetime')
    return `time_bucket(${X(a[1], ctx)}, ${X(a[0], ctx)}, TIMESTAMP '0001-01-01 00:00:00')`;
  if (a[0].typeName === 'timespan')
    return `to_microseconds(CAST(floor(epoch_us(${X(a[0], ctx)}) / epoch_us(${X(a[1], ctx)})) * epoch_us(${X(a[1], ctx)}) AS BIGINT))`;
  const v = `(floor(${N(a[0], ctx)} / ${X(a[1], ctx)}) * ${X(a[1], ctx)})`;
  return INTEGER.has(a[0].typeName ?? '') && INTEGER.has(a[1].typeName ?? '') ? `CAST(${v} AS BIGINT)` : v;
}

function ipInRange(ip: string, cidr: string): string {
  const net = `split_part(${cidr}, '/', 1)`;
  const bits = `coalesce(TRY_CAST(nullif(split_part(${cidr}, '/', 2), '') AS INTEGER), 32)`;
  return `((${ipNumber(ip)} >> (32 - ${bits})) = (${ipNumber(net)} >> (32 - ${bits})))`;
}

/** parse_url(): Kusto's property bag for a URL. */
function parseUrl(u: string): string {
  const re = `'^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?://(?:([^:@/]*)(?::([^@/]*))?@)?([^:/?#]*)(?::(\\d+))?)?([^?#]*)(?:\\?([^#]*))?(?:#(.*))?$'`;
  const g = (i: number) => `coalesce(regexp_extract(${u}, ${re}, ${i}), '')`;
  const query = g(7);
  const params = `(CASE WHEN ${query} = '' THEN CAST('{}' AS JSON) ELSE to_json(map_from_entries(list_transform(string_split(${query}, '&'), p -> {'k': split_part(p, '=', 1), 'v': coalesce(try(url_decode(split_part(p, '=', 2))), '')}))) END)`;
  return `json_object('Scheme', ${g(1)}, 'Host', ${g(4)}, 'Port', ${g(5)}, 'Path', ${g(6)}, 'Username', ${g(2)}, 'Password', ${g(3)}, 'Query Parameters', ${params}, 'Fragment', ${g(8)})`;
}

/** parse_path(): the parts of a Windows or Unix path. */
function parsePath(p: string): string {
  const dir = `coalesce(regexp_extract(${p}, '^(.*)[\\\\/][^\\\\/]*$', 1), '')`;
  const file = `coalesce(regexp_extract(${p}, '([^\\\\/]*)$', 1), '')`;
  return `json_object('Scheme', '', 'RootPath', coalesce(regexp_extract(${p}, '^([A-Za-z]:|\\\\\\\\[^\\\\]+)', 1), ''), 'DirectoryPath', ${dir}, 'DirectoryName', coalesce(regexp_extract(${dir}, '([^\\\\/]*)$', 1), ''), 'Filename', ${file}, 'Extension', coalesce(regexp_extract(${file}, '\\.([^.]*)$', 1), ''), 'AlternateDataStreamName', '')`;
}

function call(n: SyntaxNode, ctx: Ctx): string {
  const name = n.child(0).text.trim();
  const args = argsOf(n.child(1));
  if (ctx.functions.has(name)) return callUser(n, name, args, ctx);
  const fn = FUNCTIONS[name.toLowerCase()] ?? FUNCTIONS[name];
  if (!fn) return unsupported(n.child(0), `the function \`${name}()\``);
  return fn(args, ctx, n);
}

/** A let-bound function called in a scalar position: its body with the arguments bound. */
export function callUser(n: SyntaxNode, name: string, args: SyntaxNode[], ctx: Ctx): string {
  const decl = ctx.functions.get(name)!;
  const inner = bindParameters(decl, args, ctx, n);
  const body = decl.find('FunctionBody')[0];
  const expr = body.last();
  if (expr.columns().length > 0) return unsupported(n, 'a tabular function in a scalar position');
  return `(${scalar(expr, inner)})`;
}

/** A copy of the context with a function's parameters bound to the call's arguments (or defaults). */
export function bindParameters(
  decl: SyntaxNode,
  args: SyntaxNode[],
  ctx: Ctx,
  at: SyntaxNode,
  input?: string,
): Ctx {
  const inner: Ctx = {
    ...ctx,
    scalars: new Map(ctx.scalars),
    lists: new Map(ctx.lists),
    relations: new Map(ctx.relations),
  };
  const params = decl.find('FunctionParameter');
  // `invoke f()`: the piped rows are the first tabular parameter; the arguments fill the rest.
  let piped = input;
  let next = 0;
  for (const p of params) {
    const name = nameOf(p.find('NameDeclaration')[0]);
    const tabular = p.find('SchemaTypeExpression').length > 0;
    if (tabular && piped !== undefined) {
      inner.relations.set(name, piped);
      piped = undefined;
      continue;
    }
    const arg = args[next++];
    inner.lists.delete(name);
    if (arg) {
      if (tabular) inner.relations.set(name, ctx.tabular(arg, ctx));
      else inner.scalars.set(name, `(${scalar(arg, ctx)})`);
    } else {
      const def = p.find('DefaultValueDeclaration')[0];
      if (!def) return unsupported(at, `a call without the parameter ${name}`);
      inner.scalars.set(name, `(${scalar(def.last(), ctx)})`);
    }
  }
  // Lets inside the body.
  const body = decl.find('FunctionBody')[0];
  for (const let_ of body.find('LetStatement')) defineLet(let_, inner);
  return inner;
}

/** Records one `let name = value` in the context. */
export function defineLet(let_: SyntaxNode, ctx: Ctx): void {
  const name = nameOf(let_.child(1));
  const value = let_.child(3);
  if (value.kindName === 'FunctionDeclaration') {
    ctx.functions.set(name, value);
    return;
  }
  const array = literalArray(value);
  if (array) {
    ctx.lists.set(name, listValues(array, ctx));
    return;
  }
  if (value.columns().length > 0 && value.typeName !== 'dynamic') {
    const cte = `__${name.replace(/\W/g, '_')}_${ctx.n++}`;
    ctx.ctes.push(`${q(cte)} AS (${ctx.tabular(value, ctx)})`);
    ctx.relations.set(name, `SELECT * FROM ${q(cte)}`);
    return;
  }
  ctx.scalars.set(name, `(${scalar(value, ctx)})`);
}
