/**
 * KQL → the SQL tree (sql/tree.ts): the part of the language that every engine lotl runs on can
 * express — tables and unions, where, project (-away, -keep, -rename, -reorder), extend,
 * summarize with the common aggregates, sort, top, take, distinct, count — with the string,
 * comparison, time and conditional functions hunting queries use. A dialect writes the tree as
 * DuckDB or ClickHouse SQL (sql/render-query.ts); `lotl query --clickhouse` runs it. Anything else
 * is refused with its position (KqlUnsupportedError). The embedded store's compiler (to-sql.ts)
 * covers the whole language for DuckDB; this one is its portable subset, and a test holds the two
 * to the same rows.
 *
 * Times are counted in 100 ns ticks since 1970 (Kusto's resolution) as 64-bit integers on every
 * engine: a table's time columns are read as ticks (`ticks`), and literals, now() and ago() are
 * ticks computed here, so time arithmetic is integer arithmetic everywhere.
 */

import {
  binary,
  call,
  type SqlAggregate,
  type SqlExpr,
  type SqlQuery,
  type SqlType,
  value,
} from '../../sql/tree.js';
import { foldCase } from '../ir/predicate.js';
import type { BoundQuery, SyntaxNode } from './frontend.js';
import {
  argsOf,
  KqlUnsupportedError,
  listValues,
  nameOf,
  stringLiteral,
  TIMESPAN_UNITS,
  termPattern,
} from './sql-scalar.js';
import { operatorName, unionLegs, writtenItems } from './to-sql.js';

export interface TreeQuery {
  query: SqlQuery;
  /** The result's columns, named and typed as Kusto would. */
  columns: { name: string; type: string }[];
  /** The tables the query reads. */
  tables: string[];
}

interface Column {
  name: string;
  type: string;
}

interface Ctx {
  now: bigint;
  n: number;
  scalars: Map<string, SqlExpr>;
  lists: Map<string, SyntaxNode[]>;
  relations: Map<string, SyntaxNode>;
  /** The subquery alias the operator being compiled reads its columns through. */
  input?: string;
  tables: Set<string>;
}

const TICKS_PER_MS = 10_000n;
const kind = (n: SyntaxNode) => n.kindName;
const refuse = (n: SyntaxNode, what: string): never => {
  throw new KqlUnsupportedError(`${what} is not supported on this store yet`, n.start, n.width);
};
const TRUE = value(true);
const FALSE = value(false);
const EMPTY = value('');
const not = (e: SqlExpr): SqlExpr => ({ kind: 'not', of: e });
const and = (a: SqlExpr, b: SqlExpr) => binary('AND', a, b);
const or = (a: SqlExpr, b: SqlExpr) => binary('OR', a, b);

/** A Kusto type's SQL type (times and timespans are ticks). */
export const TREE_TYPE: Record<string, SqlType> = {
  string: 'text',
  guid: 'text',
  long: 'integer',
  int: 'integer',
  datetime: 'integer',
  timespan: 'integer',
  real: 'real',
  decimal: 'real',
  bool: 'boolean',
  dynamic: 'json',
};

/** Compiles a bound query to the tree; throws KqlUnsupportedError (with the position) past the subset. */
export function kqlToTree(bound: BoundQuery, options: { now?: Date } = {}): TreeQuery {
  const ctx: Ctx = {
    now: BigInt((options.now ?? new Date()).getTime()) * TICKS_PER_MS,
    n: 0,
    scalars: new Map(),
    lists: new Map(),
    relations: new Map(),
    tables: new Set(),
  };
  let body: SyntaxNode | undefined;
  for (const statement of statementsOf(bound.root)) {
    if (statement.kindName === 'LetStatement') defineLet(statement, ctx);
    else if (statement.kindName === 'ExpressionStatement') body = statement.child(0);
    else if (statement.kindName !== 'SetOptionStatement' && statement.kindName !== 'QueryParametersStatement')
      refuse(statement, `the statement ${statement.kindName}`);
  }
  if (!body) return refuse(bound.root, 'a query without a tabular expression');
  const query = tabular(body, ctx);
  const columns = body.columns();
  // The result's columns in Kusto's order, whatever the last operator kept.
  return { query: reselect(query, columns, ctx), columns, tables: [...ctx.tables] };
}

function statementsOf(root: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (const list of root.children().filter((c) => c.isList))
    for (const el of list.children()) if (el.kindName === 'SeparatedElement') out.push(el.child(0));
  return out;
}

function defineLet(let_: SyntaxNode, ctx: Ctx): void {
  const name = nameOf(let_.child(1));
  const v = let_.child(3);
  if (v.kindName === 'FunctionDeclaration') refuse(v, 'a user-defined function');
  if (v.kindName === 'DynamicExpression') {
    const inner = v.children().find((c) => !c.isToken);
    if (inner?.kindName === 'JsonArrayExpression') {
      ctx.lists.set(name, listValues(inner, listCtx(ctx)));
      return;
    }
    refuse(v, 'a dynamic value');
  }
  if (v.columns().length > 0) {
    ctx.relations.set(name, v);
    return;
  }
  ctx.scalars.set(name, scalar(v, ctx));
}

/** listValues expands let-bound lists through this much of the context. */
const listCtx = (ctx: Ctx) => ({ lists: ctx.lists }) as unknown as Parameters<typeof listValues>[1];

const sourceOf = (query: SqlQuery, alias: string) => ({ kind: 'query', query, alias }) as const;
const col = (name: string, table?: string): SqlExpr => ({ kind: 'column', name, table });

/**
 * A SELECT of named expressions over `input` in two steps: the expressions under internal names,
 * then renamed. ClickHouse replaces a name by a same-named alias of the same SELECT (`SELECT b AS
 * a, a AS b` reads the wrong columns); internal names never meet the query's own.
 */
function projected(
  input: SqlQuery,
  alias: string,
  items: { expr: SqlExpr; as: string }[],
  ctx: Ctx,
  extra: { groupBy?: SqlExpr[]; distinct?: boolean } = {},
): SqlQuery {
  const inner: SqlQuery = {
    kind: 'select',
    columns: items.map((it, i) => ({ expr: it.expr, as: `__lotl_${i}` })),
    from: sourceOf(input, alias),
    groupBy: extra.groupBy,
    distinct: extra.distinct,
  };
  const outer = `t${ctx.n++}`;
  return {
    kind: 'select',
    columns: items.map((it, i) => ({ expr: col(`__lotl_${i}`, outer), as: it.as })),
    from: sourceOf(inner, outer),
  };
}

/** Exactly these columns of a query, in this order. */
function reselect(query: SqlQuery, columns: Column[], ctx: Ctx): SqlQuery {
  const alias = `t${ctx.n++}`;
  return projected(
    query,
    alias,
    columns.map((c) => ({ expr: col(c.name, alias), as: c.name })),
    ctx,
  );
}

function tabular(n: SyntaxNode, ctx: Ctx): SqlQuery {
  switch (kind(n)) {
    case 'NameReference': {
      const name = nameOf(n);
      const relation = ctx.relations.get(name);
      if (relation) return tabular(relation, ctx);
      if (n.referencedKind !== 'Table') return refuse(n, `the tabular value ${name}`);
      ctx.tables.add(name);
      return { kind: 'select', columns: null, from: { kind: 'table', name } };
    }
    case 'ParenthesizedExpression':
      return tabular(n.child(1), ctx);
    case 'UnionOperator':
      return union(n, unionLegs(n), ctx);
    case 'PipeExpression': {
      if (n.child(2).kindName === 'UnionOperator')
        return union(n.child(2), [n.child(0), ...unionLegs(n.child(2))], ctx);
      return operator(n.child(2), tabular(n.child(0), ctx), n.child(0).columns(), ctx);
    }
    default:
      return refuse(
        n,
        /Operator$/.test(kind(n))
          ? `the operator \`${operatorName(n)}\``
          : `the tabular expression ${kind(n)}`,
      );
  }
}

/** Every leg's rows with the union's columns: typed nulls where a leg has no such column. */
function union(op: SyntaxNode, legs: SyntaxNode[], ctx: Ctx): SqlQuery {
  const out = op.columns();
  return {
    kind: 'union_all',
    queries: legs.map((leg) => {
      const has = new Map(leg.columns().map((c) => [c.name, c.type]));
      const input = tabular(leg, ctx);
      const alias = `t${ctx.n++}`;
      return projected(
        input,
        alias,
        out.map((c) => {
          // Same-named columns of different types are named Name_type by the binder.
          const typed = /^(.*)_(string|long|int|real|bool|datetime|timespan|dynamic|guid)$/.exec(c.name);
          const source = has.has(c.name) ? c.name : typed && has.get(typed[1]) === typed[2] ? typed[1] : null;
          const type = TREE_TYPE[c.type] ?? 'text';
          // Each leg's column cast to the union's type: engines want the legs' types to agree.
          return {
            expr: { kind: 'cast', of: source ? col(source, alias) : value(null), type },
            as: c.name,
          };
        }),
        ctx,
      );
    }),
  };
}

function operator(op: SyntaxNode, input: SqlQuery, inputColumns: Column[], ctx: Ctx): SqlQuery {
  const alias = `t${ctx.n++}`;
  const saved = ctx.input;
  ctx.input = alias;
  try {
    return operatorOn(op, input, alias, inputColumns, ctx);
  } finally {
    ctx.input = saved;
  }
}

function operatorOn(
  op: SyntaxNode,
  input: SqlQuery,
  alias: string,
  inputColumns: Column[],
  ctx: Ctx,
): SqlQuery {
  const out = op.columns();
  const from = sourceOf(input, alias);
  const passOn = (c: Column) => ({ expr: col(c.name, alias), as: c.name });
  switch (kind(op)) {
    case 'FilterOperator':
      return { kind: 'select', columns: null, from, where: condition(op.last(), ctx) };
    case 'TakeOperator':
      return { kind: 'select', columns: null, from, limit: count(op.last()) };
    case 'CountOperator':
      return projected(input, alias, [{ expr: aggregate('count', []), as: out[0].name }], ctx, {
        groupBy: [],
      });
    case 'DistinctOperator':
      if (op.find('StarExpression').length > 0)
        return projected(input, alias, inputColumns.map(passOn), ctx, { distinct: true });
      return projected(input, alias, named(items(op, ctx), out), ctx, { distinct: true });
    case 'ProjectOperator':
      return projected(input, alias, named(items(op, ctx), out), ctx);
    case 'ExtendOperator': {
      const defined = new Map(
        named(items(op, ctx), out, new Set(inputColumns.map((c) => c.name))).map((d) => [d.as, d.expr]),
      );
      return projected(
        input,
        alias,
        out.map((c) => ({ expr: defined.get(c.name) ?? col(c.name, alias), as: c.name })),
        ctx,
      );
    }
    case 'ProjectAwayOperator':
    case 'ProjectKeepOperator':
    case 'ProjectReorderOperator':
      // The binder has worked out which columns remain, in which order.
      return projected(input, alias, out.map(passOn), ctx);
    case 'ProjectRenameOperator': {
      const renamed = new Map(
        op.find('SimpleNamedExpression').map((e) => [nameOf(e.child(0)), nameOf(e.child(2))]),
      );
      return projected(
        input,
        alias,
        out.map((c) => ({ expr: col(renamed.get(c.name) ?? c.name, alias), as: c.name })),
        ctx,
      );
    }
    case 'SummarizeOperator':
      return summarize(op, input, alias, out, ctx);
    case 'SortOperator': {
      const keys = op
        .last()
        .children()
        .map((el) => el.child(0))
        .filter((e) => e && !e.isToken);
      return { kind: 'select', columns: null, from, orderBy: ordering(keys, ctx) };
    }
    case 'TopOperator':
      return {
        kind: 'select',
        columns: null,
        from,
        orderBy: ordering([op.last()], ctx),
        limit: count(op.child(2)),
      };
    case 'RenderOperator':
    case 'AsOperator':
      // A chart hint for the Kusto UI, or a name for the result: the rows are the same.
      return input;
    default:
      return refuse(op, `the operator \`${operatorName(op)}\``);
  }
}

/** take / top counts: a whole number written in the query. */
function count(n: SyntaxNode): number {
  const v = n.literalValue();
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    return refuse(n, 'a row count that is not a literal');
  return v;
}

interface Item {
  expr: SqlExpr;
  name?: string;
  node: SyntaxNode;
}

/** The comma-separated expressions of an operator, compiled, with their names (no tuples). */
function items(op: SyntaxNode, ctx: Ctx, keep: (n: SyntaxNode) => boolean = () => true): Item[] {
  return writtenItems(op, keep).map((it) =>
    it.names
      ? refuse(it.written, 'a tuple of names')
      : { name: it.name, node: it.node, expr: scalar(it.node, ctx) },
  );
}

/**
 * Items with their output names: written ones as written, the others the binder's, in order
 * (`taken`: names that are not new, for extend).
 */
function named(list: Item[], out: Column[], taken = new Set<string>()): { expr: SqlExpr; as: string }[] {
  const given = new Set(list.flatMap((e) => (e.name ? [e.name] : [])));
  // A bare column keeps its name; other unnamed expressions take the binder's fresh names.
  const fresh = out.map((c) => c.name).filter((name) => !given.has(name) && !taken.has(name));
  return list.map((e) => {
    if (e.name) return { expr: e.expr, as: e.name };
    if (e.node.kindName === 'NameReference' && !taken.has(nameOf(e.node))) {
      const name = nameOf(e.node);
      fresh.splice(fresh.indexOf(name), 1);
      return { expr: e.expr, as: name };
    }
    return { expr: e.expr, as: fresh.shift() ?? '' };
  });
}

/** Sort keys: descending unless `asc`; nulls first ascending, last descending, unless said. */
function ordering(keys: SyntaxNode[], ctx: Ctx) {
  return keys.map((k) => {
    if (k.kindName !== 'OrderedExpression') return { expr: scalar(k, ctx), desc: true, nullsFirst: false };
    const clause = k.find('OrderingClause')[0]?.text.toLowerCase() ?? '';
    const asc = /\basc\b/.test(clause);
    const nullsFirst = /nulls\s+first/.test(clause) ? true : /nulls\s+last/.test(clause) ? false : asc;
    return { expr: scalar(k.child(0), ctx), desc: !asc, nullsFirst };
  });
}

const aggregate = (fn: SqlAggregate, args: SqlExpr[]): SqlExpr => ({ kind: 'aggregate', fn, args });

/** summarize: the by-expressions, then the aggregates in written order. */
function summarize(op: SyntaxNode, input: SqlQuery, alias: string, out: Column[], ctx: Ctx): SqlQuery {
  const byClause = op.find('SummarizeByClause')[0];
  const by = byClause ? items(byClause, ctx) : [];
  const list: { expr: SqlExpr; as: string }[] = by.map((e, i) => ({ expr: e.expr, as: out[i].name }));
  let k = by.length;
  for (const list_ of op.children().filter((c) => c.isList && kind(c) !== 'SummarizeByClause')) {
    for (const el of list_.children()) {
      const e = el.child(0);
      if (!e || e.isToken) continue;
      const callNode = kind(e) === 'SimpleNamedExpression' ? e.child(2) : e;
      if (kind(e) === 'CompoundNamedExpression') refuse(e, 'a tuple of names');
      if (callNode.typeName === 'tuple') {
        // arg_max(by, a, b): each column the value of the row where `by` is greatest.
        const { fn, args } = callOf(callNode);
        if (fn !== 'arg_max' && fn !== 'arg_min') return refuse(callNode, `\`${fn}()\` as an aggregate`);
        if (args.some((a) => a.kindName === 'StarExpression'))
          refuse(callNode, `${fn}() of every column (*)`);
        const width = callNode.columns().length;
        const by_ = scalar(args[0], ctx);
        list.push({ expr: aggregate(fn === 'arg_max' ? 'max' : 'min', [by_]), as: out[k].name });
        for (let j = 1; j < width; j++)
          list.push({ expr: aggregate(fn, [scalar(args[j], ctx), by_]), as: out[k + j].name });
        k += width;
        continue;
      }
      list.push({ expr: aggregateOf(callNode, ctx), as: out[k].name });
      k++;
    }
  }
  return projected(input, alias, list, ctx, { groupBy: by.map((e) => e.expr) });
}

function callOf(n: SyntaxNode): { fn: string; args: SyntaxNode[] } {
  if (n.kindName !== 'FunctionCallExpression') return refuse(n, 'this aggregate');
  return { fn: n.child(0).text.trim().toLowerCase(), args: argsOf(n.child(1)) };
}

function aggregateOf(n: SyntaxNode, ctx: Ctx): SqlExpr {
  const { fn, args } = callOf(n);
  const x = () => scalar(args[0], ctx);
  switch (fn) {
    case 'count':
      return aggregate('count', []);
    case 'countif':
      return aggregate('count_if', [condition(args[0], ctx)]);
    case 'dcount':
    case 'count_distinct':
      return aggregate('count_distinct', [x()]);
    case 'min':
    case 'max':
    case 'sum':
    case 'avg':
      return aggregate(fn, [x()]);
    case 'take_any':
    case 'any':
      if (args.length !== 1) return refuse(n, `${fn}() of several columns`);
      return aggregate('any', [x()]);
    case 'make_set':
    case 'makeset':
    case 'make_list':
    case 'makelist':
      if (args.length > 1) return refuse(n, `${fn}() with a size limit`);
      if (args[0].typeName === 'dynamic' || args[0].typeName === 'datetime')
        return refuse(n, `${fn}() of ${args[0].typeName} values`);
      return aggregate(fn.includes('set') ? 'set' : 'list', [x()]);
    default:
      return refuse(n, `\`${fn}()\` as an aggregate`);
  }
}

// ---------------------------------------------------------------------------------------------
// Scalars

/** A condition: as written, null (an absent value) counting as false. */
function condition(n: SyntaxNode, ctx: Ctx): SqlExpr {
  return call('coalesce', scalar(n, ctx), FALSE);
}

function scalar(n: SyntaxNode, ctx: Ctx): SqlExpr {
  switch (kind(n)) {
    case 'ParenthesizedExpression':
      return scalar(n.child(1), ctx);
    case 'NameReference':
      return nameRef(n, ctx);
    case 'LiteralExpression':
    case 'CompoundStringLiteralExpression':
      return literal(n);
    case 'BinaryExpression':
      return binaryOf(n, ctx);
    case 'HasAnyExpression':
    case 'HasAllExpression': {
      const l = text(n.child(0), ctx);
      const values = listValues(n.child(2), listCtx(ctx));
      if (values.length === 0) return FALSE;
      const tests = values.map((v) => hasTerm(l, v));
      return tests.reduce(kind(n) === 'HasAllExpression' ? and : or);
    }
    case 'InExpression':
      return inList(n, ctx);
    case 'BetweenExpression': {
      const couple = n.child(2);
      const negated = n.child(1).text.trim().startsWith('!');
      const left = n.child(0);
      const [lo, hi] = [couple.child(1), couple.child(3)];
      const x = scalar(left, ctx);
      const a = scalar(lo, ctx);
      const b =
        left.typeName === 'datetime' && hi.typeName === 'timespan'
          ? binary('+', a, scalar(hi, ctx))
          : scalar(hi, ctx);
      const test = and(binary('>=', x, a), binary('<=', x, b));
      return negated ? not(test) : test;
    }
    case 'PrefixUnaryExpression': {
      const sign = n.child(0).text.trim();
      const v = scalar(n.child(1), ctx);
      if (sign === '+') return v;
      if (v.kind === 'value' && typeof v.value === 'number') return value(-v.value);
      if (v.kind === 'value' && typeof v.value === 'bigint') return value(-v.value);
      return binary('-', value(0), v);
    }
    case 'FunctionCallExpression':
      return callExpr(n, ctx);
    case 'SimpleNamedExpression':
      return scalar(n.child(2), ctx);
    default:
      return refuse(n, `the expression ${kind(n)}`);
  }
}

function nameRef(n: SyntaxNode, ctx: Ctx): SqlExpr {
  const name = nameOf(n);
  if (n.referencedKind !== 'Column') {
    const bound = ctx.scalars.get(name);
    if (bound) return bound;
    return refuse(n, `the value ${name}`);
  }
  const c = col(name, ctx.input);
  // Kusto has no null string: a missing string is empty.
  return n.typeName === 'string' ? call('coalesce', c, EMPTY) : c;
}

const INT64 = [-(2n ** 63n), 2n ** 63n - 1n] as const;

function integer(text: string, n: SyntaxNode): SqlExpr {
  const m = /^([+-]?)(?:(\d+)|0x([0-9a-f]+))$/i.exec(text);
  if (!m) return refuse(n, `the literal ${text}`);
  const magnitude = m[2] !== undefined ? BigInt(m[2]) : BigInt(`0x${m[3]}`);
  const v = m[1] === '-' ? -magnitude : magnitude;
  if (v < INT64[0] || v > INT64[1]) return refuse(n, `the literal ${text}`);
  return value(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
}

function literal(n: SyntaxNode): SqlExpr {
  if (n.kindName === 'CompoundStringLiteralExpression')
    return value(
      n
        .find('LiteralExpression')
        .map((l) => l.literalValue())
        .join(''),
    );
  const text = n.text.trim();
  if (n.typeName === 'string') {
    const v = n.literalValue();
    if (typeof v === 'string') return value(v);
  }
  const typed = /^([a-z]+)\((.*)\)$/is.exec(text);
  const [type, inner] = typed ? [typed[1].toLowerCase(), typed[2].trim()] : [n.typeName ?? '', text];
  if (/^null$/i.test(inner)) return value(null);
  switch (type) {
    case 'datetime':
    case 'date':
      return value(datetimeTicks(inner) ?? refuse(n, `the literal ${text}`));
    case 'timespan':
    case 'time':
      return value(timespanTicks(inner) ?? refuse(n, `the literal ${text}`));
    case 'long':
    case 'int':
      return integer(inner, n);
    case 'real':
    case 'double':
    case 'decimal': {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(inner) || !Number.isFinite(Number(inner)))
        return refuse(n, `the literal ${text}`);
      return value(Number(inner));
    }
    case 'bool':
    case 'boolean': {
      const t = inner.toLowerCase();
      return t === 'true' || t === '1'
        ? TRUE
        : t === 'false' || t === '0'
          ? FALSE
          : refuse(n, `the literal ${text}`);
    }
    case 'guid':
    case 'string':
      return value(inner);
    default:
      return refuse(n, `the literal ${text}`);
  }
}

/** An ISO 8601 time (UTC unless it says otherwise) as ticks, every digit of its fraction kept. */
export function datetimeTicks(s: string): bigint | null {
  const zoned = /[zZ]|[+-]\d\d:?\d\d$/.test(s) || !/T|\s\d/.test(s) ? s : `${s}Z`;
  const ms = Date.parse(zoned);
  if (!Number.isFinite(ms)) return null;
  const frac = /\.(\d+)/.exec(s)?.[1] ?? '';
  // Date keeps milliseconds; ticks 4 to 7 of the fraction added back.
  const sub = frac.length > 3 ? BigInt(frac.slice(3, 7).padEnd(4, '0')) : 0n;
  return BigInt(ms) * TICKS_PER_MS + sub;
}

/** `1h`, `30m`, `2.5d`, `00:05:00`, `1.02:00:00` as ticks. */
export function timespanTicks(text: string): bigint | null {
  const unit = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(text);
  // (The units' lengths in microseconds, as the embedded compiler counts them; ten ticks each.)
  const micros = unit ? TIMESPAN_UNITS[unit[2].toLowerCase()] : undefined;
  if (unit && micros !== undefined) return BigInt(Math.round(Number(unit[1]) * micros * 10));
  const clock = /^(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$/.exec(text);
  if (clock) {
    const [, d = '0', h, m, s = '0', f = ''] = clock;
    const seconds = ((BigInt(d) * 24n + BigInt(h)) * 60n + BigInt(m)) * 60n + BigInt(s);
    return seconds * 10_000_000n + BigInt(f.padEnd(7, '0') || '0');
  }
  return null;
}

/** A value as Kusto's tostring() gives it, never null; what the tree cannot write so is refused. */
function text(n: SyntaxNode, ctx: Ctx): SqlExpr {
  switch (n.typeName) {
    case 'string':
    case 'guid':
      return scalar(n, ctx);
    case 'long':
    case 'int':
    case 'real':
      return call('coalesce', call('to_text', scalar(n, ctx)), EMPTY);
    case 'bool':
      return {
        kind: 'case',
        whens: [
          { when: binary('=', scalar(n, ctx), TRUE), result: value('true') },
          { when: binary('=', scalar(n, ctx), FALSE), result: value('false') },
        ],
        else: EMPTY,
      };
    case 'dynamic': {
      // A member of an object column (EventData.CommandLine): its text.
      if (n.kindName === 'PathExpression' && n.child(0).kindName === 'NameReference') {
        const member = n
          .child(2)
          .text.trim()
          .replace(/^\['(.*)'\]$|^\["(.*)"\]$/, '$1$2');
        return call(
          'coalesce',
          { kind: 'json_member', of: col(nameOf(n.child(0)), ctx.input), key: member },
          EMPTY,
        );
      }
      // split(text, separator)[i]: one part.
      if (n.kindName === 'ElementExpression' && n.child(0).kindName === 'FunctionCallExpression') {
        const { fn, args } = callOf(n.child(0));
        const index = n.child(1).child(1);
        const at =
          index.kindName === 'PrefixUnaryExpression' && /^-\s*\d+$/.test(index.text.trim())
            ? -Number(index.text.trim().slice(1).trim())
            : index.literalValue();
        if (fn === 'split' && typeof at === 'number' && Number.isSafeInteger(at) && args.length <= 3) {
          const part = args.length === 3 ? args[2].literalValue() : undefined;
          if (args.length === 3 && (typeof part !== 'number' || at !== 0)) return refuse(n, 'this split()');
          const i = typeof part === 'number' ? part : at;
          const separator = stringLiteral(args[1]);
          if (separator === null || separator === '')
            return refuse(args[1], 'split() at a separator that is not a literal');
          // Kusto counts parts from 0 (negative: from the end); SQL from 1.
          const part_: SqlExpr = {
            kind: 'split_part',
            of: text(args[0], ctx),
            separator,
            index: i >= 0 ? i + 1 : i,
          };
          return call('coalesce', part_, EMPTY);
        }
      }
      return refuse(n, 'a dynamic value as text');
    }
    default:
      return refuse(n, `a ${n.typeName ?? 'value'} as text`);
  }
}

/** Kusto's `has` (sql-scalar.ts termPattern): on the folded text unless cased. */
function hasTerm(
  haystack: SqlExpr,
  needleNode: SyntaxNode,
  mode: 'has' | 'prefix' | 'suffix' = 'has',
  cased = false,
): SqlExpr {
  const needle = stringLiteral(needleNode);
  if (needle === null) return refuse(needleNode, '`has` with a needle that is not a literal');
  const folded = cased ? needle : foldCase(needle);
  const h = cased ? haystack : call('lower', haystack);
  const pattern = termPattern(folded, mode, cased);
  if (pattern === null) return call('contains', h, value(folded));
  return { kind: 'regex', of: h, pattern, ignoreCase: false };
}

/** A string operand folded for a case-insensitive test (a literal folded here). */
function foldedText(n: SyntaxNode, ctx: Ctx): SqlExpr {
  const literal_ = stringLiteral(n);
  return literal_ !== null ? value(foldCase(literal_)) : call('lower', text(n, ctx));
}

function inList(n: SyntaxNode, ctx: Ctx): SqlExpr {
  const op = n.child(1).text.trim().toLowerCase();
  const folded = op.endsWith('~');
  const negated = op.startsWith('!');
  const left = n.child(0);
  const values = listValues(n.child(2), listCtx(ctx));
  if (values.some((v) => v.columns().length > 0 && v.typeName !== 'dynamic'))
    return refuse(n.child(2), '`in` over a tabular expression');
  if (values.length === 0) return negated ? TRUE : FALSE;
  const stringy = left.typeName === 'string' || folded;
  const l = folded ? call('lower', text(left, ctx)) : stringy ? text(left, ctx) : scalar(left, ctx);
  const list = values.map((v) => (folded ? foldedText(v, ctx) : stringy ? text(v, ctx) : scalar(v, ctx)));
  const test: SqlExpr = { kind: 'in', of: l, list };
  return negated ? not(test) : test;
}

const NUMERIC = new Set(['long', 'int', 'real', 'decimal']);
const INTEGER = new Set(['long', 'int']);

function binaryOf(n: SyntaxNode, ctx: Ctx): SqlExpr {
  const left = n.child(0);
  const right = n.child(2);
  const op = n.child(1).text.trim().toLowerCase();
  const negate = (e: SqlExpr) => (op.startsWith('!') ? not(e) : e);
  switch (op) {
    case 'and':
      return and(scalar(left, ctx), scalar(right, ctx));
    case 'or':
      return or(scalar(left, ctx), scalar(right, ctx));
    case '==':
    case '!=':
    case '<>':
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const lt = left.typeName ?? '';
      const rt = right.typeName ?? '';
      // Strings against numbers (EventID == '4688') compare as text, as Kusto converts them.
      const asText =
        lt !== rt && (lt === 'string' || rt === 'string' || lt === 'dynamic' || rt === 'dynamic');
      const [l, r] = asText ? [text(left, ctx), text(right, ctx)] : [scalar(left, ctx), scalar(right, ctx)];
      return binary(op === '==' ? '=' : op === '!=' ? '<>' : (op as '<'), l, r);
    }
    case '+':
    case '-':
    case '*':
    case '/':
    case '%': {
      const lt = left.typeName ?? '';
      const rt = right.typeName ?? '';
      const [l, r] = [scalar(left, ctx), scalar(right, ctx)];
      if (
        !(NUMERIC.has(lt) || lt === 'datetime' || lt === 'timespan') ||
        !(NUMERIC.has(rt) || rt === 'timespan' || rt === 'datetime')
      )
        return refuse(n.child(1), `\`${op}\` of ${lt} and ${rt}`);
      if (op === '/' && INTEGER.has(lt) && INTEGER.has(rt)) return call('int_div', l, r);
      // A timespan divided by a timespan is a number of times.
      if (op === '/' && lt === 'timespan' && rt === 'timespan')
        return binary('/', { kind: 'cast', of: l, type: 'real' }, r);
      if ((op === '*' || op === '/') && (lt === 'timespan' || rt === 'timespan'))
        return call('to_integer', binary(op, l, r));
      return binary(op, l, r);
    }
    case '=~':
    case '!~':
      return negate(binary('=', foldedText(left, ctx), foldedText(right, ctx)));
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
      return negate(hasTerm(text(left, ctx), right, mode, op.endsWith('_cs')));
    }
    case 'contains':
    case '!contains':
    case 'startswith':
    case '!startswith':
    case 'endswith':
    case '!endswith': {
      const fn = op.includes('contains') ? 'contains' : op.includes('starts') ? 'starts_with' : 'ends_with';
      return negate(call(fn, call('lower', text(left, ctx)), foldedText(right, ctx)));
    }
    case 'contains_cs':
    case '!contains_cs':
    case 'startswith_cs':
    case '!startswith_cs':
    case 'endswith_cs':
    case '!endswith_cs': {
      const fn = op.includes('contains') ? 'contains' : op.includes('starts') ? 'starts_with' : 'ends_with';
      return negate(call(fn, text(left, ctx), text(right, ctx)));
    }
    case 'matches regex': {
      const pattern = stringLiteral(right);
      if (pattern === null) return refuse(right, 'a regular expression that is not a literal');
      return { kind: 'regex', of: text(left, ctx), pattern, ignoreCase: false };
    }
    default:
      return refuse(n.child(1), `the operator \`${op}\``);
  }
}

const DAY = 864_000_000_000n;

/** A time (or number) rounded down to a multiple of a size: t - ((t % s) + s) % s. */
function floorTo(t: SqlExpr, size: SqlExpr): SqlExpr {
  return binary('-', t, binary('%', binary('+', binary('%', t, size), size), size));
}

function callExpr(n: SyntaxNode, ctx: Ctx): SqlExpr {
  const { fn, args } = callOf(n);
  const arg = (i: number) => scalar(args[i], ctx);
  switch (fn) {
    case 'tolower':
      return call('lower', text(args[0], ctx));
    case 'toupper':
      return call('upper', text(args[0], ctx));
    case 'strlen':
      return call('length', text(args[0], ctx));
    case 'strcat':
      return call('concat', ...args.map((a) => text(a, ctx)));
    case 'tostring':
      return text(args[0], ctx);
    case 'toint':
    case 'tolong':
      return args[0].typeName === 'long' || args[0].typeName === 'int' ? arg(0) : call('to_integer', arg(0));
    case 'toreal':
    case 'todouble':
      return call('to_real', arg(0));
    case 'not':
      return not(condition(args[0], ctx));
    case 'iff':
    case 'iif':
      return { kind: 'case', whens: [{ when: condition(args[0], ctx), result: arg(1) }], else: arg(2) };
    case 'case': {
      const whens: { when: SqlExpr; result: SqlExpr }[] = [];
      for (let i = 0; i + 1 < args.length; i += 2)
        whens.push({ when: condition(args[i], ctx), result: arg(i + 1) });
      return { kind: 'case', whens, else: arg(args.length - 1) };
    }
    case 'isempty':
    case 'isnotempty': {
      const empty =
        args[0].typeName === 'string'
          ? binary('=', text(args[0], ctx), EMPTY)
          : ({ kind: 'is_null', of: arg(0) } as SqlExpr);
      return fn === 'isempty' ? empty : not(empty);
    }
    case 'isnull':
    case 'isnotnull': {
      // A string is never null in Kusto.
      const isNull: SqlExpr = args[0].typeName === 'string' ? FALSE : { kind: 'is_null', of: arg(0) };
      return fn === 'isnull' ? isNull : not(isNull);
    }
    case 'coalesce':
      return call('coalesce', ...args.map((_, i) => arg(i)));
    case 'now':
      return args.length === 0 ? value(ctx.now) : binary('+', value(ctx.now), arg(0));
    case 'ago':
      return binary('-', value(ctx.now), arg(0));
    case 'bin':
    case 'floor': {
      const type = args[0].typeName ?? '';
      if (type !== 'datetime' && type !== 'timespan' && !INTEGER.has(type))
        return refuse(n, `${fn}() of ${type} values`);
      return floorTo(arg(0), arg(1));
    }
    case 'startofday':
      if (args.length > 1) return refuse(n, 'startofday() with an offset');
      return floorTo(arg(0), value(DAY));
    case 'substring': {
      // Kusto counts from 0; a missing length is the rest. (ClickHouse 18.16 takes a constant length.)
      const start = binary('+', arg(1), value(1));
      const given = args[2]?.literalValue();
      if (args[2] && (typeof given !== 'number' || !Number.isSafeInteger(given) || given < 0))
        return refuse(args[2], 'substring() of a length that is not a whole number written in the query');
      const length = value(typeof given === 'number' ? given : 2 ** 31 - 1);
      return call('substring', text(args[0], ctx), start, length);
    }
    case 'replace_string':
      return call('replace', text(args[0], ctx), text(args[1], ctx), text(args[2], ctx));
    case 'extract': {
      const pattern = stringLiteral(args[0]);
      const group = args[1]?.literalValue();
      if (pattern === null || (group !== 0 && group !== 1) || args.length > 3)
        return refuse(n, 'extract() other than of a literal pattern, group 0 or 1');
      if (group === 1 && groupsIn(pattern) < 1)
        return refuse(n, 'extract() of a group the pattern does not have');
      return { kind: 'regex_extract', of: text(args[2], ctx), pattern, group };
    }
    default:
      return refuse(n, `the function \`${fn}()\``);
  }
}

/** Capturing groups in a pattern (JavaScript reads RE2's syntax alike for this). */
function groupsIn(pattern: string): number {
  try {
    return (new RegExp(`${pattern}|`).exec('')?.length ?? 1) - 1;
  } catch {
    return 0;
  }
}
