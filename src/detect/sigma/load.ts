/**
 * Loading Sigma rules: YAML with source positions (eemeli/yaml), multi-document files, detection,
 * correlation and filter documents told apart; every problem with a code, a severity and
 * file:line:col. A rule that fails never stops the others.
 */
import { readFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Document, LineCounter } from 'yaml';
import { EVERY_VALUE, fieldsOf, type Node, or } from '../ir/predicate.js';
import { filesUnder } from '../rule-files.js';
import { codeDigest } from './code-digest.js';
import {
  type CompileContext,
  CompileError,
  eventMatcher,
  type Need,
  needOf,
  type Predicate,
} from './compile.js';
import { ConditionError, parseCondition } from './condition.js';
import {
  CORRELATION_TYPES,
  type CorrelationRule,
  type CorrelationType,
  OPS,
  type Op,
  parseTimespan,
} from './correlation.js';
import { RuleCache } from './rule-cache.js';
import { conditionPredicate, identifierPredicate } from './to-predicate.js';
import { jsYaml, yaml } from './yaml-parsers.js';

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
  /** The rule's `name`, by which correlations and filters may refer to it. */
  name?: string;
  title: string;
  level: string;
  status: string;
  author: string;
  tags: string[];
  /** Microsoft Defender detection names and alert titles the rule stands for (the `defender` key). */
  defender?: string[];
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
  correlations: CorrelationRule[];
  /** Documents that are not detection rules and that this engine does not run yet. */
  skipped: { file: string; line: number; kind: string }[];
  problems: SigmaProblem[];
  files: number;
}

export interface LoadOptions {
  placeholders?: Record<string, string[]>;
  /** Parse every file with the positional parser (tests compare it with the fast path). */
  exactYaml?: boolean;
  /** Keep parsed files in a cache in this folder (see rule-cache.ts); `version` invalidates it. */
  cache?: { dir: string; version: string };
}

/** Line and column of the node at `keys` in a rule document (the key itself for map entries). */
type Locate = (keys: (string | number)[]) => { line?: number; col?: number };

interface PendingDoc {
  file: string;
  at: Locate;
  obj: Record<string, unknown>;
}

/** Every .yml / .yaml file under the paths, in name order. */
export function ruleFiles(paths: string[]): {
  files: string[];
  stats: Map<string, Stats>;
  problems: SigmaProblem[];
} {
  const { files, stats, unreadable } = filesUnder(paths, /\.ya?ml$/i);
  const problems: SigmaProblem[] = unreadable.map((u) => ({
    file: u.path,
    code: 'SIGMA_UNREADABLE',
    severity: 'error',
    message: u.message,
  }));
  return { files, stats, problems };
}

export function loadRules(paths: string[], options: LoadOptions = {}): LoadReport {
  const { files, stats, problems } = ruleFiles(paths);
  const cache =
    options.cache && !options.exactYaml
      ? new RuleCache(options.cache.dir, paths, options.cache.version)
      : null;
  const code = cache ? compilerState(options) : '';
  const report = loadDocuments(problems, files.length, options, (report, filters, correlations) => {
    for (const f of files) {
      const st = stats.get(f)!;
      const hit = cache?.get(f, st);
      if (hit) {
        const at = quickLocator(() => readFileSync(f, 'utf8'), hit.line);
        const prior = priorCompile(hit.derived, code);
        const later = { prior, remember: (d: Compiled) => cache?.derive(f, { code, ...d }) };
        routeDocuments([{ obj: hit.doc, at }], f, report, options, filters, correlations, later);
      } else loadFile(f, report, options, filters, correlations, cache ? { cache, st, code } : undefined);
    }
  });
  cache?.save();
  return report;
}

/**
 * Loads rule documents, then what refers to rules: filter documents are applied and correlations
 * resolved once every rule is loaded, wherever they stand.
 */
function loadDocuments(
  problems: SigmaProblem[],
  files: number,
  options: LoadOptions,
  load: (report: LoadReport, filters: PendingDoc[], correlations: PendingDoc[]) => void,
): LoadReport {
  const report: LoadReport = { rules: [], correlations: [], skipped: [], problems, files };
  const filters: PendingDoc[] = [];
  const correlations: PendingDoc[] = [];
  load(report, filters, correlations);
  applyFilters(report, options, filters);
  loadCorrelations(report, correlations);
  return report;
}

function position(
  doc: Document,
  lc: LineCounter,
  keys: (string | number)[],
): { line?: number; col?: number } {
  let node: unknown = doc.contents;
  let offset: number | undefined = (node as { range?: number[] })?.range?.[0];
  for (const k of keys) {
    const { isMap, isPair, isScalar, isSeq } = yaml();
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

function loadFile(
  file: string,
  report: LoadReport,
  options: LoadOptions,
  filters: PendingDoc[],
  correlations: PendingDoc[],
  caching?: { cache: RuleCache; st: Stats; code: string },
): void {
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
  try {
    loadText(
      text,
      file,
      report,
      options,
      filters,
      correlations,
      (line, doc) => {
        if (caching && jsonSafe(doc)) caching.cache.set(file, caching.st, line, doc);
      },
      caching ? { remember: (d) => caching.cache.derive(file, { code: caching.code, ...d }) } : undefined,
    );
  } catch (err) {
    // Whatever one file does to the loader stays that file's problem; the others still load.
    report.problems.push({
      file,
      code: 'SIGMA_UNREADABLE',
      severity: 'error',
      message: `the file could not be loaded: ${(err as Error).message.split('\n')[0]}`,
    });
  }
}

/** Rules from YAML text (one or more documents), as if read from `file`. */
export function loadRuleText(text: string, file = '<text>', options: LoadOptions = {}): LoadReport {
  return loadDocuments([], 1, options, (report, filters, correlations) =>
    loadText(text, file, report, options, filters, correlations),
  );
}

function loadText(
  text: string,
  file: string,
  report: LoadReport,
  options: LoadOptions,
  filters: PendingDoc[],
  correlations: PendingDoc[],
  /** Told of the document of a file that holds one, without problems (the cache keeps those). */
  onSingle?: (line: number, doc: unknown) => void,
  later?: CompileLater,
): void {
  const quick = options.exactYaml ? null : quickDocuments(text);
  if (quick) {
    onSingle?.(quick.line, quick.doc);
    routeDocuments([{ obj: quick.doc, at: quick.at }], file, report, options, filters, correlations, later);
    return;
  }
  // Files the fast parser cannot take (an anchor, or what looks like one: `&&` in a command line)
  // are cached too once parsed exactly, if they hold one document and no YAML error.
  const before = report.problems.length;
  const docs = exactDocuments(text, file, report);
  const single = docs.length === 1 && report.problems.length === before;
  if (single) onSingle?.(docs[0].at([]).line ?? 1, docs[0].obj);
  routeDocuments(docs, file, report, options, filters, correlations, single ? later : undefined);
}

/** Detection rules are loaded now; filters and correlations wait for every rule. */
function routeDocuments(
  docs: ParsedDocument[],
  file: string,
  report: LoadReport,
  options: LoadOptions,
  filters: PendingDoc[],
  correlations: PendingDoc[],
  /** For the one document of a cached file. */
  later?: CompileLater,
): void {
  for (const { obj, at } of docs) {
    if (obj === null || obj === undefined) continue;
    if (typeof obj !== 'object' || Array.isArray(obj)) {
      report.problems.push({
        file,
        ...at([]),
        code: 'SIGMA_NOT_A_RULE',
        severity: 'error',
        message: 'a rule is a YAML map',
      });
      continue;
    }
    const rec = obj as Record<string, unknown>;
    if ('correlation' in rec) {
      correlations.push({ file, at, obj: rec });
      continue;
    }
    if ('filter' in rec && !('detection' in rec)) {
      filters.push({ file, at, obj: rec });
      continue;
    }
    loadDetectionRule(file, at, rec, report, options, docs.length === 1 ? later : undefined);
  }
}

interface ParsedDocument {
  obj: unknown;
  at: Locate;
}

/** Every document with its positions (eemeli/yaml); YAML errors are reported and their documents dropped. */
function exactDocuments(text: string, file: string, report: LoadReport): ParsedDocument[] {
  const { LineCounter, parseAllDocuments } = yaml();
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, version: '1.2' });
  if (!Array.isArray(docs)) return []; // an empty stream
  const out: ParsedDocument[] = [];
  for (const doc of docs) {
    const yamlProblem = (p: { line: number; col: number } | undefined, message: string) =>
      report.problems.push({
        file,
        line: p?.line,
        col: p?.col,
        code: 'SIGMA_YAML',
        severity: 'error',
        message: message.split('\n')[0],
      });
    if (doc.errors.length > 0) {
      for (const e of doc.errors) yamlProblem(e.linePos?.[0], e.message);
      continue;
    }
    let obj: unknown;
    try {
      // An alias bomb (aliases of aliases, each a list of the last) is refused, not expanded.
      obj = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      yamlProblem(
        doc.contents?.range ? lc.linePos(doc.contents.range[0]) : undefined,
        (err as Error).message,
      );
      continue;
    }
    out.push({ obj, at: (keys) => position(doc, lc, keys) });
  }
  return out;
}

/**
 * The fast path for the common file: one document, no anchors, valid YAML. js-yaml parses it about
 * twice as fast as eemeli/yaml, but without positions, so a problem's location comes from parsing
 * the file again exactly, only when a problem is reported. Anything else takes the exact path.
 * (A test checks both paths load the same rules from all of SigmaHQ.)
 */
function quickDocuments(text: string): { doc: unknown; line: number; at: Locate } | null {
  if (DOCUMENT_MARKER.test(text) || ANCHOR.test(text)) return null;
  let docs: unknown[];
  try {
    docs = jsYaml().loadAll(text, null, { schema: jsYaml().CORE_SCHEMA });
  } catch {
    return null;
  }
  if (docs.length !== 1) return null;
  const line = firstContentLine(text);
  return { doc: docs[0], line, at: quickLocator(() => text, line) };
}

/** Positions for a fast-path document: its first line is known; anything deeper parses the text exactly, once. */
function quickLocator(text: () => string, first: number): Locate {
  let exact: { doc: Document; lc: LineCounter } | undefined;
  return (keys) => {
    if (keys.length === 0) return { line: first, col: 1 };
    if (!exact) {
      let source: string;
      try {
        source = text();
      } catch {
        return { line: first }; // the file went away since it was cached
      }
      const { LineCounter, parseAllDocuments } = yaml();
      const lc = new LineCounter();
      const [doc] = parseAllDocuments(source, { lineCounter: lc, version: '1.2' }) as Document[];
      exact = { doc, lc };
    }
    return position(exact.doc, exact.lc, keys);
  };
}

/** Whether a parsed document survives JSON as it is (YAML's .inf and .nan do not). */
function jsonSafe(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(jsonSafe);
  if (v !== null && typeof v === 'object') return Object.values(v).every(jsonSafe);
  return true;
}

/** `---` or `...` at the start of a line: more than one document, or markers to honour exactly. */
const DOCUMENT_MARKER = /^(?:---|\.\.\.)(?:\s|$)/m;
/** An anchor (and so possibly aliases, whose expansion the exact path bounds). */
const ANCHOR = /(?:^|[\s[{,:-])&[^\s]/m;

/** The line of a single-document file's first node: past blank lines, comments and directives. */
function firstContentLine(text: string): number {
  let line = 1;
  let i = 0;
  while (i < text.length) {
    let end = text.indexOf('\n', i);
    if (end < 0) end = text.length;
    const t = text.slice(i, end).trim();
    if (t !== '' && !t.startsWith('#') && !t.startsWith('%')) return line;
    line++;
    i = end + 1;
  }
  return 1;
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
  at: Locate,
  obj: Record<string, unknown>,
  report: LoadReport,
  options: LoadOptions,
  later?: CompileLater,
): void {
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
  const scope = ls.category ? 'category' : 'service';
  const context = (): CompileContext => ({ placeholders: options.placeholders ?? {}, warnings: [] });
  let match: Predicate;
  let compiled: Compiled;
  if (later?.prior) {
    // This file's rule compiled before (without an error), with this compiler and placeholders:
    // its needs are known, and it is compiled when an event first reaches it (most never are).
    compiled = later.prior;
    let real: Predicate | null = null;
    match = (v) => {
      if (real === null) {
        try {
          real = eventMatcher(compileDetection(detection, context(), at), scope);
        } catch {
          real = () => false; // cannot happen: the same text compiled before
        }
      }
      return real(v);
    };
  } else {
    const ctx = context();
    let node: Node;
    try {
      node = compileDetection(detection, ctx, at);
      match = eventMatcher(node, scope);
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
    const warnings = ctx.warnings.map((w) => ({ ...at(w.path), code: w.code, message: w.message }));
    const fields = fieldsOf(node);
    compiled = { need: needOf(node), fields: fields.has(EVERY_VALUE) ? null : [...fields], warnings };
    later?.remember(compiled);
  }
  // Compile warnings (an unresolved placeholder), told again from the cache when compiling waits.
  for (const { code, message, ...where } of compiled.warnings) {
    report.problems.push({ file, ...where, code, severity: 'warning', message, ruleId: id || undefined });
  }
  const tags = Array.isArray(obj.tags) ? obj.tags.map(String) : [];
  // Microsoft Defender detection names and alert titles the rule stands for (lotl's pack keeps them).
  const defender = (
    Array.isArray(obj.defender) ? obj.defender : typeof obj.defender === 'string' ? [obj.defender] : []
  )
    .filter((d): d is string => typeof d === 'string' && d.trim() !== '')
    .map((d) => d.trim());
  report.rules.push({
    ...(defender.length > 0 ? { defender } : {}),
    ...(typeof obj.name === 'string' ? { name: obj.name } : {}),
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
    need: compiled.need,
    fields: compiled.fields,
  });
}

/** What compiling a rule's detection tells besides its predicate: what the engine plans with, and its warnings. */
interface Compiled {
  need: Need;
  fields: string[] | null;
  warnings: { line?: number; col?: number; code: string; message: string }[];
}

/** How a cached file's rule may be compiled later: what compiling it told before, and where to keep what it tells now. */
interface CompileLater {
  prior?: Compiled;
  remember(compiled: Compiled): void;
}

/** The compiler's code and the placeholders: what a rule's compiled needs depend on besides its text. */
function compilerState(options: LoadOptions): string {
  const code = codeDigest([
    'compile',
    'to-predicate',
    'sigma-string',
    'condition',
    'load',
    '../ir/predicate',
    '../ir/to-js',
    '../ir/regex',
  ]);
  return `${code}:${JSON.stringify(options.placeholders ?? {})}`;
}

/** What a cache entry says compiling told, if it was told by this compiler with these placeholders. */
function priorCompile(derived: unknown, code: string): Compiled | undefined {
  if (derived === null || typeof derived !== 'object') return undefined;
  const d = derived as { code?: unknown; need?: unknown; fields?: unknown; warnings?: unknown };
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  const warning = (w: unknown) =>
    w !== null &&
    typeof w === 'object' &&
    typeof (w as { code?: unknown }).code === 'string' &&
    typeof (w as { message?: unknown }).message === 'string';
  if (
    d.code !== code ||
    !(d.need === null || strings(d.need)) ||
    !(d.fields === null || strings(d.fields)) ||
    !(Array.isArray(d.warnings) && d.warnings.every(warning))
  )
    return undefined;
  return {
    need: d.need as Need,
    fields: d.fields as string[] | null,
    warnings: d.warnings as Compiled['warnings'],
  };
}

/** A detection map → its predicate; CompileError (conditions: with the column) when it cannot be. */
function compileDetection(detection: Record<string, unknown>, ctx: CompileContext, at: Locate): Node {
  const ids = new Map<string, Node>();
  for (const [name, def] of Object.entries(detection)) {
    if (name === 'condition' || name === 'timeframe') continue;
    ids.set(name, identifierPredicate(name, def, ctx));
  }
  const conditions = Array.isArray(detection.condition) ? detection.condition : [detection.condition];
  const compiled = conditions.map((c, i) => {
    if (typeof c !== 'string')
      throw new CompileError('SIGMA_BAD_CONDITION', 'a condition is a string', ['detection', 'condition']);
    try {
      return conditionPredicate(parseCondition(c), ids);
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
          {
            col,
          },
        );
      }
      throw err;
    }
  });
  return compiled.length === 1 ? compiled[0] : or(...compiled);
}

/**
 * Global filter rules: each filter names rules (by id or name; `any` or none = every rule) and a
 * logsource; to every rule it reaches whose logsource it contains, its condition is ANDed
 * (pySigma's reading, so filters are written as the condition to keep: `not selection`). The
 * filter is compiled in the scope of the rule it is applied to.
 */
function applyFilters(report: LoadReport, options: LoadOptions, filters: PendingDoc[]): void {
  for (const { file, at, obj } of filters) {
    const filter = obj.filter as Record<string, unknown> | undefined;
    const logsource = (obj.logsource ?? {}) as Record<string, unknown>;
    if (!filter || typeof filter !== 'object' || filter.condition === undefined) {
      report.problems.push({
        file,
        ...at(['filter']),
        code: 'SIGMA_BAD_FILTER',
        severity: 'error',
        message: 'a filter needs a filter map with a condition',
      });
      continue;
    }
    const names = Array.isArray(filter.rules)
      ? filter.rules.map(String)
      : typeof filter.rules === 'string' && filter.rules !== 'any'
        ? [filter.rules]
        : [];
    const ls: LogSourceSpec = {};
    for (const k of ['product', 'category', 'service'] as const)
      if (typeof logsource[k] === 'string') ls[k] = String(logsource[k]).toLowerCase();
    const compiled = new Map<string, Predicate | null>();
    const compileFor = (scope: 'category' | 'service'): Predicate | null => {
      if (compiled.has(scope)) return compiled.get(scope) ?? null;
      const ctx: CompileContext = { placeholders: options.placeholders ?? {}, warnings: [] };
      let p: Predicate | null = null;
      try {
        const ids = new Map<string, Node>();
        for (const [n, def] of Object.entries(filter))
          if (n !== 'condition' && n !== 'rules') ids.set(n, identifierPredicate(n, def, ctx));
        p = eventMatcher(conditionPredicate(parseCondition(String(filter.condition)), ids), scope);
      } catch (err) {
        const e = err as Error & { path?: (string | number)[] };
        report.problems.push({
          file,
          ...at(e.path ? ['filter', ...e.path.slice(1)] : ['filter']),
          code: err instanceof CompileError ? err.code : 'SIGMA_BAD_FILTER',
          severity: 'error',
          message: e.message,
        });
      }
      compiled.set(scope, p);
      return p;
    };
    let applied = 0;
    for (const rule of report.rules) {
      if (names.length > 0 && !names.includes(rule.id) && !(rule.name && names.includes(rule.name))) continue;
      if (
        (ls.product && ls.product !== rule.logsource.product) ||
        (ls.category && ls.category !== rule.logsource.category) ||
        (ls.service && ls.service !== rule.logsource.service)
      )
        continue;
      const keep = compileFor(rule.logsource.category ? 'category' : 'service');
      if (!keep) break;
      const match = rule.match;
      rule.match = (v) => match(v) && keep(v);
      applied++;
    }
    if (applied === 0 && !report.problems.some((p) => p.file === file && p.severity === 'error')) {
      report.problems.push({
        file,
        ...at(['filter']),
        code: 'SIGMA_FILTER_UNUSED',
        severity: 'warning',
        message: 'this filter applies to no loaded rule',
      });
    }
  }
}

/** Correlation documents: checked once every rule is loaded, since they refer to rules by id or name. */
function loadCorrelations(report: LoadReport, pending: PendingDoc[]): void {
  const known = new Set<string>();
  for (const r of report.rules) {
    known.add(r.id);
    if (r.name) known.add(r.name);
  }
  for (const { obj } of pending) {
    if (typeof obj.id === 'string') known.add(obj.id);
    if (typeof obj.name === 'string') known.add(obj.name);
  }
  for (const { file, at, obj } of pending) {
    const id = str(obj.id) ?? `${path.basename(file)}#${at([]).line ?? 1}`;
    const fail = (code: string, message: string, keys: (string | number)[]) => {
      report.problems.push({
        file,
        ...at(['correlation', ...keys]),
        code,
        severity: 'error',
        message,
        ruleId: id,
      });
    };
    const c = obj.correlation as Record<string, unknown>;
    if (!c || typeof c !== 'object') {
      fail('SIGMA_BAD_CORRELATION', 'correlation must be a map', []);
      continue;
    }
    const type = String(c.type ?? '') as CorrelationType;
    if (!CORRELATION_TYPES.includes(type)) {
      fail(
        'SIGMA_BAD_CORRELATION',
        `unknown correlation type '${String(c.type)}' (one of ${CORRELATION_TYPES.join(', ')})`,
        ['type'],
      );
      continue;
    }
    const rules = (Array.isArray(c.rules) ? c.rules : c.rules === undefined ? [] : [c.rules]).map(String);
    if (rules.length === 0) {
      fail('SIGMA_BAD_CORRELATION', 'correlation names no rules', ['rules']);
      continue;
    }
    const missing = rules.find((r) => !known.has(r));
    if (missing) {
      fail('SIGMA_UNKNOWN_RULE', `correlation refers to '${missing}', which is no loaded rule's id or name`, [
        'rules',
      ]);
      continue;
    }
    const timespanMs = parseTimespan(String(c.timespan ?? ''));
    if (timespanMs === null) {
      fail(
        'SIGMA_BAD_CORRELATION',
        `timespan must be a number and a unit (s, m, h, d), not ${JSON.stringify(c.timespan)}`,
        ['timespan'],
      );
      continue;
    }
    const cond = (c.condition ??
      (type === 'temporal' || type === 'temporal_ordered' ? { gte: rules.length } : undefined)) as
      | Record<string, unknown>
      | undefined;
    if (!cond || typeof cond !== 'object') {
      fail('SIGMA_BAD_CORRELATION', 'correlation has no condition', ['condition']);
      continue;
    }
    const condition: [Op, number][] = [];
    let bad: string | null = null;
    for (const [k, v] of Object.entries(cond)) {
      if (k === 'field' || k === 'percentile') continue;
      if (!OPS.includes(k as Op)) bad = `unknown condition operator '${k}' (one of ${OPS.join(', ')})`;
      else if (!Number.isFinite(Number(v))) bad = `condition ${k} needs a number`;
      else condition.push([k as Op, Number(v)]);
    }
    const field = typeof cond.field === 'string' ? cond.field : undefined;
    if (!bad && condition.length === 0) bad = 'condition has no operator';
    if (!bad && ['value_count', 'value_sum', 'value_avg', 'value_percentile'].includes(type) && !field)
      bad = `${type} needs condition.field`;
    if (bad) {
      fail('SIGMA_BAD_CORRELATION', bad, ['condition']);
      continue;
    }
    const groupBy = (
      Array.isArray(c['group-by']) ? c['group-by'] : c['group-by'] === undefined ? [] : [c['group-by']]
    ).map(String);
    const aliases: Record<string, Record<string, string>> = {};
    for (const [alias, map] of Object.entries((c.aliases ?? {}) as Record<string, unknown>)) {
      aliases[alias] = Object.fromEntries(
        Object.entries((map ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
      );
    }
    const level = str(obj.level) ?? 'medium';
    report.correlations.push({
      id,
      ...(typeof obj.name === 'string' ? { name: obj.name } : {}),
      title: str(obj.title) ?? id,
      level: (LEVELS.has(level) ? level : 'medium') as CorrelationRule['level'],
      author: str(obj.author) ?? '',
      tags: Array.isArray(obj.tags) ? obj.tags.map(String) : [],
      file,
      line: at([]).line ?? 1,
      type,
      rules,
      groupBy,
      timespanMs,
      condition,
      ...(field ? { field } : {}),
      ...(cond.percentile !== undefined ? { percentile: Number(cond.percentile) } : {}),
      aliases,
      generate: c.generate === true || obj.generate === true,
    });
  }
}

/** A load in one line: rules and correlations loaded, from how many files, how many failed. */
export function loadSummary(r: LoadReport): string {
  const failed = new Set(
    r.problems.filter((p) => p.severity === 'error').map((p) => `${p.file}#${p.ruleId ?? p.line}`),
  ).size;
  return `${r.rules.length} rules and ${r.correlations.length} correlations loaded from ${r.files} files, ${failed} failed`;
}
