/**
 * KQL → DuckDB SQL, first slice: one tabular expression (no `let` yet) of a table piped through
 * where, project, extend, summarize, take/limit, sort/order, top, distinct and count, with the
 * scalar operators hunting queries use most. The binder (frontend.ts) has already named every
 * output column (`count_`, `dcount_DeviceName`, …): each stage selects exactly those columns, in
 * Kusto's order. Semantics follow docs/kql.md: `has` is term matching, string comparisons treat
 * null as empty, `sort` is descending by default. Anything else is refused with its position.
 */
import type { BoundQuery, SyntaxNode } from './frontend.js';

export class KqlUnsupportedError extends Error {
  constructor(
    message: string,
    readonly start: number,
    readonly length: number,
  ) {
    super(message);
  }
}

export interface CompileOptions {
  /** The instant `now()` and `ago()` count from (replaying old logs); default: the real now. */
  now?: Date;
}

const kind = (n: SyntaxNode) => n.kindName;
const unsupported = (n: SyntaxNode, what: string): never => {
  throw new KqlUnsupportedError(`${what} is not supported yet`, n.start, n.width);
};

export interface CompiledQuery {
  sql: string;
  /** The result's columns, named and typed as Kusto would. */
  columns: { name: string; type: string }[];
}

/** Compiles a bound query; throws KqlUnsupportedError for what this slice does not cover. */
export function compileKql(bound: BoundQuery, options: CompileOptions = {}): CompiledQuery {
  const now = (options.now ?? new Date()).toISOString();
  const statements = bound.root.find('ExpressionStatement');
  if (statements.length !== 1) unsupported(bound.root, 'a query that is not one tabular expression');
  const ctx: Ctx = { now, n: 0, scalars: new Map(), lists: new Map(), tables: [] };
  // let: scalars are substituted, literal lists expanded where they are used, tabular values
  // become common table expressions.
  for (const let_ of bound.root.find('LetStatement')) {
    const name = let_.child(1).text.trim();
    const value = let_.child(3);
    if (value.kindName === 'DynamicExpression' && value.find('JsonArrayExpression').length === 1) {
      ctx.lists.set(name, listValues(value.find('JsonArrayExpression')[0]));
    } else if (value.columns().length > 0) {
      ctx.tables.push(`${q(name)} AS (${tabular(value, ctx)})`);
    } else if (value.kindName === 'FunctionDeclaration' || value.find('FunctionParameters').length > 0) {
      unsupported(value, 'a user-defined function (`let f = (…) { … }`)');
    } else ctx.scalars.set(name, scalar(value, ctx));
  }
  const query = statements[0].child(0);
  const body = tabular(query, ctx);
  return {
    sql: ctx.tables.length > 0 ? `WITH ${ctx.tables.join(', ')} ${body}` : body,
    columns: query.columns(),
  };
}

interface Ctx {
  now: string;
  n: number;
  /** let-bound scalars, as SQL. */
  scalars: Map<string, string>;
  /** let-bound literal lists (`dynamic([...])`), expanded by in / has_any / has_all. */
  lists: Map<string, SyntaxNode[]>;
  /** let-bound tabular values, as common table expressions. */
  tables: string[];
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
const str = (s: string) => `'${s.replace(/'/g, "''")}'`;

function tabular(n: SyntaxNode, ctx: Ctx): string {
  switch (kind(n)) {
    case 'NameReference':
      return `SELECT * FROM ${q(n.text.trim())}`;
    case 'ParenthesizedExpression':
      return tabular(n.child(1), ctx);
    case 'UnionOperator':
      return union(n, unionLegs(n), ctx);
    case 'PipeExpression': {
      // `T | union U, V` is the union of T, U and V.
      if (n.child(2).kindName === 'UnionOperator')
        return union(n.child(2), [n.child(0), ...unionLegs(n.child(2))], ctx);
      const input = tabular(n.child(0), ctx);
      const from = `(${input}) AS t${ctx.n++}`;
      return operator(n.child(2), from, ctx);
    }
    default:
      return unsupported(n, `the tabular expression ${kind(n)}`);
  }
}

function unionLegs(op: SyntaxNode): SyntaxNode[] {
  return op
    .last()
    .children()
    .map((el) => el.child(0))
    .filter((e) => e && !e.isToken);
}

/** Rows of every leg, each leg giving the union's columns (null where it has no such column). */
function union(op: SyntaxNode, legs: SyntaxNode[], ctx: Ctx): string {
  const out = op.columns();
  return legs
    .map((leg) => {
      const has = new Set(leg.columns().map((c) => c.name));
      const select = out.map((c) => (has.has(c.name) ? q(c.name) : `NULL AS ${q(c.name)}`)).join(', ');
      return `SELECT ${select} FROM (${tabular(leg, ctx)}) AS t${ctx.n++}`;
    })
    .join(' UNION ALL ');
}

function operator(op: SyntaxNode, from: string, ctx: Ctx): string {
  const out = op.columns();
  switch (kind(op)) {
    case 'FilterOperator':
      return `SELECT * FROM ${from} WHERE ${scalar(op.last(), ctx)}`;
    case 'TakeOperator':
      return `SELECT * FROM ${from} LIMIT ${scalar(op.last(), ctx)}`;
    case 'CountOperator':
      return `SELECT count(*) AS ${q(out[0].name)} FROM ${from}`;
    case 'DistinctOperator': {
      if (op.find('StarExpression').length > 0) return `SELECT DISTINCT * FROM ${from}`;
      return `SELECT DISTINCT ${items(op, ctx)
        .map((e, i) => `${e.sql} AS ${q(out[i].name)}`)
        .join(', ')} FROM ${from}`;
    }
    case 'ProjectOperator':
      return `SELECT ${items(op, ctx)
        .map((e, i) => `${e.sql} AS ${q(out[i].name)}`)
        .join(', ')} FROM ${from}`;
    case 'ExtendOperator': {
      // Every output column in Kusto's order: new or replaced ones computed, the rest passed on.
      const added = items(op, ctx);
      // Unnamed expressions get the names the binder gave them (Column1, …), at the end.
      const defined = new Map(
        added.map((e, i) => [e.name ?? out[out.length - added.length + i].name, e.sql]),
      );
      return `SELECT ${out.map((c) => (defined.has(c.name) ? `${defined.get(c.name)} AS ${q(c.name)}` : q(c.name))).join(', ')} FROM ${from}`;
    }
    case 'SummarizeOperator': {
      const aggs = items(op, ctx, (n) => kind(n) !== 'SummarizeByClause');
      const byClause = op.find('SummarizeByClause')[0];
      const by = byClause ? items(byClause, ctx) : [];
      const select = [
        ...by.map((e, i) => `${e.sql} AS ${q(out[i].name)}`),
        ...aggs.map((e, i) => `${e.sql} AS ${q(out[by.length + i].name)}`),
      ];
      return `SELECT ${select.join(', ')} FROM ${from}${by.length > 0 ? ` GROUP BY ${by.map((_, i) => i + 1).join(', ')}` : ''}`;
    }
    case 'ProjectAwayOperator':
    case 'ProjectKeepOperator':
    case 'ProjectReorderOperator':
      // The binder has worked out which columns remain, in which order.
      return `SELECT ${out.map((c) => q(c.name)).join(', ')} FROM ${from}`;
    case 'ProjectRenameOperator': {
      const renamed = new Map(
        op.find('SimpleNamedExpression').map((e) => [e.child(0).text.trim(), e.child(2).text.trim()]),
      );
      return `SELECT ${out.map((c) => (renamed.has(c.name) ? `${q(renamed.get(c.name)!)} AS ${q(c.name)}` : q(c.name))).join(', ')} FROM ${from}`;
    }
    case 'RenderOperator':
      // A chart hint for the Kusto UI: the rows are the same.
      return `SELECT * FROM ${from}`;
    case 'SortOperator': {
      const keys = op
        .last()
        .children()
        .map((el) => el.child(0));
      return `SELECT * FROM ${from} ORDER BY ${ordering(keys, ctx)}`;
    }
    case 'TopOperator':
      return `SELECT * FROM ${from} ORDER BY ${ordering([op.last()], ctx)} LIMIT ${scalar(op.child(2), ctx)}`;
    default:
      return unsupported(op, `the operator \`${op.firstToken()}\``);
  }
}

/** Sort keys: descending unless `asc`; nulls first ascending, last descending, unless said (Kusto's rules). */
function ordering(keys: SyntaxNode[], ctx: Ctx): string {
  return keys
    .map((k) => {
      if (k.kindName !== 'OrderedExpression') return `${scalar(k, ctx)} DESC NULLS LAST`;
      const clause = k.find('OrderingClause')[0]?.text.toLowerCase() ?? '';
      const asc = /\basc\b/.test(clause);
      const nulls = /nulls\s+first/.test(clause)
        ? 'NULLS FIRST'
        : /nulls\s+last/.test(clause)
          ? 'NULLS LAST'
          : asc
            ? 'NULLS FIRST'
            : 'NULLS LAST';
      return `${scalar(k.child(0), ctx)} ${asc ? 'ASC' : 'DESC'} ${nulls}`;
    })
    .join(', ');
}

/** The comma-separated expressions of an operator, with the names `x = …` gives them. */
function items(
  op: SyntaxNode,
  ctx: Ctx,
  keep: (n: SyntaxNode) => boolean = () => true,
): { sql: string; name?: string }[] {
  const out: { sql: string; name?: string }[] = [];
  for (const list of op.children().filter((c) => c.isList && keep(c))) {
    for (const el of list.children()) {
      const e = el.child(0);
      if (!e || e.isToken) continue;
      if (kind(e) === 'SimpleNamedExpression')
        out.push({ name: e.child(0).text.trim(), sql: scalar(e.child(2), ctx) });
      else out.push({ sql: scalar(e, ctx) });
    }
  }
  return out;
}

const ALNUM = /[A-Za-z0-9]/;

/** Kusto's `has`: the needle at term boundaries where it starts or ends with a letter or digit. */
function hasTerm(haystack: string, needle: string): string {
  const lower = needle.toLowerCase();
  const escaped = lower.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  const head = ALNUM.test(lower[0] ?? '') ? '(^|[^a-z0-9])' : '';
  const tail = ALNUM.test(lower[lower.length - 1] ?? '') ? '($|[^a-z0-9])' : '';
  return `regexp_matches(lower(${haystack}), ${str(`${head}${escaped}${tail}`)})`;
}

function stringLiteral(n: SyntaxNode): string | null {
  if (kind(n) !== 'LiteralExpression') return null;
  const v = n.literalValue();
  return typeof v === 'string' ? v : null;
}

function listValues(n: SyntaxNode, ctx?: Ctx): SyntaxNode[] {
  const values = n
    .find('SeparatedElement')
    .map((e) => e.child(0))
    .filter((e) => e && !e.isToken);
  // `in (names)` where names is a let-bound dynamic([...]): its elements.
  return values.flatMap((v) => (v.kindName === 'NameReference' && ctx?.lists.get(v.text.trim())) || [v]);
}

const TIMESPAN_UNITS: Record<string, number> = {
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

function scalar(n: SyntaxNode, ctx: Ctx): string {
  switch (kind(n)) {
    case 'ParenthesizedExpression':
      return `(${scalar(n.child(1), ctx)})`;
    case 'NameReference': {
      const name = n.text.trim().replace(/^\['(.*)'\]$/, '$1');
      const bound = ctx.scalars.get(name);
      if (bound !== undefined) return bound;
      // Kusto has no null string: a missing string is empty.
      return n.typeName === 'string' ? `coalesce(${q(name)}, '')` : q(name);
    }
    case 'LiteralExpression': {
      const text = n.text.trim();
      const v = n.literalValue();
      if (typeof v === 'string') return str(v);
      if (typeof v === 'number' || typeof v === 'bigint') return String(v);
      if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
      const dt = /^datetime\((.*)\)$/i.exec(text);
      if (dt)
        return `TIMESTAMP ${str(new Date(Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(dt[1]) || !/T|\s\d/.test(dt[1]) ? dt[1] : `${dt[1]}Z`)).toISOString().replace('Z', ''))}`;
      const ts = /^(\d+(?:\.\d+)?)([a-z]+)$/i.exec(text);
      if (ts && TIMESPAN_UNITS[ts[2].toLowerCase()] !== undefined)
        return `to_microseconds(${Math.round(Number(ts[1]) * TIMESPAN_UNITS[ts[2].toLowerCase()])})`;
      if (/^(true|false)$/i.test(text)) return text.toUpperCase();
      if (/^-?\d+(\.\d+)?$/.test(text)) return text;
      return unsupported(n, `the literal ${text}`);
    }
    case 'BinaryExpression': {
      const left = n.child(0);
      const right = n.child(2);
      const op = n.child(1).text.trim().toLowerCase();
      const l = scalar(left, ctx);
      const needle = stringLiteral(right);
      switch (op) {
        case 'and':
          return `(${l} AND ${scalar(right, ctx)})`;
        case 'or':
          return `(${l} OR ${scalar(right, ctx)})`;
        case '==':
        case '!=':
        case '<':
        case '<=':
        case '>':
        case '>=':
          return `(${l} ${op === '==' ? '=' : op === '!=' ? '<>' : op} ${scalar(right, ctx)})`;
        case '+':
        case '-':
        case '*':
        case '/':
        case '%':
          return `(${l} ${op} ${scalar(right, ctx)})`;
        case '=~':
          return `(lower(${l}) = lower(${scalar(right, ctx)}))`;
        case '!~':
          return `(lower(${l}) <> lower(${scalar(right, ctx)}))`;
        case 'has':
        case '!has': {
          if (needle === null) return unsupported(right, '`has` with a computed needle');
          return `${op === '!has' ? 'NOT ' : ''}${hasTerm(l, needle)}`;
        }
        case 'contains':
        case '!contains':
          return `(${op === '!contains' ? 'NOT ' : ''}contains(lower(${l}), lower(${scalar(right, ctx)})))`;
        case 'matches regex':
          return `regexp_matches(${l}, ${scalar(right, ctx)})`;
        case 'contains_cs':
          return `contains(${l}, ${scalar(right, ctx)})`;
        case 'startswith':
        case '!startswith':
          return `(${op === '!startswith' ? 'NOT ' : ''}starts_with(lower(${l}), lower(${scalar(right, ctx)})))`;
        case 'endswith':
        case '!endswith':
          return `(${op === '!endswith' ? 'NOT ' : ''}ends_with(lower(${l}), lower(${scalar(right, ctx)})))`;
        default:
          return unsupported(n.child(1), `the operator \`${op}\``);
      }
    }
    case 'HasAllExpression':
    case 'HasAnyExpression': {
      const l = scalar(n.child(0), ctx);
      const needles = listValues(n.child(2), ctx).map(
        (v) => stringLiteral(v) ?? unsupported(v, 'a computed needle'),
      );
      const join = kind(n) === 'HasAllExpression' ? ' AND ' : ' OR ';
      return `(${needles.map((x) => hasTerm(l, x)).join(join)})`;
    }
    case 'InExpression': {
      const op = n.child(1).text.trim().toLowerCase();
      const folded = op.endsWith('~');
      const l = scalar(n.child(0), ctx);
      const values = listValues(n.child(2), ctx).map((v) => scalar(v, ctx));
      const set = values.map((v) => (folded ? `lower(${v})` : v)).join(', ');
      return `(${folded ? `lower(${l})` : l} ${op.startsWith('!') ? 'NOT IN' : 'IN'} (${set}))`;
    }
    case 'BetweenExpression': {
      // x between (a .. b): inclusive at both ends.
      const couple = n.child(2);
      const not = n.child(1).text.trim().startsWith('!');
      return `(${scalar(n.child(0), ctx)} ${not ? 'NOT ' : ''}BETWEEN ${scalar(couple.child(1), ctx)} AND ${scalar(couple.child(3), ctx)})`;
    }
    case 'PrefixUnaryExpression':
      return `(${n.child(0).text.trim()}${scalar(n.child(1), ctx)})`;
    case 'FunctionCallExpression':
      return call(n, ctx);
    default:
      return unsupported(n, `the expression ${kind(n)}`);
  }
}

function call(n: SyntaxNode, ctx: Ctx): string {
  const name = n.child(0).text.trim().toLowerCase();
  const args = listValues(n.child(1));
  const a = (i: number) => scalar(args[i], ctx);
  switch (name) {
    case 'count':
      return 'count(*)';
    case 'countif':
      return `count(*) FILTER (WHERE ${a(0)})`;
    case 'dcount':
      return `count(DISTINCT ${a(0)})`;
    case 'sum':
    case 'min':
    case 'max':
    case 'avg':
      return `${name}(${a(0)})`;
    case 'dcountif':
      return `count(DISTINCT ${a(0)}) FILTER (WHERE ${a(1)})`;
    case 'sumif':
      return `sum(${a(0)}) FILTER (WHERE ${a(1)})`;
    case 'extract':
      // extract(regex, group, text): '' when it does not match (null-free strings).
      return `coalesce(regexp_extract(${a(2)}, ${a(0)}, ${a(1)}), '')`;
    case 'tolong':
    case 'toint':
      return `TRY_CAST(${a(0)} AS BIGINT)`;
    case 'toreal':
    case 'todouble':
      return `TRY_CAST(${a(0)} AS DOUBLE)`;
    case 'make_set':
      return `to_json(list(DISTINCT ${a(0)}))`;
    case 'make_list':
      return `to_json(list(${a(0)}))`;
    case 'not':
      return `(NOT ${a(0)})`;
    case 'isempty':
      return `(${a(0)} IS NULL OR CAST(${a(0)} AS VARCHAR) = '')`;
    case 'isnotempty':
      return `(${a(0)} IS NOT NULL AND CAST(${a(0)} AS VARCHAR) <> '')`;
    case 'isnull':
      return `(${a(0)} IS NULL)`;
    case 'isnotnull':
      return `(${a(0)} IS NOT NULL)`;
    case 'tolower':
      return `lower(${a(0)})`;
    case 'toupper':
      return `upper(${a(0)})`;
    case 'strlen':
      return `length(${a(0)})`;
    case 'tostring':
      return `coalesce(CAST(${a(0)} AS VARCHAR), '')`;
    case 'strcat':
      return `concat(${args.map((_, i) => a(i)).join(', ')})`;
    case 'iff':
    case 'iif':
      return `(CASE WHEN ${a(0)} THEN ${a(1)} ELSE ${a(2)} END)`;
    case 'now':
      return `TIMESTAMP ${str(ctx.now.replace('Z', ''))}`;
    case 'ago':
      return `(TIMESTAMP ${str(ctx.now.replace('Z', ''))} - ${a(0)})`;
    case 'bin':
      if (args[0].typeName === 'datetime')
        return `time_bucket(${a(1)}, ${a(0)}, TIMESTAMP '1970-01-01 00:00:00')`;
      return `(floor(${a(0)} / ${a(1)}) * ${a(1)})`;
    default:
      return unsupported(n.child(0), `the function \`${name}()\``);
  }
}
