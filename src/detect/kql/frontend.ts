/**
 * The KQL front end: Microsoft's own parser and binder (`@kusto/language-service-next`, Kusto's C#
 * language service cross-compiled to JavaScript). It is loaded only when KQL is used (about 0.2 s
 * and 30 MB); queries are bound against lotl's table schemas, so unknown tables, columns and
 * functions are reported with their position.
 */
import { createRequire } from 'node:module';
import { TABLES, type TableSchema } from './schemas.js';

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
interface KustoCode {
  GetDiagnostics(): BridgeList<Diagnostic>;
}
interface KustoLanguage {
  KustoCode: { ParseAndAnalyze(text: string, globals: unknown): KustoCode };
  GlobalState: { Default: { WithDatabase(db: unknown): unknown } };
  Symbols: {
    TableSymbol: { From(schema: string): { WithName(name: string): unknown } };
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
    const symbols = tables.map((t) =>
      K.Symbols.TableSymbol.From(`(${t.columns.map(([n, ty]) => `['${n}']:${ty}`).join(', ')})`).WithName(
        t.name,
      ),
    );
    globals = K.GlobalState.Default.WithDatabase(new K.Symbols.DatabaseSymbol.ctor('lotl', symbols));
    globalsBySchema.set(tables, globals);
  }
  return globals;
}

/** Parses and binds a query; every diagnostic with its line and column (1-based). */
export function checkKql(query: string, tables: readonly TableSchema[] = TABLES): KqlProblem[] {
  const code = kusto().KustoCode.ParseAndAnalyze(query, globalsFor(tables));
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
