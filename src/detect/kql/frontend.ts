/**
 * The KQL front end: Microsoft's own parser and binder (`@kusto/language-service-next`, Kusto's C#
 * language service cross-compiled to JavaScript). It is loaded only when KQL is used (about 0.2 s
 * and 30 MB); queries are bound against lotl's table schemas, so unknown tables, columns and
 * functions are reported with their position.
 */
import { createRequire } from 'node:module';
import { FILE_PROFILE_COLUMNS, TABLES, type TableSchema } from './schemas.js';

export interface KqlProblem {
  line: number;
  col: number;
  /** Offset and length in the query text. */
  start: number;
  length: number;
  severity: 'error' | 'warning';
  message: string;
}

// The small part of the Bridge.NET API we use (its own d.ts types most things as any).
interface BridgeList<T> {
  Count: number;
  getItem(i: number): T;
}
interface Diagnostic {
  Message: string;
  Start: number;
  Length: number;
  Severity: string;
}
interface BridgeSymbol {
  Name: string;
  Columns?: BridgeList<{ Name: string; Type: { Name: string } }>;
}
interface BridgeNode {
  ChildCount: number;
  GetChild(i: number): BridgeNode | null;
  IsToken: boolean;
  TextStart: number;
  Width: number;
  ToString(): string;
  ResultType: BridgeSymbol | null;
  ReferencedSymbol?: { constructor: { $$name?: string } } | null;
  LiteralValue?: unknown;
  Text?: string;
  constructor: { $$name?: string };
}
interface KustoCode {
  GetDiagnostics(): BridgeList<Diagnostic>;
  Syntax: BridgeNode;
}
interface KustoLanguage {
  KustoCode: { ParseAndAnalyze(text: string, globals: unknown): KustoCode };
  GlobalState: { Default: { WithDatabase(db: unknown): unknown } };
  Symbols: {
    TableSymbol: { From(schema: string): { WithName(name: string): unknown } };
    FunctionSymbol: {
      $ctor16: new (name: string, parameters: string, body: string, description: string) => unknown;
    };
    DatabaseSymbol: { ctor: new (name: string, tables: unknown[]) => unknown };
  };
}

let language: KustoLanguage | null = null;
const globalsBySchema = new Map<readonly TableSchema[], unknown>();

function kusto(): KustoLanguage {
  if (language) return language;
  const require = createRequire(import.meta.url);
  // The bridge runtime first, then the language service; both define globals (Bridge, Kusto).
  require('@kusto/language-service-next/bridge.min.js');
  require('@kusto/language-service-next/Kusto.Language.Bridge.min.js');
  language = (globalThis as unknown as { Kusto: { Language: KustoLanguage } }).Kusto.Language;
  return language;
}

function globalsFor(tables: readonly TableSchema[]): unknown {
  let globals = globalsBySchema.get(tables);
  if (globals === undefined) {
    const K = kusto();
    const symbols: unknown[] = tables.map((t) =>
      K.Symbols.TableSymbol.From(`(${t.columns.map(([n, ty]) => `['${n}']:${ty}`).join(', ')})`).WithName(
        t.name,
      ),
    );
    // Defender's FileProfile(): binds like the real one (it adds the profile columns).
    const profile = FILE_PROFILE_COLUMNS.split(', ')
      .map((c) => c.split(':'))
      .map(([n, t]) => (t === 'string' ? `${n}=""` : `${n}=${t}(null)`))
      .join(', ');
    symbols.push(
      new K.Symbols.FunctionSymbol.$ctor16(
        'FileProfile',
        '(T:(*), x:string="SHA1", y:long=1000)',
        `{ T | extend ${profile} }`,
        'Microsoft Defender file profile (empty offline)',
      ),
      new K.Symbols.FunctionSymbol.$ctor16(
        'SeenBy',
        '(T:(*))',
        '{ T | extend SeenBy = dynamic(null) }',
        'Microsoft Defender device discovery (empty offline)',
      ),
    );
    globals = K.GlobalState.Default.WithDatabase(new K.Symbols.DatabaseSymbol.ctor('lotl', symbols));
    globalsBySchema.set(tables, globals);
  }
  return globals;
}

/**
 * A node of the bound syntax tree, seen through the few properties the SQL compiler needs: its
 * kind (Kusto's class name), children, source text and position, and what the binder found (the
 * result type; for tabular nodes, the output columns with Kusto's names).
 */
export class SyntaxNode {
  constructor(private readonly node: BridgeNode) {}

  get kindName(): string {
    const full = this.node.constructor.$$name ?? '';
    return full.replace('Kusto.Language.Syntax.', '').replace(/\$.*$/, '');
  }
  get isToken(): boolean {
    return this.node.IsToken;
  }
  get isList(): boolean {
    return this.kindName === 'SyntaxList';
  }
  get text(): string {
    return this.node.ToString();
  }
  get start(): number {
    return this.node.TextStart;
  }
  get width(): number {
    return this.node.Width;
  }
  /** What a name refers to, as the binder resolved it: Column, Variable, Parameter, Function, Table… */
  get referencedKind(): string | undefined {
    const name = this.node.ReferencedSymbol?.constructor.$$name;
    return name ? name.replace('Kusto.Language.Symbols.', '').replace(/Symbol$/, '') : undefined;
  }
  /** The binder's type name (string, long, datetime, …) of a scalar node. */
  get typeName(): string | undefined {
    return this.node.ResultType?.Name;
  }
  child(i: number): SyntaxNode {
    const c = this.node.GetChild(i);
    return c ? new SyntaxNode(c) : (undefined as unknown as SyntaxNode);
  }
  children(): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let i = 0; i < this.node.ChildCount; i++) {
      const c = this.node.GetChild(i);
      if (c) out.push(new SyntaxNode(c));
    }
    return out;
  }
  /** The last child that is not a token (an operator's expression). */
  last(): SyntaxNode {
    const nodes = this.children().filter((c) => !c.isToken);
    return nodes[nodes.length - 1];
  }
  firstToken(): string {
    for (const c of this.children()) if (c.isToken) return c.text.trim();
    return this.kindName;
  }
  /** Descendants of a kind, in source order (not below another match). */
  find(kind: string): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    const visit = (n: SyntaxNode) => {
      for (const c of n.children()) {
        if (c.kindName === kind) out.push(c);
        else if (!c.isToken) visit(c);
      }
    };
    visit(this);
    return out;
  }
  /** A tabular node's output columns, as the binder named them. */
  columns(): { name: string; type: string }[] {
    const cols = this.node.ResultType?.Columns;
    const out: { name: string; type: string }[] = [];
    if (cols)
      for (let i = 0; i < cols.Count; i++)
        out.push({ name: cols.getItem(i).Name, type: cols.getItem(i).Type.Name });
    return out;
  }
  /** A string literal's text as Kusto unescaped it, whatever type the binder gave the node. */
  stringValue(): string | undefined {
    return typeof this.node.LiteralValue === 'string' ? this.node.LiteralValue : undefined;
  }
  /** A literal's value: strings unescaped by Kusto, numbers and booleans from their text. */
  literalValue(): string | number | boolean | undefined {
    const type = this.typeName;
    if (type === 'string' && typeof this.node.LiteralValue === 'string') return this.node.LiteralValue;
    const text = this.text.trim();
    if (type === 'bool') return /^(?:bool(?:ean)?\(\s*)?(?:true|1)(?:\s*\))?$/i.test(text);
    if ((type === 'long' || type === 'int' || type === 'real') && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text))
      return Number(text);
    return undefined;
  }
}

export interface BoundQuery {
  root: SyntaxNode;
  problems: KqlProblem[];
}

/** Parses and binds a query: the tree and every diagnostic. */
export function bindKql(query: string, tables: readonly TableSchema[] = TABLES): BoundQuery {
  let code = kusto().KustoCode.ParseAndAnalyze(query, globalsFor(tables));
  let root = new SyntaxNode(code.Syntax);
  // FileProfile's arguments name the hash column (`invoke FileProfile(SHA1, 1000)`), which a
  // function declared in KQL cannot express; offline they change nothing (the profile is
  // empty), so they are blanked out — same length, positions unchanged — and the query bound
  // again.
  const profileArgs = root
    .find('InvokeOperator')
    .map((op) => op.last())
    .filter(
      (call) =>
        call.kindName === 'FunctionCallExpression' && /^FileProfile$/i.test(call.child(0).text.trim()),
    )
    .map((call) => call.child(1));
  if (profileArgs.length > 0) {
    let text = query;
    for (const a of profileArgs) {
      const open = text.indexOf('(', a.start);
      const close = a.start + a.width - 1;
      if (open >= 0 && open < close && text[close] === ')')
        text = `${text.slice(0, open + 1)}${' '.repeat(close - open - 1)}${text.slice(close)}`;
    }
    code = kusto().KustoCode.ParseAndAnalyze(text, globalsFor(tables));
    root = new SyntaxNode(code.Syntax);
  }
  const problems = diagnosticsOf(code, query);
  return { root, problems };
}

/** Parses and binds a query; every diagnostic with its line and column (1-based). */
export function checkKql(query: string, tables: readonly TableSchema[] = TABLES): KqlProblem[] {
  return bindKql(query, tables).problems;
}

function diagnosticsOf(code: KustoCode, query: string): KqlProblem[] {
  const diagnostics = code.GetDiagnostics();
  const out: KqlProblem[] = [];
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    const { line, col } = lineCol(query, d.Start);
    out.push({
      line,
      col,
      start: d.Start,
      length: d.Length,
      severity: d.Severity === 'Error' ? 'error' : 'warning',
      message: d.Message,
    });
  }
  return out;
}

export function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, col: offset - start + 1 };
}

/** The query line a problem is on, with a caret under it (for terminals). */
export function caret(query: string, p: KqlProblem): string {
  const text = query.split('\n')[p.line - 1] ?? '';
  const width = Math.max(1, Math.min(p.length, text.length - p.col + 1));
  return `${text}\n${' '.repeat(p.col - 1)}${'^'.repeat(width)}`;
}
