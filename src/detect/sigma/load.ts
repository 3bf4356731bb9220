/**
 * Loading Sigma rules: YAML with source positions (eemeli/yaml), multi-document files, detection,
 * correlation and filter documents told apart; every problem with a code, a severity and
 * file:line:col. A rule that fails never stops the others.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import type { EventView } from '../../normalize/normalize.js';
import {
  type CompileContext,
  CompileError,
  compileCondition,
  compileIdentifier,
  type Need,
  needOf,
  type Predicate,
} from './compile.js';
import { ConditionError, parseCondition } from './condition.js';

export type Severity = 'error' | 'warning';

export interface SigmaProblem {
  file: string;
  line?: number;
  col?: number;
  code: string;
  severity: Severity;
  message: string;
  ruleId?: string;
}

export interface LogSourceSpec {
  product?: string;
  category?: string;
  service?: string;
}

export interface SigmaRule {
  id: string;
  title: string;
  level: string;
  status: string;
  author: string;
  tags: string[];
  logsource: LogSourceSpec;
  file: string;
  line: number;
  match: Predicate;
  /** Literals one of which every matching event contains (lower-cased); null = always evaluate. */
  need: Need;
  /** The fields the rule reads; null when it searches every value (keywords). */
  fields: string[] | null;
}

export interface LoadReport {
  rules: SigmaRule[];
  /** Documents that are not detection rules and that this engine does not run yet. */
  skipped: { file: string; line: number; kind: string }[];
  problems: SigmaProblem[];
  files: number;
}

export interface LoadOptions {
  placeholders?: Record<string, string[]>;
}

/** Every .yml / .yaml file under the paths, in name order. */
export function ruleFiles(paths: string[]): { files: string[]; problems: SigmaProblem[] } {
  const files: string[] = [];
  const problems: SigmaProblem[] = [];
  const visit = (p: string) => {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch (err) {
      problems.push({
        file: p,
        code: 'SIGMA_UNREADABLE',
        severity: 'error',
        message: (err as Error).message,
      });
      return;
    }
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) visit(path.join(p, n));
    else if (/\.ya?ml$/i.test(p)) files.push(p);
  };
  for (const p of paths) visit(p);
  return { files, problems };
}

export function loadRules(paths: string[], options: LoadOptions = {}): LoadReport {
  const { files, problems } = ruleFiles(paths);
  const report: LoadReport = { rules: [], skipped: [], problems, files: files.length };
  for (const f of files) loadFile(f, report, options);
  return report;
}

/** Line and column of the node at `keys` in a document (the key itself for map entries). */
function position(
  doc: Document,
  lc: LineCounter,
  keys: (string | number)[],
): { line?: number; col?: number } {
  let node: unknown = doc.contents;
  let offset: number | undefined = (node as { range?: number[] })?.range?.[0];
  for (const k of keys) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === k);
      if (!pair) break;
      offset = (pair.key as { range?: number[] }).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof k === 'number') {
      node = node.items[k];
      offset = (node as { range?: number[] })?.range?.[0] ?? offset;
    } else break;
  }
  if (offset === undefined) return {};
  const p = lc.linePos(offset);
  return { line: p.line, col: p.col };
}

function loadFile(file: string, report: LoadReport, options: LoadOptions): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    report.problems.push({
      file,
      code: 'SIGMA_UNREADABLE',
      severity: 'error',
      message: (err as Error).message,
    });
    return;
  }
  loadText(text, file, report, options);
}

/** Rules from YAML text (one or more documents), as if read from `file`. */
export function loadRuleText(text: string, file = '<text>', options: LoadOptions = {}): LoadReport {
  const report: LoadReport = { rules: [], skipped: [], problems: [], files: 1 };
  loadText(text, file, report, options);
  return report;
}

function loadText(text: string, file: string, report: LoadReport, options: LoadOptions): void {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, version: '1.2' });
  if (!Array.isArray(docs)) return; // an empty stream
  for (const doc of docs) {
    const first = position(doc, lc, []);
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const p = e.linePos?.[0];
        report.problems.push({
          file,
          line: p?.line,
          col: p?.col,
          code: 'SIGMA_YAML',
          severity: 'error',
          message: e.message.split('\n')[0],
        });
      }
      continue;
    }
    const obj = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown> | null;
    if (obj === null || obj === undefined) continue;
    if (typeof obj !== 'object' || Array.isArray(obj)) {
      report.problems.push({
        file,
        ...first,
        code: 'SIGMA_NOT_A_RULE',
        severity: 'error',
        message: 'a rule is a YAML map',
      });
      continue;
    }
    if ('correlation' in obj) {
      report.skipped.push({ file, line: first.line ?? 1, kind: 'correlation' });
      continue;
    }
    if ('filter' in obj && !('detection' in obj)) {
      report.skipped.push({ file, line: first.line ?? 1, kind: 'filter' });
      continue;
    }
    loadDetectionRule(file, doc, lc, obj, report, options);
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string'
    ? v
    : v instanceof Date
      ? v.toISOString().slice(0, 10)
      : v === undefined || v === null
        ? undefined
        : String(v);
}

const LEVELS = new Set(['informational', 'low', 'medium', 'high', 'critical']);

function loadDetectionRule(
  file: string,
  doc: Document,
  lc: LineCounter,
  obj: Record<string, unknown>,
  report: LoadReport,
  options: LoadOptions,
): void {
  const at = (keys: (string | number)[]) => position(doc, lc, keys);
  const id = str(obj.id) ?? '';
  // A rule missing one of these is reported once, at the first thing missing.
  const logsource = obj.logsource as Record<string, unknown> | undefined;
  const detection = obj.detection as Record<string, unknown> | undefined;
  const missing: [boolean, string, string, (string | number)[]][] = [
    [
      typeof obj.title !== 'string' || obj.title.trim() === '',
      'SIGMA_MISSING_TITLE',
      'rule has no title',
      [],
    ],
    [!logsource || typeof logsource !== 'object', 'SIGMA_MISSING_LOGSOURCE', 'rule has no logsource', []],
    [
      !detection || typeof detection !== 'object' || Array.isArray(detection),
      'SIGMA_MISSING_DETECTION',
      'rule has no detection map',
      [],
    ],
    [
      detection?.condition === undefined,
      'SIGMA_MISSING_CONDITION',
      'detection has no condition',
      ['detection'],
    ],
  ];
  const first = missing.find(([bad]) => bad);
  if (first) {
    report.problems.push({
      file,
      ...at(first[3]),
      code: first[1],
      severity: 'error',
      message: first[2],
      ruleId: id || undefined,
    });
    return;
  }
  if (!logsource || !detection) return;
  const level = str(obj.level) ?? 'medium';
  if (!LEVELS.has(level)) {
    report.problems.push({
      file,
      ...at(['level']),
      code: 'SIGMA_BAD_LEVEL',
      severity: 'warning',
      message: `unknown level '${level}', read as medium`,
      ruleId: id || undefined,
    });
  }
  const ls: LogSourceSpec = {};
  for (const k of ['product', 'category', 'service'] as const) {
    const v = str(logsource[k]);
    if (v) ls[k] = v.toLowerCase();
  }
  const ctx: CompileContext = {
    scope: ls.category ? 'category' : 'service',
    placeholders: options.placeholders ?? {},
    warnings: [],
    fields: new Set(),
    keywords: false,
  };
  let match: Predicate;
  let need: Need = null;
  try {
    const ids = new Map<string, Predicate>();
    for (const [name, def] of Object.entries(detection)) {
      if (name === 'condition' || name === 'timeframe') continue;
      ids.set(name, compileIdentifier(name, def, ctx));
    }
    const conditions = Array.isArray(detection.condition) ? detection.condition : [detection.condition];
    const compiled = conditions.map((c, i) => {
      if (typeof c !== 'string')
        throw new CompileError('SIGMA_BAD_CONDITION', 'a condition is a string', ['detection', 'condition']);
      try {
        return compileCondition(parseCondition(c), ids);
      } catch (err) {
        if (err instanceof ConditionError) {
          const p = at(['detection', 'condition', ...(Array.isArray(detection.condition) ? [i] : [])]);
          // Point at the column inside the condition text (after the key and ': ').
          const col =
            p.col !== undefined
              ? p.col + (Array.isArray(detection.condition) ? 0 : 'condition: '.length) + err.col - 1
              : undefined;
          throw Object.assign(
            new CompileError('SIGMA_BAD_CONDITION', err.message, ['detection', 'condition']),
            { col },
          );
        }
        throw err;
      }
    });
    match = compiled.length === 1 ? compiled[0] : (v: EventView) => compiled.some((c) => c(v));
    need = compiled.length === 1 ? needOf(compiled[0]) : null;
  } catch (err) {
    if (err instanceof CompileError) {
      const p = at(err.path);
      const col = (err as CompileError & { col?: number }).col ?? p.col;
      report.problems.push({
        file,
        line: p.line,
        col,
        code: err.code,
        severity: 'error',
        message: err.message,
        ruleId: id || undefined,
      });
      return;
    }
    report.problems.push({
      file,
      ...at([]),
      code: 'SIGMA_INTERNAL',
      severity: 'error',
      message: (err as Error).message,
      ruleId: id || undefined,
    });
    return;
  }
  for (const w of ctx.warnings) {
    report.problems.push({
      file,
      ...at(w.path),
      code: w.code,
      severity: 'warning',
      message: w.message,
      ruleId: id || undefined,
    });
  }
  const tags = Array.isArray(obj.tags) ? obj.tags.map(String) : [];
  report.rules.push({
    id: id || `${path.basename(file)}#${at([]).line ?? 1}`,
    title: String(obj.title).trim(),
    level: LEVELS.has(level) ? level : 'medium',
    status: str(obj.status) ?? '',
    author: str(obj.author) ?? '',
    tags,
    logsource: ls,
    file,
    line: at([]).line ?? 1,
    match,
    need,
    fields: ctx.keywords ? null : [...ctx.fields],
  });
}
