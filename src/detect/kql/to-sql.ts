/**
 * KQL → DuckDB SQL: statements (`let`, user functions), tabular expressions (tables, unions,
 * datatable, externaldata) and the operators piped between them (where, project, extend,
 * summarize with arg_max, join with Kusto's kinds, lookup, mv-expand, parse, invoke, sort, top…).
 * The binder (frontend.ts) has already named and typed every output column, so each operator
 * selects exactly those columns in Kusto's order. Scalar expressions are in sql-scalar.ts.
 * Anything not covered is refused with its position; what only Microsoft's cloud can do is
 * refused as "not available offline" or, where Defender itself may return empty values
 * (FileProfile), run with those values empty and a warning.
 */
import { randomBytes } from 'node:crypto';
import type { BoundQuery, SyntaxNode } from './frontend.js';
import { rowNeeds, type TableNeeds } from './row-needs.js';
import {
  argsOf,
  bindParameters,
  boundedEnd,
  type Ctx,
  constantSpan,
  defineLet,
  isAggregate,
  KqlOfflineError,
  KqlUnsupportedError,
  type KqlWarning,
  nameOf,
  type Prepare,
  q,
  SQL_TYPE,
  scalar,
  str,
  stringLiteral,
  unsupported,
} from './sql-scalar.js';

export { KqlOfflineError, KqlUnsupportedError, type KqlWarning, type Prepare };

export interface CompileOptions {
  /** The instant `now()` and `ago()` count from (replaying old logs); default: the real now. */
  now?: Date;
  /** Where the local copy of an `externaldata` URL is (undefined: not available offline). */
  externalData?: (url: string) => string | undefined;
}

export interface CompiledQuery {
  /** The SQL; with `prepares`, complete it with resolveSql() before running it. */
  sql: string;
  /** Steps that need the data first (bag_unpack, pivot): see resolveSql(). */
  prepares: Prepare[];
  /** True when the result has columns only the data names (after bag_unpack or pivot). */
  openColumns: boolean;
  /** The tables the query reads (the store needs to fill only these). */
  tables: string[];
  /** What a row of each table must hold for the query to read it (see row-needs.ts). */
  rowNeeds: TableNeeds;
  /** The result's columns, named and typed as Kusto would. */
  columns: { name: string; type: string }[];
  /** What runs differently offline (FileProfile without Microsoft's file reputation, …). */
  warnings: KqlWarning[];
}

const kind = (n: SyntaxNode) => n.kindName;

/** The most values `range` makes (the series is a list in memory before it becomes rows). */
export const MAX_RANGE = 100_000_000;
/** The most bins of one `make-series` series. */
export const MAX_SERIES_BINS = 1_000_000;

/** Compiles a bound query; throws KqlUnsupportedError for what is not covered. */
export function compileKql(bound: BoundQuery, options: CompileOptions = {}): CompiledQuery {
  const ctx: Ctx = {
    now: (options.now ?? new Date()).toISOString(),
    n: 0,
    scalars: new Map(),
    lists: new Map(),
    relations: new Map(),
    functions: new Map(),
    ctes: [],
    warnings: [],
    tabular,
    externalData: options.externalData,
    prepares: [],
  };
  let query: SyntaxNode | undefined;
  for (const statement of statementsOf(bound.root)) {
    if (statement.kindName === 'LetStatement') defineLet(statement, ctx);
    else if (statement.kindName === 'ExpressionStatement') query = statement.child(0);
    // `set` options and query parameters change nothing offline.
  }
  if (!query) return unsupported(bound.root, 'a query without a tabular expression');
  const body = tabular(query, ctx);
  const withCtes = (sql: string) => (ctx.ctes.length > 0 ? `WITH ${ctx.ctes.join(', ')} ${sql}` : sql);
  return {
    sql: withCtes(body),
    prepares: ctx.prepares.map((p) => ({ ...p, keysSql: withCtes(p.keysSql) })),
    openColumns: ctx.open === true,
    tables: [
      ...new Set(
        bound.root
          .find('NameReference')
          .filter((n) => n.referencedKind === 'Table')
          .map((n) => nameOf(n)),
      ),
    ],
    rowNeeds: rowNeeds(bound.root),
    columns: query.columns(),
    warnings: ctx.warnings,
  };
}

/**
 * The runnable SQL of a compiled query: each prepare step's values are read (with `run`) and
 * its marker replaced by the columns they make.
 */
export async function resolveSql(
  compiled: CompiledQuery,
  run: (sql: string) => Promise<Record<string, unknown>[]>,
): Promise<string> {
  let sql = compiled.sql;
  const done: [string, string][] = [];
  for (const p of compiled.prepares) {
    // An earlier step's columns may be part of this one's input.
    let keysSql = p.keysSql;
    for (const [marker, columns] of done) keysSql = keysSql.split(marker).join(columns);
    const values = (await run(keysSql)).map((r) => String(Object.values(r)[0] ?? ''));
    const columns = p.columns(values);
    done.push([p.marker, columns]);
    sql = sql.split(p.marker).join(columns);
  }
  return sql;
}

function statementsOf(root: SyntaxNode): SyntaxNode[] {
  const list = root.children().filter((c) => c.isList);
  const out: SyntaxNode[] = [];
  for (const l of list)
    for (const el of l.children()) if (el.kindName === 'SeparatedElement') out.push(el.child(0));
  return out;
}

function tabular(n: SyntaxNode, ctx: Ctx): string {
  switch (kind(n)) {
    case 'NameReference': {
      const name = nameOf(n);
      const relation = ctx.relations.get(name);
      if (relation !== undefined) return relation;
      if (ctx.functions.has(name)) return userTable(n, name, [], ctx);
      return `SELECT * FROM ${q(name)}`;
    }
    case 'ParenthesizedExpression':
      return tabular(n.child(1), ctx);
    case 'MaterializeExpression': {
      const inner = n.children().find((c) => !c.isToken && c.columns().length > 0);
      return inner ? tabular(inner, ctx) : unsupported(n, 'this materialize()');
    }
    case 'UnionOperator':
      return union(n, unionLegs(n), ctx);
    case 'DataTableExpression':
      return dataTable(n, ctx);
    case 'PrintOperator': {
      const out = n.columns();
      return `SELECT ${items(n, ctx)
        .map((e, i) => `${e.sql} AS ${q(out[i].name)}`)
        .join(', ')}`;
    }
    case 'SearchOperator':
    case 'FindOperator': {
      const legs = n
        .find('FindInClause')[0]
        ?.find('NameReference')
        .map((t) => ({ name: nameOf(t), sql: tabular(t, ctx), columns: t.columns() }));
      if (!legs) return unsupported(n, `\`${operatorName(n)}\` without \`in (tables)\``);
      return search(n, legs, n.columns(), ctx);
    }
    case 'RangeOperator': {
      // range x from a to b step s: a, a+s, … up to b inclusive.
      const [from, to, step] = n.children().filter((c) => !c.isToken && c.kindName !== 'NameDeclaration');
      const [a, b, c] = [scalar(from, ctx), scalar(to, ctx), scalar(step, ctx)];
      const count = constantSpan(a, b, c);
      if (count !== null && count >= MAX_RANGE)
        throw new KqlUnsupportedError(
          `range would make more than ${MAX_RANGE.toLocaleString('en-US')} values`,
          n.start,
          n.width,
        );
      return `SELECT unnest(generate_series(${a}, ${boundedEnd(a, b, c, MAX_RANGE, 'range', n.typeName === 'datetime' || from.typeName === 'datetime')}, ${c})) AS ${q(n.columns()[0].name)}`;
    }
    case 'ExternalDataExpression':
      return externalData(n, ctx);
    case 'FunctionCallExpression': {
      const name = n.child(0).text.trim();
      if (ctx.functions.has(name)) return userTable(n, name, argsOf(n.child(1)), ctx);
      if (name === 'table') {
        const t = stringLiteral(argsOf(n.child(1))[0]);
        if (t) return ctx.relations.get(t) ?? `SELECT * FROM ${q(t)}`;
      }
      return unsupported(n, `the tabular function \`${name}()\``);
    }
    case 'PipeExpression': {
      // `T | union U, V` is the union of T, U and V.
      if (n.child(2).kindName === 'UnionOperator')
        return union(n.child(2), [n.child(0), ...unionLegs(n.child(2))], ctx);
      return operator(n.child(2), tabular(n.child(0), ctx), n.child(0).columns(), ctx);
    }
    default:
      // An operator with no table before it (the start of an mv-apply subquery) reads the implicit input.
      if (ctx.implicit && /Operator$/.test(kind(n)))
        return operator(n, ctx.implicit.sql, ctx.implicit.columns, ctx);
      return unsupported(
        n,
        /Operator$/.test(kind(n))
          ? `the operator \`${operatorName(n)}\``
          : `the tabular expression ${kind(n)}`,
      );
  }
}

/** A let-bound function returning rows; `input` is the piped relation for `invoke`. */
function userTable(n: SyntaxNode, name: string, args: SyntaxNode[], ctx: Ctx, input?: string): string {
  const decl = ctx.functions.get(name)!;
  const inner = bindParameters(decl, args, ctx, n, input);
  const expr = decl.find('FunctionBody')[0].last();
  const sql = tabular(expr, inner);
  ctx.n = inner.n;
  return sql;
}

export function unionLegs(op: SyntaxNode): SyntaxNode[] {
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
      const has = new Map(leg.columns().map((c) => [c.name, c.type]));
      const select = out.map((c) => {
        // Same-named columns of different types are named Name_type by the binder.
        const typed = /^(.*)_(string|long|int|real|bool|datetime|timespan|dynamic|guid)$/.exec(c.name);
        if (has.has(c.name)) return q(c.name);
        if (typed && has.get(typed[1]) === typed[2]) return `${q(typed[1])} AS ${q(c.name)}`;
        return `CAST(NULL AS ${SQL_TYPE[c.type] ?? 'VARCHAR'}) AS ${q(c.name)}`;
      });
      return `SELECT ${select.join(', ')} FROM (${tabular(leg, ctx)}) AS t${ctx.n++}`;
    })
    .join(' UNION ALL ');
}

function dataTable(n: SyntaxNode, ctx: Ctx): string {
  const columns = n.columns();
  const values = n
    .children()
    .filter((c) => c.isList)
    .pop()!
    .children()
    .map((e) => e.child(0))
    .filter((e) => e && !e.isToken);
  const rows: string[] = [];
  for (let i = 0; i + columns.length <= values.length; i += columns.length)
    rows.push(
      `SELECT ${columns.map((c, j) => `CAST(${scalar(values[i + j], ctx)} AS ${SQL_TYPE[c.type] ?? 'VARCHAR'}) AS ${q(c.name)}`).join(', ')}`,
    );
  if (rows.length === 0)
    return `SELECT ${columns.map((c) => `CAST(NULL AS ${SQL_TYPE[c.type] ?? 'VARCHAR'}) AS ${q(c.name)}`).join(', ')} WHERE FALSE`;
  return rows.join(' UNION ALL ');
}

/**
 * externaldata: read from the local copy of the URL (lotl never downloads what a query names).
 * Without one, the query fails closed with the URL to fetch.
 */
function externalData(n: SyntaxNode, ctx: Ctx): string {
  const url = n
    .find('LiteralExpression')
    .map((l) => l.literalValue())
    .find((v): v is string => typeof v === 'string' && /^[a-z]+:\/\//i.test(v));
  if (!url) return unsupported(n, 'externaldata without a URL');
  const file = ctx.externalData?.(url);
  if (!file)
    throw new KqlOfflineError(
      `externaldata needs ${url}: not available offline (save it and pass --external-data DIR or URL=FILE)`,
      n.start,
      n.width,
    );
  const params = new Map(
    n.find('NamedParameter').map((p) => [p.child(0).text.trim().toLowerCase(), p.last().literalValue()]),
  );
  const format = String(
    params.get('format') ??
      url
        .replace(/[?#].*$/, '')
        .split('.')
        .pop() ??
      'csv',
  ).toLowerCase();
  const columns = n.columns();
  const types = columns.map((c) => `${str(c.name)}: ${str(SQL_TYPE[c.type] ?? 'VARCHAR')}`).join(', ');
  const header = params.get('ignorefirstrecord') === true;
  if (format === 'json' || format === 'multijson')
    return `SELECT ${columns.map((c) => q(c.name)).join(', ')} FROM read_json(${str(file)}, columns = {${types}})`;
  if (format === 'txt' || format === 'raw' || columns.length === 1)
    return `SELECT CAST(line AS ${SQL_TYPE[columns[0].type] ?? 'VARCHAR'}) AS ${q(columns[0].name)} FROM (SELECT unnest(string_split(regexp_replace(content, '\\r', '', 'g'), chr(10))) AS line FROM read_text(${str(file)})) WHERE line <> ''${header ? ' OFFSET 1' : ''}`;
  const delim = format === 'tsv' || format === 'tsve' ? '\\t' : format === 'psv' ? '|' : ',';
  return `SELECT * FROM read_csv(${str(file)}, header = ${header}, delim = ${str(delim)}, columns = {${types}}, auto_detect = false, null_padding = true, ignore_errors = true)`;
}

/** An operator as a query spells it: TopNestedOperator → top-nested, ParseKvOperator → parse-kv. */
export function operatorName(op: SyntaxNode): string {
  return kind(op)
    .replace(/Operator$/, '')
    .replace(/([a-z])([A-Z])/g, '$1-$2')
    .toLowerCase();
}

/** Operators whose output is exactly the binder's columns, whatever their input held. */
const CLOSING = new Set([
  'ProjectOperator',
  'SummarizeOperator',
  'DistinctOperator',
  'CountOperator',
  'JoinOperator',
  'LookupOperator',
  'MakeSeriesOperator',
  'MvApplyOperator',
  'GetSchemaOperator',
]);

/** Operators that cannot yet read a relation whose columns only the data names. */
const NEEDS_KNOWN_COLUMNS = new Set([
  'MvExpandOperator',
  'ParseOperator',
  'ParseWhereOperator',
  'InvokeOperator',
]);

function operator(
  op: SyntaxNode,
  inputSql: string,
  inputColumns: { name: string; type: string }[],
  ctx: Ctx,
): string {
  if (ctx.open && NEEDS_KNOWN_COLUMNS.has(kind(op)))
    return unsupported(op, `\`${operatorName(op)}\` after bag_unpack or pivot`);
  const sql = operatorOn(op, inputSql, inputColumns, ctx);
  if (CLOSING.has(kind(op))) ctx.open = false;
  return sql;
}

function operatorOn(
  op: SyntaxNode,
  inputSql: string,
  inputColumns: { name: string; type: string }[],
  ctx: Ctx,
): string {
  const alias = `t${ctx.n++}`;
  const from = `(${inputSql}) AS ${alias}`;
  const saved = ctx.input;
  ctx.input = { alias, columns: inputColumns };
  try {
    return operatorSql(op, from, alias, inputSql, inputColumns, ctx);
  } finally {
    ctx.input = saved;
  }
}

function operatorSql(
  op: SyntaxNode,
  from: string,
  alias: string,
  inputSql: string,
  inputColumns: { name: string; type: string }[],
  ctx: Ctx,
): string {
  const out = op.columns();
  const pass = () => `SELECT * FROM ${from}`;
  switch (kind(op)) {
    case 'FilterOperator':
      return `SELECT * FROM ${from} WHERE ${scalar(op.last(), ctx)}`;
    case 'TakeOperator':
    case 'SampleOperator':
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
    case 'ExtendOperator':
    case 'SerializeOperator':
      if (ctx.open) return openExtend(op, from, ctx);
      return `SELECT ${extended(op, inputColumns, out, ctx).join(', ')} FROM ${from}`;
    case 'SummarizeOperator':
      return summarize(op, from, out, ctx);
    case 'ProjectAwayOperator':
      if (ctx.open)
        return `SELECT * EXCLUDE (${op
          .find('NameReference')
          .map((n) => q(nameOf(n)))
          .join(', ')}) FROM ${from}`;
      return `SELECT ${out.map((c) => q(c.name)).join(', ')} FROM ${from}`;
    case 'ProjectKeepOperator':
    case 'ProjectReorderOperator':
      if (ctx.open) return pass();
      // The binder has worked out which columns remain, in which order.
      return `SELECT ${out.map((c) => q(c.name)).join(', ')} FROM ${from}`;
    case 'ProjectRenameOperator': {
      if (ctx.open)
        return `SELECT * RENAME (${op
          .find('SimpleNamedExpression')
          .map((e) => `${q(nameOf(e.child(2)))} AS ${q(nameOf(e.child(0)))}`)
          .join(', ')}) FROM ${from}`;
      const renamed = new Map(
        op.find('SimpleNamedExpression').map((e) => [nameOf(e.child(0)), nameOf(e.child(2))]),
      );
      return `SELECT ${out.map((c) => (renamed.has(c.name) ? `${q(renamed.get(c.name)!)} AS ${q(c.name)}` : q(c.name))).join(', ')} FROM ${from}`;
    }
    case 'RenderOperator':
    case 'AsOperator':
      // A chart hint for the Kusto UI, or a name for the result: the rows are the same.
      return pass();
    case 'SortOperator': {
      const keys = op
        .last()
        .children()
        .map((el) => el.child(0));
      return `SELECT * FROM ${from} ORDER BY ${ordering(keys, ctx)}`;
    }
    case 'TopOperator':
      return `SELECT * FROM ${from} ORDER BY ${ordering([op.last()], ctx)} LIMIT ${scalar(op.child(2), ctx)}`;
    case 'JoinOperator':
      return join(op, inputSql, inputColumns, out, ctx);
    case 'LookupOperator':
      return join(op, inputSql, inputColumns, out, ctx, true);
    case 'MvExpandOperator':
      return mvExpand(op, from, alias, out, ctx);
    case 'MvApplyOperator':
      return mvApply(op, from, alias, inputColumns, ctx);
    case 'MakeSeriesOperator':
      return makeSeries(op, inputSql, out, ctx);
    case 'ParseOperator':
    case 'ParseWhereOperator':
      return parse(op, from, alias, out, ctx);
    case 'InvokeOperator':
      return invoke(op, inputSql, inputColumns, out, ctx);
    case 'ParseKvOperator':
      return parseKv(op, from, alias, out, ctx);
    case 'TopNestedOperator':
      return topNested(op, inputSql, out, ctx);
    case 'SearchOperator':
      return search(op, [{ name: null, sql: inputSql, columns: inputColumns }], out, ctx);
    case 'EvaluateOperator':
      return evaluate(op, from, alias, inputColumns, out, ctx);
    case 'GetSchemaOperator': {
      // One row per input column: its name, position and types.
      const rows = inputColumns.map(
        (c, i) =>
          `SELECT ${str(c.name)} AS ColumnName, ${i} AS ColumnOrdinal, ${str(`System.${c.type}`)} AS DataType, ${str(c.type)} AS ColumnType`,
      );
      return rows.length > 0 ? rows.join(' UNION ALL ') : 'SELECT NULL AS ColumnName WHERE FALSE';
    }
    default:
      return unsupported(op, `the operator \`${operatorName(op)}\``);
  }
}

/**
 * An operator's own `name=value` parameters (`kind=leftanti`, `with_itemindex=i`), lower-cased
 * names; not those of a subquery inside it.
 */
function parameters(op: SyntaxNode): Map<string, string> {
  const list = op.children().find((c) => c.isList);
  const out = new Map<string, string>();
  for (const p of list?.find('NamedParameter') ?? [])
    out.set(p.child(0).text.trim().toLowerCase(), p.last().text.trim());
  for (const [k, v] of out) if (k === 'kind') out.set(k, v.toLowerCase());
  return out;
}

/** extend: every output column in Kusto's order, new or replaced ones computed, the rest passed on. */
function extended(
  op: SyntaxNode,
  inputColumns: { name: string; type: string }[],
  out: { name: string; type: string }[],
  ctx: Ctx,
): string[] {
  const added = items(op, ctx);
  const inputNames = new Set(inputColumns.map((c) => c.name));
  const named = new Set(added.flatMap((e) => e.names ?? (e.name ? [e.name] : [])));
  // Unnamed expressions take the new names the binder gave them (Column1, AdditionalFields_x…), in order.
  const fresh = out.map((c) => c.name).filter((name) => !inputNames.has(name) && !named.has(name));
  const defined = new Map<string, string>();
  for (const e of added) {
    if (e.node.typeName !== 'tuple') {
      defined.set(e.name ?? fresh.shift() ?? '', e.sql);
      continue;
    }
    // A function returning several values (series_fit_line …): a JSON array, one column each;
    // a single name goes to the first, the binder names the rest.
    const width = e.node.columns().length;
    const given = e.names ?? [e.name ?? fresh.shift() ?? ''];
    const names = [...given, ...fresh.splice(0, Math.max(0, width - given.length))];
    const types = new Map(out.map((c) => [c.name, c.type]));
    names.forEach((name, i) => {
      const type = types.get(name) ?? 'dynamic';
      const path = str(`$[${i}]`);
      defined.set(
        name,
        type === 'dynamic'
          ? `json_extract(${e.sql}, ${path})`
          : `TRY_CAST(json_extract_string(${e.sql}, ${path}) AS ${SQL_TYPE[type] ?? 'VARCHAR'})`,
      );
    });
  }
  return out.map((c) => (defined.has(c.name) ? `${defined.get(c.name)} AS ${q(c.name)}` : q(c.name)));
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

interface Item extends WrittenItem {
  sql: string;
}

/** An operator's item as written: its expression, and the name (or names) given to it. */
export interface WrittenItem {
  name?: string;
  /** `(a, b, c) = f(…)`: the names of a tuple's columns. */
  names?: string[];
  node: SyntaxNode;
  /** The item as written, names and all (for a message about it). */
  written: SyntaxNode;
}

/** The comma-separated expressions of an operator, with the names `x = …` gives them (both compilers). */
export function writtenItems(op: SyntaxNode, keep: (n: SyntaxNode) => boolean = () => true): WrittenItem[] {
  const out: WrittenItem[] = [];
  for (const list of op.children().filter((c) => c.isList && keep(c))) {
    for (const el of list.children()) {
      const e = el.child(0);
      if (!e || e.isToken) continue;
      if (kind(e) === 'SimpleNamedExpression')
        out.push({ name: nameOf(e.child(0)), node: e.child(2), written: e });
      else if (kind(e) === 'CompoundNamedExpression')
        // `(a, b) = arg_max(…)`: the binder has named the outputs; the call is what counts.
        out.push({ names: e.find('NameDeclaration').map(nameOf), node: e.last(), written: e });
      else out.push({ node: e, written: e });
    }
  }
  return out;
}

/** The comma-separated expressions of an operator, compiled (or not), with their names. */
function items(
  op: SyntaxNode,
  ctx: Ctx,
  keep: (n: SyntaxNode) => boolean = () => true,
  compile = true,
): Item[] {
  return writtenItems(op, keep).map((it) => ({ ...it, sql: compile ? scalar(it.node, ctx) : '' }));
}

/**
 * summarize: by-expressions first, then aggregates in written order. arg_max/arg_min (and
 * percentiles) yield several columns: the chosen row is kept whole as a struct, so every column
 * comes from the same row.
 */
function summarize(op: SyntaxNode, from: string, out: { name: string; type: string }[], ctx: Ctx): string {
  const byClause = op.find('SummarizeByClause')[0];
  const by = byClause ? items(byClause, ctx) : [];
  const aggs = items(op, ctx, (n) => kind(n) !== 'SummarizeByClause', false);
  const inner: string[] = by.map((e, i) => `${e.sql} AS ${q(`__b${i}`)}`);
  const outer: string[] = by.map((_, i) => `${q(`__b${i}`)} AS ${q(out[i].name)}`);
  let k = by.length;
  aggs.forEach((agg, i) => {
    const call = agg.node;
    const fname = call.kindName === 'FunctionCallExpression' ? call.child(0).text.trim().toLowerCase() : '';
    const width = call.typeName === 'tuple' ? call.columns().length : 1;
    if (fname === 'arg_max' || fname === 'arg_min' || fname === 'argmax' || fname === 'argmin') {
      const args = argsOf(call.child(1));
      const cols = out.slice(k, k + width);
      const tupleNames = call.columns().map((c) => c.name);
      const inputNames = new Set(ctx.input?.columns.map((c) => c.name));
      const explicit = new Map(
        args
          .slice(1)
          .flatMap((a) => (a.kindName === 'SimpleNamedExpression' ? [[nameOf(a.child(0)), a.child(2)]] : [])),
      );
      const fields = cols.map((_c, j) => {
        let source: string;
        if (j === 0) source = scalar(args[0], ctx);
        else if (explicit.has(tupleNames[j])) source = scalar(explicit.get(tupleNames[j])!, ctx);
        else if (args.some((a) => a.kindName === 'StarExpression') && inputNames.has(tupleNames[j]))
          source = q(tupleNames[j]);
        else
          source = args[j] && args[j].kindName !== 'StarExpression' ? scalar(args[j], ctx) : q(tupleNames[j]);
        return `${q(`f${j}`)} := ${source}`;
      });
      const fn = fname.includes('max') ? 'arg_max' : 'arg_min';
      inner.push(`${fn}(struct_pack(${fields.join(', ')}), ${scalar(args[0], ctx)}) AS ${q(`__a${i}`)}`);
      for (const [j, c] of cols.entries()) outer.push(`${q(`__a${i}`)}.${q(`f${j}`)} AS ${q(c.name)}`);
    } else if (fname === 'percentiles') {
      const args = argsOf(call.child(1));
      args.slice(1).forEach((p, j) => {
        inner.push(
          `quantile_disc(${scalar(args[0], ctx)}, ${scalar(p, ctx)} / 100.0) AS ${q(`__a${i}_${j}`)}`,
        );
        outer.push(`${q(`__a${i}_${j}`)} AS ${q(out[k + j].name)}`);
      });
    } else {
      if (width !== 1) unsupported(call, 'this multi-column aggregate');
      if (call.kindName === 'FunctionCallExpression' && !isAggregate(fname) && !containsAggregate(call))
        unsupported(call, `\`${fname}()\` as an aggregate`);
      inner.push(`${scalar(call, ctx)} AS ${q(`__a${i}`)}`);
      outer.push(`${q(`__a${i}`)} AS ${q(out[k].name)}`);
    }
    k += width;
  });
  const group = by.length > 0 ? ` GROUP BY ${by.map((_, i) => i + 1).join(', ')}` : '';
  return `SELECT ${outer.join(', ')} FROM (SELECT ${inner.join(', ')} FROM ${from}${group}) AS s${ctx.n++}`;
}

const containsAggregate = (n: SyntaxNode): boolean =>
  n.find('FunctionCallExpression').some((f) => isAggregate(f.child(0).text.trim().toLowerCase()));

/**
 * join and lookup. Kinds as Kusto defines them: innerunique (the default) keeps one left row per
 * key before an inner join; semi and anti joins keep one side's columns. Keys compare strings
 * with Kusto's rule that a missing string is empty. lookup is a left outer join that does not
 * repeat the key columns.
 */
function join(
  op: SyntaxNode,
  leftSql: string,
  leftColumns: { name: string; type: string }[],
  out: { name: string; type: string }[],
  ctx: Ctx,
  lookup = false,
): string {
  const parts = op.children().filter((c) => !c.isToken);
  const params = parameters(op);
  const joinKind = params.get('kind') ?? (lookup ? 'leftouter' : 'innerunique');
  const right = parts.find((c) => !c.isList && c.columns().length > 0);
  const on = op.find('JoinOnClause')[0] ?? op.find('JoinWhereClause')[0];
  if (!right || !on) return unsupported(op, 'this join');
  const rightColumns = right.columns();
  const l = `l${ctx.n}`;
  const r = `r${ctx.n++}`;
  const keys: [string, string, string][] = [];
  const addKey = (left: string, rightName: string) => {
    const type = leftColumns.find((c) => c.name === left)?.type;
    keys.push([left, rightName, type ?? '']);
  };
  const side = (p: SyntaxNode) =>
    p.kindName === 'PathExpression' ? p.child(0).text.trim().toLowerCase() : '';
  const visit = (cond: SyntaxNode) => {
    if (cond.kindName === 'NameReference') return addKey(cond.text.trim(), cond.text.trim());
    if (cond.kindName === 'BinaryExpression') {
      const opText = cond.child(1).text.trim().toLowerCase();
      if (opText === 'and') {
        visit(cond.child(0));
        visit(cond.child(2));
        return;
      }
      if (opText === '==') {
        const [a, b] = [cond.child(0), cond.child(2)];
        if (side(a) === '$left' && side(b) === '$right')
          return addKey(a.child(2).text.trim(), b.child(2).text.trim());
        if (side(a) === '$right' && side(b) === '$left')
          return addKey(b.child(2).text.trim(), a.child(2).text.trim());
      }
    }
    unsupported(cond, 'this join condition (only equality of $left and $right columns)');
  };
  for (const el of on.last().children()) {
    const c = el.kindName === 'SeparatedElement' ? el.child(0) : el;
    if (c && !c.isToken) visit(c);
  }
  const key = (alias: string, name: string, type: string) =>
    type === 'string'
      ? `coalesce(${alias}.${q(name)}, '')`
      : type === 'dynamic'
        ? `CAST(${alias}.${q(name)} AS VARCHAR)`
        : `${alias}.${q(name)}`;
  const condition = keys.map(([a, b, t]) => `${key(l, a, t)} = ${key(r, b, t)}`).join(' AND ');
  let leftRel = `(${leftSql}) AS ${l}`;
  const rightRel = `(${tabular(right, ctx)}) AS ${r}`;
  switch (joinKind) {
    case 'leftsemi':
    case 'leftanti':
    case 'anti':
    case 'leftantisemi':
      return `SELECT ${l}.* FROM ${leftRel} WHERE ${joinKind === 'leftsemi' ? '' : 'NOT '}EXISTS (SELECT 1 FROM ${rightRel} WHERE ${condition})`;
    case 'rightsemi':
    case 'rightanti':
    case 'rightantisemi':
      return `SELECT ${r}.* FROM ${rightRel} WHERE ${joinKind === 'rightsemi' ? '' : 'NOT '}EXISTS (SELECT 1 FROM ${leftRel} WHERE ${condition})`;
  }
  const sqlKind: Record<string, string> = {
    innerunique: 'JOIN',
    inner: 'JOIN',
    leftouter: 'LEFT JOIN',
    rightouter: 'RIGHT JOIN',
    fullouter: 'FULL JOIN',
  };
  if (!sqlKind[joinKind]) return unsupported(op, `the join kind ${joinKind}`);
  if (joinKind === 'innerunique')
    leftRel = `(SELECT * FROM (${leftSql}) AS u QUALIFY row_number() OVER (PARTITION BY ${keys.map(([a, , t]) => key('u', a, t)).join(', ')}) = 1) AS ${l}`;
  // Output: the left columns, then the right ones (lookup leaves out the right keys), renamed by the binder.
  let rightKept = rightColumns;
  if (lookup) {
    rightKept = rightColumns.filter((c) => !keys.some(([a, b]) => b === c.name && a === c.name));
    if (leftColumns.length + rightKept.length !== out.length)
      rightKept = rightColumns.filter((c) => !keys.some(([, b]) => b === c.name));
  }
  const sources = [
    ...leftColumns.map((c) => `${l}.${q(c.name)}`),
    ...rightKept.map((c) => `${r}.${q(c.name)}`),
  ];
  if (sources.length !== out.length)
    return unsupported(op, 'this join (its columns did not line up with the binder’s)');
  const select = out.map((c, i) => `${sources[i]} AS ${q(c.name)}`);
  return `SELECT ${select.join(', ')} FROM ${leftRel} ${sqlKind[joinKind]} ${rightRel} ON ${condition}`;
}

interface Expansion {
  /** `unnest(…) AS eN` items of a LATERAL select (zipped, as Kusto expands several arrays). */
  lateral: string[];
  /** Output column name → its value from the lateral row `u`. */
  columns: Map<string, { sql: string; type: string }>;
}

/**
 * The arrays mv-expand and mv-apply expand: one row per element of a dynamic array, one
 * single-key bag per key of a property bag, any other value one row (null included); an empty
 * array or bag gives no row.
 */
function expansion(op: SyntaxNode, exprKind: string, ctx: Ctx): Expansion {
  const columns = new Map<string, { sql: string; type: string }>();
  const lateral: string[] = [];
  let first = '';
  op.find(exprKind).forEach((e, i) => {
    const expr = e.child(0);
    const named = expr.kindName === 'SimpleNamedExpression';
    const value = named ? expr.child(2) : expr;
    const name = named ? nameOf(expr.child(0)) : nameOf(value);
    const v = scalar(value, ctx);
    const json = value.typeName === 'dynamic' ? v : `to_json(${v})`;
    const list = `(CASE json_type(${json}) WHEN 'ARRAY' THEN CAST(${json} AS JSON[]) WHEN 'OBJECT' THEN list_transform(json_keys(${json}), k -> json_object(k, json_extract(${json}, '$."' || replace(k, '"', '\\"') || '"'))) ELSE [${json}] END)`;
    if (i === 0) first = list;
    lateral.push(`unnest(${list}) AS ${q(`e${i}`)}`);
    const to = e.find('TypeOfLiteralExpression')[0];
    const type = to
      ? to.text
          .replace(/^typeof\(|\)$/g, '')
          .trim()
          .toLowerCase()
      : 'dynamic';
    const element = `u.${q(`e${i}`)}`;
    columns.set(name, {
      type,
      sql:
        type === 'dynamic'
          ? element
          : type === 'string'
            ? `coalesce(json_extract_string(${element}, '$'), '')`
            : `TRY_CAST(json_extract_string(${element}, '$') AS ${SQL_TYPE[type] ?? 'VARCHAR'})`,
    });
  });
  const index = parameters(op).get('with_itemindex');
  if (index) {
    lateral.push(`unnest(range(len(${first}))) AS ${q('__i')}`);
    columns.set(index, { sql: `u.${q('__i')}`, type: 'long' });
  }
  return { lateral, columns };
}

/** mv-expand: the expanded values replace (or add) their columns; the other columns repeat. */
function mvExpand(
  op: SyntaxNode,
  from: string,
  alias: string,
  out: { name: string; type: string }[],
  ctx: Ctx,
): string {
  const { lateral, columns } = expansion(op, 'MvExpandExpression', ctx);
  const select = out.map((c) =>
    columns.has(c.name) ? `${columns.get(c.name)!.sql} AS ${q(c.name)}` : `${alias}.${q(c.name)}`,
  );
  return `SELECT ${select.join(', ')} FROM ${from}, LATERAL (SELECT ${lateral.join(', ')}) AS u`;
}

/**
 * mv-apply: the subquery runs once per input row, over that row's expanded elements (a LATERAL
 * subquery); its rows are the output.
 */
function mvApply(
  op: SyntaxNode,
  from: string,
  alias: string,
  inputColumns: { name: string; type: string }[],
  ctx: Ctx,
): string {
  const { lateral, columns } = expansion(op, 'MvApplyExpression', ctx);
  const rowColumns = inputColumns.filter((c) => !columns.has(c.name));
  const row = [
    ...rowColumns.map((c) => `${alias}.${q(c.name)} AS ${q(c.name)}`),
    ...[...columns].map(([name, c]) => `${c.sql} AS ${q(name)}`),
  ];
  const implicit = `SELECT ${row.join(', ')} FROM (SELECT ${lateral.join(', ')}) AS u`;
  const subquery = op.find('MvApplySubqueryExpression')[0];
  if (!subquery) return unsupported(op, 'this mv-apply');
  const body = subquery.children().find((c) => !c.isToken)!;
  const implicitColumns = [...rowColumns, ...[...columns].map(([name, c]) => ({ name, type: c.type }))];
  const sql = withImplicitInput(ctx, implicit, implicitColumns, () => tabular(body, ctx));
  // The subquery's columns, and the row's other columns beside them (Kusto's output).
  const fromSub = new Set(body.columns().map((c) => c.name));
  const select = op.columns().map((c) => (fromSub.has(c.name) ? `m.${q(c.name)}` : `${alias}.${q(c.name)}`));
  return `SELECT ${select.join(', ')} FROM ${from}, LATERAL (${sql}) AS m`;
}

/** Compiles a subquery whose first operator has no table before it (mv-apply, facet…). */
function withImplicitInput<T>(
  ctx: Ctx,
  sql: string,
  columns: { name: string; type: string }[],
  run: () => T,
): T {
  const saved = ctx.implicit;
  ctx.implicit = { sql, columns };
  try {
    return run();
  } finally {
    ctx.implicit = saved;
  }
}

/**
 * make-series: per group, one array per aggregate with a value for every step of the axis
 * (the default where a step has no rows) and the axis itself. `from` defaults to the first
 * value, `to` (exclusive) to one step past the last.
 */
function makeSeries(
  op: SyntaxNode,
  inputSql: string,
  out: { name: string; type: string }[],
  ctx: Ctx,
): string {
  const byClause = op.find('MakeSeriesByClause')[0];
  const by = byClause ? items(byClause, ctx) : [];
  const axisNode = op.find('MakeSeriesOnClause')[0]?.last();
  // `on T from a to b step s`, or the older `on T in range(a, b, s)`.
  const range = op.find('MakeSeriesInRangeClause')[0];
  const rangeArgs = range ? argsOf(range.last()) : [];
  const stepNode = range ? rangeArgs[2] : op.find('MakeSeriesStepClause')[0]?.last();
  if (!axisNode || !stepNode) return unsupported(op, 'make-series without on … step');
  const axis = scalar(axisNode, ctx);
  const step = scalar(stepNode, ctx);
  const fromNode = range ? rangeArgs[0] : op.find('MakeSeriesFromClause')[0]?.last();
  const toNode = range ? rangeArgs[1] : op.find('MakeSeriesToClause')[0]?.last();
  const datetime = axisNode.typeName === 'datetime';
  const bucket = (v: string, origin: string) =>
    datetime
      ? `time_bucket(${step}, ${v}, ${origin})`
      : `(floor((${v} - ${origin}) / ${step}) * ${step} + ${origin})`;
  const input = `(${inputSql})`;
  const from = fromNode ? scalar(fromNode, ctx) : `(SELECT min(${axis}) FROM ${input} AS mn)`;
  const to = toNode ? scalar(toNode, ctx) : `(SELECT max(${axis}) FROM ${input} AS mx) + ${step}`;
  const aggs = op.find('MakeSeriesExpression').map((e) => {
    const expr = e.child(0);
    const call = expr.kindName === 'SimpleNamedExpression' ? expr.child(2) : expr;
    const def = e.find('DefaultExpressionClause')[0];
    return { sql: scalar(call, ctx), def: def ? scalar(def.last(), ctx) : '0' };
  });
  const keys = by.map((_, i) => q(`__b${i}`));
  const n = ctx.n++;
  const grouped = `SELECT ${[...by.map((e, i) => `${e.sql} AS ${q(`__b${i}`)}`), `${bucket(axis, from)} AS __x`, ...aggs.map((a, i) => `${a.sql} AS ${q(`__a${i}`)}`)].join(', ')} FROM ${input} AS i${n} WHERE ${axis} >= ${from} AND ${axis} < ${to} GROUP BY ${[...by.map((_, i) => i + 1), by.length + 1].join(', ')}`;
  const groups =
    by.length > 0
      ? `(SELECT DISTINCT ${by.map((e, i) => `${e.sql} AS ${q(`__b${i}`)}`).join(', ')} FROM ${input} AS g${n})`
      : '(SELECT 1 AS __one)';
  const bins = constantSpan(from, to, step);
  if (bins !== null && bins > MAX_SERIES_BINS)
    throw new KqlUnsupportedError(
      `make-series would make ${Math.round(bins).toLocaleString('en-US')} bins (at most ${MAX_SERIES_BINS.toLocaleString('en-US')})`,
      op.start,
      op.width,
    );
  const grid = `SELECT k.*, unnest(generate_series(${from}, ${boundedEnd(from, `${to} - ${step}`, step, MAX_SERIES_BINS, 'make-series', datetime)}, ${step})) AS __x FROM ${groups} AS k`;
  const on = [...keys.map((k) => `g.${k} IS NOT DISTINCT FROM b.${k}`), 'g.__x = b.__x'].join(' AND ');
  const axisValue = datetime
    ? `regexp_replace(strftime(g.__x, '%Y-%m-%dT%H:%M:%S.%f'), '\\.?0+$', '') || 'Z'`
    : 'g.__x';
  const select = [
    ...keys.map((k, i) => `g.${k} AS ${q(out[i].name)}`),
    ...aggs.map(
      (a, i) =>
        `to_json(list(coalesce(b.${q(`__a${i}`)}, ${a.def}) ORDER BY g.__x)) AS ${q(out[by.length + i].name)}`,
    ),
    `to_json(list(${axisValue} ORDER BY g.__x)) AS ${q(out[by.length + aggs.length].name)}`,
  ];
  return `SELECT ${select.join(', ')} FROM (${grid}) AS g LEFT JOIN (${grouped}) AS b ON ${on}${keys.length > 0 ? ` GROUP BY ${keys.map((k) => `g.${k}`).join(', ')}` : ''}`;
}

/**
 * parse: the pattern becomes one regular expression with a group per column (`*` skips text);
 * rows that do not match get empty strings and null numbers (parse-where drops them).
 */
function parse(
  op: SyntaxNode,
  from: string,
  alias: string,
  out: { name: string; type: string }[],
  ctx: Ctx,
): string {
  const params = parameters(op);
  const regexMode = params.get('kind') === 'regex';
  const parts = op
    .children()
    .filter((c) => c.isList)
    .pop()!
    .children();
  const source = op.children().find((c) => !c.isToken && !c.isList)!;
  const groups: { name: string; type: string }[] = [];
  let regex = '';
  parts.forEach((p, i) => {
    const last = i === parts.length - 1;
    if (p.kindName === 'StarExpression') regex += last ? '.*' : '.*?';
    else if (p.kindName === 'LiteralExpression' || p.kindName === 'CompoundStringLiteralExpression') {
      const text = String(p.literalValue() ?? '');
      regex += regexMode ? text : text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
    } else if (p.kindName === 'NameAndTypeDeclaration' || p.kindName === 'NameDeclaration') {
      const name = nameOf(p.kindName === 'NameDeclaration' ? p : p.child(0));
      const type = p.kindName === 'NameDeclaration' ? 'string' : p.last().text.trim().toLowerCase();
      groups.push({ name, type });
      regex += last ? '(.*)' : type === 'long' || type === 'int' ? '(-?\\d+)' : '(.*?)';
    } else unsupported(p, 'this parse pattern element');
  });
  const pattern = str(`^${regex}`);
  const text = `coalesce(CAST(${scalar(source, ctx)} AS VARCHAR), '')`;
  const struct = `regexp_extract(${text}, ${pattern}, [${groups.map((g) => str(g.name)).join(', ')}])`;
  const byName = new Map(groups.map((g) => [g.name, g]));
  const select = out.map((c) => {
    const g = byName.get(c.name);
    if (!g) return `${alias}.${q(c.name)}`;
    const value = `p.${q(`__p`)}.${q(g.name)}`;
    return g.type === 'string'
      ? `${value} AS ${q(c.name)}`
      : `TRY_CAST(nullif(${value}, '') AS ${SQL_TYPE[g.type] ?? 'VARCHAR'}) AS ${q(c.name)}`;
  });
  const where = op.kindName === 'ParseWhereOperator' ? ` WHERE regexp_matches(${text}, ${pattern})` : '';
  if (groups.length === 0) return `SELECT * FROM ${from}${where}`;
  return `SELECT ${select.join(', ')} FROM ${from}, LATERAL (SELECT ${struct} AS ${q('__p')}) AS p${where}`;
}

/** extend over a relation with data-named columns: every column kept, new ones added or replaced. */
function openExtend(op: SyntaxNode, from: string, ctx: Ctx): string {
  const added = items(op, ctx);
  // Unnamed expressions are named by the binder; they come last in its list.
  const out = op.columns();
  const unnamed = out.slice(out.length - added.filter((e) => !e.name).length);
  let u = 0;
  const named = added.map((e) => ({ name: e.name ?? unnamed[u++]?.name ?? 'Column1', sql: e.sql }));
  const list = named.map((e) => `${e.sql} AS ${q(e.name)}`).join(', ');
  // Replace a column of the same name, or add one: every other column passes (whatever the data named).
  const names = named.map((e) => str(e.name.toLowerCase())).join(', ');
  return `SELECT COLUMNS(c -> lower(c) NOT IN (${names})), ${list} FROM ${from}`;
}

/**
 * evaluate bag_unpack(bag[, prefix]) and evaluate pivot(column[, aggregate[, by…]]): the columns
 * they make are named by the data (a bag's keys, the column's values), read in a prepare step
 * before the query runs. bag_unpack with an output schema (`: (a:string, …)`) needs no step.
 */
function evaluate(
  op: SyntaxNode,
  from: string,
  alias: string,
  inputColumns: { name: string; type: string }[],
  out: { name: string; type: string }[],
  ctx: Ctx,
): string {
  const call = op.children().find((c) => c.kindName === 'FunctionCallExpression');
  if (!call) return unsupported(op, 'this evaluate');
  const plugin = call.child(0).text.trim().toLowerCase();
  const args = argsOf(call.child(1));
  if (plugin === 'bag_unpack') {
    const bag = scalar(args[0], ctx);
    const json = args[0].typeName === 'dynamic' ? bag : `TRY_CAST(${bag} AS JSON)`;
    const prefix =
      args[1] && args[1].kindName !== 'SimpleNamedExpression' ? (stringLiteral(args[1]) ?? '') : '';
    const bagName = args[0].kindName === 'NameReference' ? nameOf(args[0]) : null;
    const kept = inputColumns.filter((c) => c.name !== bagName);
    const keptSql = kept.map((c) => `${alias}.${q(c.name)}`);
    const value = (key: string) =>
      `json_extract_string(${json}, ${str(`$."${key.replace(/["\\]/g, '\\$&')}"`)})`;
    if (op.find('SchemaTypeExpression').length > 0 || op.find('RowSchema').length > 0) {
      // The query names the columns and their types.
      const have = new Set(kept.map((c) => c.name));
      const select = out.map((c) =>
        have.has(c.name)
          ? `${alias}.${q(c.name)} AS ${q(c.name)}`
          : `TRY_CAST(${value(c.name.slice(prefix.length))} AS ${SQL_TYPE[c.type] ?? 'VARCHAR'}) AS ${q(c.name)}`,
      );
      return `SELECT ${select.join(', ')} FROM ${from}`;
    }
    const marker = `/*lotl:unpack:${MARKER_NONCE}:${ctx.prepares.length}*/`;
    const existing = new Set(kept.map((c) => c.name.toLowerCase()));
    ctx.prepares.push({
      marker,
      keysSql: `SELECT DISTINCT k FROM (SELECT unnest(json_keys(${json})) AS k FROM ${from} WHERE json_type(${json}) = 'OBJECT') ORDER BY k`,
      columns: (keys) =>
        keys
          .filter((k) => !existing.has(`${prefix}${k}`.toLowerCase()))
          .map((k) => `, ${value(k)} AS ${q(`${prefix}${k}`)}`)
          .join(''),
    });
    ctx.open = true;
    return `SELECT ${keptSql.join(', ')}${marker} FROM ${from}`;
  }
  if (plugin === 'pivot') {
    // Kusto groups by every output column the binder lists (the by-columns, or all the others).
    const pivotSql = `coalesce(CAST(${scalar(args[0], ctx)} AS VARCHAR), '')`;
    const aggregate = args[1] ? scalar(args[1], ctx) : 'count(*)';
    const groups = out.map((c) => q(c.name));
    const marker = `/*lotl:pivot:${MARKER_NONCE}:${ctx.prepares.length}*/`;
    ctx.prepares.push({
      marker,
      keysSql: `SELECT DISTINCT ${pivotSql} AS v FROM ${from} ORDER BY v`,
      columns: (values) =>
        values.map((v) => `, ${aggregate} FILTER (WHERE ${pivotSql} = ${str(v)}) AS ${q(v)}`).join(''),
    });
    ctx.open = true;
    return `SELECT ${groups.join(', ')}${groups.length > 0 ? '' : '1 AS __one'}${marker} FROM ${from}${groups.length > 0 ? ` GROUP BY ${groups.join(', ')}` : ''}`;
  }
  return unsupported(call.child(0), `the plugin \`${plugin}\``);
}

/**
 * parse-kv: each declared key's value from `key=value` pairs (pair and key-value delimiters, an
 * optional quote); keys not found give empty strings and null numbers. The `regex=` form is not
 * covered.
 */
function parseKv(
  op: SyntaxNode,
  from: string,
  alias: string,
  out: { name: string; type: string }[],
  ctx: Ctx,
): string {
  const withClause = op.find('ParseKvWithClause')[0];
  const params = new Map(
    (withClause?.find('NamedParameter') ?? []).map((p) => [
      p.child(0).text.trim().toLowerCase(),
      p.last().literalValue(),
    ]),
  );
  if (params.has('regex')) return unsupported(withClause!, 'parse-kv with regex=');
  const esc = (x: string) => x.replace(/[\\^$.*+?()[\]{}|-]/g, '\\$&');
  const pair = esc(String(params.get('pair_delimiter') ?? ' '));
  const kv = esc(String(params.get('kv_delimiter') ?? '='));
  const quote = params.get('quote') ? esc(String(params.get('quote')).slice(0, 1)) : '';
  const source = op
    .children()
    .find((c) => !c.isToken && c.kindName !== 'RowSchema' && c.kindName !== 'ParseKvWithClause')!;
  const text = `coalesce(CAST(${scalar(source, ctx)} AS VARCHAR), '')`;
  const keys = new Map(
    op
      .find('RowSchema')[0]
      .find('NameAndTypeDeclaration')
      .map((d) => [nameOf(d.child(0)), d.last().text.trim().toLowerCase()]),
  );
  const value = (key: string) => {
    const quoted = quote ? `${quote}([^${quote}]*)${quote}|` : '';
    const pattern = str(`(?:^|${pair})\\s*${esc(key)}\\s*${kv}\\s*(?:${quoted}([^${pair}]*))`);
    return quote
      ? `coalesce(nullif(regexp_extract(${text}, ${pattern}, 1), ''), regexp_extract(${text}, ${pattern}, 2))`
      : `regexp_extract(${text}, ${pattern}, 1)`;
  };
  const select = out.map((c) => {
    const type = keys.get(c.name);
    if (type === undefined) return `${alias}.${q(c.name)}`;
    return type === 'string'
      ? `${value(c.name)} AS ${q(c.name)}`
      : `TRY_CAST(nullif(${value(c.name)}, '') AS ${SQL_TYPE[type] ?? 'VARCHAR'}) AS ${q(c.name)}`;
  });
  return `SELECT ${select.join(', ')} FROM ${from}`;
}

/**
 * top-nested: level by level, the top N values of each expression by its aggregate, within each
 * value kept at the level above. One row per leaf, with every level's value and aggregate.
 */
function topNested(
  op: SyntaxNode,
  inputSql: string,
  out: { name: string; type: string }[],
  ctx: Ctx,
): string {
  const clauses = op.find('TopNestedClause');
  let previous = '';
  clauses.forEach((clause, level) => {
    const parts = clause.children().filter((c) => !c.isToken);
    const limitNode = parts.length >= 3 ? parts[0] : undefined;
    const valueNode = parts[parts.length - 2];
    let aggNode = parts[parts.length - 1];
    let direction = 'DESC';
    if (aggNode.kindName === 'OrderedExpression') {
      if (/\basc\b/i.test(aggNode.find('OrderingClause')[0]?.text ?? '')) direction = 'ASC';
      aggNode = aggNode.child(0);
    }
    if (clause.find('TopNestedWithOthersClause').length > 0) unsupported(clause, 'top-nested … with others');
    const value = scalar(
      valueNode.kindName === 'SimpleNamedExpression' ? valueNode.child(2) : valueNode,
      ctx,
    );
    const aggregate = scalar(aggNode.kindName === 'SimpleNamedExpression' ? aggNode.child(2) : aggNode, ctx);
    const n = `__n${level}`;
    const a = `__a${level}`;
    const parentCols = Array.from({ length: level }, (_, i) => [`__n${i}`, `__a${i}`]).flat();
    const select = [...parentCols.map((c) => `p.${q(c)}`), `${value} AS ${q(n)}`, `${aggregate} AS ${q(a)}`];
    const join =
      level === 0
        ? ''
        : ` JOIN (${previous}) AS p ON ${clauses
            .slice(0, level)
            .map((c, i) => {
              const v = c.children().filter((x) => !x.isToken);
              const node = v[v.length - 2];
              return `(${scalar(node.kindName === 'SimpleNamedExpression' ? node.child(2) : node, ctx)}) IS NOT DISTINCT FROM p.${q(`__n${i}`)}`;
            })
            .join(' AND ')}`;
    const partition =
      level === 0
        ? ''
        : `PARTITION BY ${Array.from({ length: level }, (_, i) => `p.${q(`__n${i}`)}`).join(', ')} `;
    const limit = limitNode
      ? ` QUALIFY row_number() OVER (${partition}ORDER BY ${q(a)} ${direction}) <= ${scalar(limitNode, ctx)}`
      : '';
    const groupBy = Array.from({ length: level * 2 + 1 }, (_, i) => i + 1).join(', ');
    previous = `SELECT ${select.join(', ')} FROM (${inputSql}) AS i${ctx.n++}${join} GROUP BY ${groupBy}${limit}`;
  });
  const names = clauses.flatMap((_, i) => [`__n${i}`, `__a${i}`]);
  return `SELECT ${names.map((c, i) => `${q(c)} AS ${q(out[i].name)}`).join(', ')} FROM (${previous}) AS tn${ctx.n++}`;
}

/**
 * search and find over one or more tables: each table's rows that satisfy the predicate, with the
 * table's name (`$table` for search, `source_` for find) and the union's columns (null where a
 * table has no such column). In search, a bare string is a term any string column has (`*` in it
 * for a substring), and `Column:"text"` is `Column has "text"`.
 */
function search(
  op: SyntaxNode,
  legs: { name: string | null; sql: string; columns: { name: string; type: string }[] }[],
  out: { name: string; type: string }[],
  ctx: Ctx,
): string {
  const predicate = op.children().find((c) => !c.isToken && !c.isList && c.typeName === 'bool');
  const tableColumn = out[0]?.name === '$table' || out[0]?.name === 'source_' ? out[0].name : null;
  const union = out.filter((c) => c.name !== tableColumn);
  const saved = ctx.input;
  try {
    return legs
      .map((leg) => {
        const alias = `s${ctx.n++}`;
        const have = new Set(leg.columns.map((c) => c.name));
        // Every table gets the union's columns, so one predicate reads them all.
        const referenced = predicate
          ? predicate
              .find('NameReference')
              .filter((r) => r.referencedKind === 'Column')
              .map((r) => ({ name: nameOf(r), type: r.typeName ?? 'string' }))
          : [];
        const missing = [...union, ...referenced].filter(
          (c, i, all) => !have.has(c.name) && all.findIndex((x) => x.name === c.name) === i,
        );
        const padded = `(SELECT *${missing.map((c) => `, CAST(NULL AS ${SQL_TYPE[c.type] ?? 'VARCHAR'}) AS ${q(c.name)}`).join('')} FROM (${leg.sql}) AS l${ctx.n++}) AS ${alias}`;
        ctx.input = { alias, columns: [...leg.columns, ...missing] };
        const strings = leg.columns
          .filter((c) => c.type === 'string')
          .map((c) => `coalesce(${q(c.name)}, '')`);
        const where = predicate ? searchPredicate(predicate, strings, ctx) : 'TRUE';
        const select = [
          ...(tableColumn ? [`${str(leg.name ?? '')} AS ${q(tableColumn)}`] : []),
          ...union.map((c) => q(c.name)),
        ];
        return `SELECT ${select.join(', ')} FROM ${padded} WHERE ${where}`;
      })
      .join(' UNION ALL ');
  } finally {
    ctx.input = saved;
  }
}

/** search's own predicate forms, then ordinary expressions. */
function searchPredicate(n: SyntaxNode, strings: string[], ctx: Ctx): string {
  if (n.kindName === 'ParenthesizedExpression') return `(${searchPredicate(n.child(1), strings, ctx)})`;
  if (n.kindName === 'LiteralExpression' && n.stringValue() !== undefined) {
    // A bare term: any string column has it (`*` turns it into a substring pattern).
    const term = n.stringValue()!;
    if (strings.length === 0) return 'FALSE';
    if (term.includes('*')) {
      const like = str(
        term
          .toLowerCase()
          .replace(/[%_\\]/g, '\\$&')
          .replace(/\*/g, '%'),
      );
      return `(${strings.map((c) => `lower(${c}) LIKE ${like} ESCAPE '\\'`).join(' OR ')})`;
    }
    const lower = term.toLowerCase();
    const escaped = lower.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
    const head = /^[a-z0-9]/.test(lower) ? '(^|[^a-z0-9])' : '';
    const tail = /[a-z0-9]$/.test(lower) ? '($|[^a-z0-9])' : '';
    return `(${strings.map((c) => `regexp_matches(lower(${c}), ${str(`${head}${escaped}${tail}`)})`).join(' OR ')})`;
  }
  if (n.kindName === 'BinaryExpression') {
    const opText = n.child(1).text.trim().toLowerCase();
    if (opText === 'and' || opText === 'or')
      return `(${searchPredicate(n.child(0), strings, ctx)} ${opText.toUpperCase()} ${searchPredicate(n.child(2), strings, ctx)})`;
    if (opText === ':') {
      if (n.child(2).stringValue() === undefined) return unsupported(n.child(2), 'a computed search term');
      const column = `coalesce(CAST(${scalar(n.child(0), ctx)} AS VARCHAR), '')`;
      return searchPredicate(n.child(2), [column], ctx);
    }
  }
  if (n.kindName === 'FunctionCallExpression' && n.child(0).text.trim().toLowerCase() === 'not')
    return `(NOT ${searchPredicate(argsOf(n.child(1))[0], strings, ctx)})`;
  return scalar(n, ctx);
}

/** Makes the prepare markers unguessable, so no string in a query can stand for one. */
const MARKER_NONCE = randomBytes(8).toString('hex');

/** Defender functions whose data lives in Microsoft's cloud: offline their columns are empty. */
const CLOUD_FUNCTIONS: Record<string, string> = {
  fileprofile:
    'FileProfile(): global prevalence, signer and reputation come from Microsoft’s cloud — not available offline, so these columns are empty (ProfileAvailability = "Unavailable offline")',
  seenby:
    'SeenBy(): which devices saw a device comes from Microsoft’s cloud — not available offline, so SeenBy is empty',
};

function invoke(
  op: SyntaxNode,
  inputSql: string,
  inputColumns: { name: string; type: string }[],
  out: { name: string; type: string }[],
  ctx: Ctx,
): string {
  const callNode = op.last();
  const name = callNode.child(0).text.trim();
  if (ctx.functions.has(name)) return userTable(callNode, name, argsOf(callNode.child(1)), ctx, inputSql);
  const cloud = CLOUD_FUNCTIONS[name.toLowerCase()];
  if (cloud) {
    ctx.warnings.push({ message: cloud, start: callNode.start, length: callNode.width });
    const have = new Set(inputColumns.map((c) => c.name));
    const select = out.map((c) =>
      have.has(c.name)
        ? q(c.name)
        : c.name === 'ProfileAvailability'
          ? `'Unavailable offline' AS ${q(c.name)}`
          : `CAST(NULL AS ${SQL_TYPE[c.type] ?? 'VARCHAR'}) AS ${q(c.name)}`,
    );
    return `SELECT ${select.join(', ')} FROM (${inputSql}) AS f${ctx.n++}`;
  }
  return unsupported(callNode, `invoke ${name}()`);
}
