/**
 * Loading indicator sets: plain lists, CSV with a header, STIX 2.1 bundles and MISP event JSON.
 * The format is recognised from the content. Every bad entry is reported with its location and
 * the rest is loaded.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import {
  canonical,
  classify,
  INDICATOR_TYPES,
  type Indicator,
  IndicatorSet,
  type IndicatorType,
  type IocProblem,
} from './indicator.js';
import { parsePattern } from './stix-pattern.js';

export interface LoadResult {
  indicators: Indicator[];
  problems: IocProblem[];
  format: 'list' | 'csv' | 'stix' | 'misp';
}

/** Type names used by CSV exports and MISP, mapped to ours. */
const TYPE_ALIASES: Record<string, IndicatorType> = {
  md5: 'md5',
  'hash-md5': 'md5',
  'filehash-md5': 'md5',
  sha1: 'sha1',
  'sha-1': 'sha1',
  'filehash-sha1': 'sha1',
  sha256: 'sha256',
  'sha-256': 'sha256',
  'filehash-sha256': 'sha256',
  ip: 'ipv4',
  ipv4: 'ipv4',
  'ipv4-addr': 'ipv4',
  'ip-src': 'ipv4',
  'ip-dst': 'ipv4',
  ipv6: 'ipv6',
  'ipv6-addr': 'ipv6',
  cidr: 'cidr',
  'ip-range': 'cidr',
  domain: 'domain',
  'domain-name': 'domain',
  hostname: 'domain',
  fqdn: 'domain',
  url: 'url',
  uri: 'url',
  filename: 'filename',
  'file-name': 'filename',
  filepath: 'filepath',
  path: 'filepath',
};

function typeOf(name: string): IndicatorType | null {
  const n = name.trim().toLowerCase();
  if ((INDICATOR_TYPES as readonly string[]).includes(n)) return n as IndicatorType;
  return TYPE_ALIASES[n] ?? null;
}

/** Adds a value, fixing IP types to the address family it really is. */
function make(
  type: IndicatorType,
  raw: string,
  base: Omit<Indicator, 'type' | 'value'>,
  where: Omit<IocProblem, 'code' | 'message'>,
  problems: IocProblem[],
): Indicator | null {
  let t = type;
  if (t === 'ipv4' || t === 'ipv6')
    t =
      classify(raw) === 'cidr' ? 'cidr' : classify(raw) === 'ipv6' ? 'ipv6' : t === 'ipv6' ? 'ipv6' : 'ipv4';
  const c = canonical(t, raw);
  if ('error' in c) {
    problems.push({
      ...where,
      code: t === 'md5' || t === 'sha1' || t === 'sha256' ? 'BAD_HASH' : 'BAD_VALUE',
      message: c.error,
    });
    return null;
  }
  return { type: t, value: c.value, ...base };
}

export function loadIndicatorFile(file: string): LoadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    return {
      indicators: [],
      problems: [{ file, code: 'UNREADABLE', message: (err as Error).message }],
      format: 'list',
    };
  }
  return loadIndicatorText(text, file);
}

export function loadIndicatorText(text: string, file: string): LoadResult {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return loadJson(text, file);
  const firstLine = trimmed.split(/\r?\n/, 1)[0] ?? '';
  if (/,/.test(firstLine) && /(^|,)\s*"?(value|indicator|ioc|observable)"?\s*(,|$)/i.test(firstLine))
    return loadCsv(text, file);
  return loadList(text, file);
}

/** One indicator a line: `value`, or `type<TAB>value[<TAB>description]`; `#` starts a comment. */
function loadList(text: string, file: string): LoadResult {
  const indicators: Indicator[] = [];
  const problems: IocProblem[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((rawLine, i) => {
    const line = rawLine.replace(/\s+#.*$/, '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith('//')) return;
    const where = { file, line: i + 1, col: rawLine.indexOf(line.split(/\t/)[0]) + 1 };
    const cells = line.split('\t');
    let type: IndicatorType | null;
    let value: string;
    let description: string | undefined;
    if (cells.length >= 2 && typeOf(cells[0])) {
      type = typeOf(cells[0]);
      value = cells[1];
      description = cells[2];
    } else {
      value = line;
      type = classify(value);
      if (!type) {
        // A hex string of the wrong length is a broken hash, not an unknown thing.
        const code = /^[0-9a-f]{16,}$/i.test(value) ? 'BAD_HASH' : 'UNKNOWN_TYPE';
        problems.push({
          ...where,
          code,
          message:
            code === 'BAD_HASH'
              ? `hex value of ${value.length} digits is not an MD5 (32), SHA-1 (40) or SHA-256 (64)`
              : `cannot tell what kind of indicator ${JSON.stringify(value)} is`,
        });
        return;
      }
    }
    const ind = make(
      type!,
      value,
      { source: file, line: i + 1, ...(description ? { description } : {}) },
      where,
      problems,
    );
    if (ind) indicators.push(ind);
  });
  return { indicators, problems, format: 'list' };
}

function loadCsv(text: string, file: string): LoadResult {
  const indicators: Indicator[] = [];
  const problems: IocProblem[] = [];
  let rows: { record: Record<string, string>; info: { lines: number } }[];
  try {
    rows = parseCsv(text, {
      columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
      info: true,
      skip_empty_lines: true,
      relax_column_count: true,
      bom: true,
    });
  } catch (err) {
    const e = err as Error & { lines?: number };
    return {
      indicators,
      problems: [{ file, line: e.lines, code: 'BAD_CSV', message: e.message }],
      format: 'csv',
    };
  }
  for (const { record, info } of rows) {
    const value = record.value ?? record.indicator ?? record.ioc ?? record.observable;
    const where = { file, line: info.lines };
    if (value === undefined || value.trim() === '') {
      problems.push({ ...where, code: 'BAD_VALUE', message: 'row has no value' });
      continue;
    }
    const typeName = record.type ?? record.indicator_type ?? record.ioc_type;
    const type = typeName ? typeOf(typeName) : classify(value);
    if (!type) {
      problems.push({
        ...where,
        code: 'UNKNOWN_TYPE',
        message: typeName
          ? `unknown indicator type ${JSON.stringify(typeName)}`
          : `cannot tell what kind of indicator ${JSON.stringify(value)} is`,
      });
      continue;
    }
    const confidence =
      record.confidence !== undefined && /^\d+$/.test(record.confidence)
        ? Number(record.confidence)
        : undefined;
    const base: Omit<Indicator, 'type' | 'value'> = { source: record.source || file, line: info.lines };
    if (record.description) base.description = record.description;
    if (confidence !== undefined) base.confidence = confidence;
    const ind = make(type, value, base, where, problems);
    if (ind) indicators.push(ind);
  }
  return { indicators, problems, format: 'csv' };
}

function loadJson(text: string, file: string): LoadResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const m = /position (\d+)/.exec(msg);
    const where: Omit<IocProblem, 'code' | 'message'> = { file };
    if (m) {
      const before = text.slice(0, Number(m[1]));
      where.line = before.split('\n').length;
      where.col = Number(m[1]) - before.lastIndexOf('\n');
    }
    return { indicators: [], problems: [{ ...where, code: 'BAD_JSON', message: msg }], format: 'stix' };
  }
  const obj = doc as Record<string, unknown>;
  if (obj && obj.type === 'bundle' && Array.isArray(obj.objects)) return loadStix(obj.objects, file);
  if (obj && (obj.Event || Array.isArray(obj.response) || Array.isArray(doc))) return loadMisp(doc, file);
  return {
    indicators: [],
    problems: [
      { file, code: 'UNKNOWN_TYPE', message: 'JSON that is neither a STIX 2.1 bundle nor a MISP event' },
    ],
    format: 'stix',
  };
}

function loadStix(objects: unknown[], file: string): LoadResult {
  const indicators: Indicator[] = [];
  const problems: IocProblem[] = [];
  objects.forEach((o, i) => {
    const obj = o as Record<string, unknown>;
    if (obj?.type !== 'indicator') return;
    const where = { file, path: `objects[${i}].pattern` };
    if (obj.pattern_type && obj.pattern_type !== 'stix') {
      problems.push({
        ...where,
        code: 'UNSUPPORTED_PATTERN',
        message: `pattern_type ${String(obj.pattern_type)} is not supported (only stix)`,
      });
      return;
    }
    if (typeof obj.pattern !== 'string') {
      problems.push({ ...where, code: 'BAD_PATTERN', message: 'indicator has no pattern' });
      return;
    }
    const parsed = parsePattern(obj.pattern);
    const { issues } = parsed;
    // A malformed pattern gives nothing: half of a broken expression is not what its author meant.
    const terms = issues.some((x) => !x.unsupported) ? [] : parsed.terms;
    for (const issue of issues) {
      problems.push({
        ...where,
        col: issue.col,
        code: issue.unsupported ? 'UNSUPPORTED_PATTERN' : 'BAD_PATTERN',
        message: `${issue.message} in ${obj.pattern}`,
      });
    }
    const base: Omit<Indicator, 'type' | 'value'> = { source: file };
    const description = [obj.name, obj.description].filter((x) => typeof x === 'string').join(': ');
    if (description) base.description = description;
    if (typeof obj.confidence === 'number') base.confidence = obj.confidence;
    for (const term of terms) {
      const ind = make(term.type, term.value, base, { ...where, col: term.col }, problems);
      if (ind) indicators.push(ind);
    }
  });
  return { indicators, problems, format: 'stix' };
}

/** MISP attribute types we match on; `a|b` types hold two values. Others are not indicators for us. */
const MISP_TYPES: Record<string, IndicatorType> = {
  md5: 'md5',
  sha1: 'sha1',
  sha256: 'sha256',
  'ip-src': 'ipv4',
  'ip-dst': 'ipv4',
  ip: 'ipv4',
  domain: 'domain',
  hostname: 'domain',
  url: 'url',
  filename: 'filename',
};

function loadMisp(doc: unknown, file: string): LoadResult {
  const indicators: Indicator[] = [];
  const problems: IocProblem[] = [];
  const events: Record<string, unknown>[] = [];
  const d = doc as Record<string, unknown>;
  if (Array.isArray(doc))
    for (const e of doc) events.push(((e as Record<string, unknown>).Event ?? e) as Record<string, unknown>);
  else if (Array.isArray(d.response))
    for (const e of d.response) events.push((e as Record<string, unknown>).Event as Record<string, unknown>);
  else events.push(d.Event as Record<string, unknown>);
  events.forEach((ev, ei) => {
    const attrs: { a: Record<string, unknown>; path: string }[] = [];
    const list = (v: unknown) => (Array.isArray(v) ? (v as Record<string, unknown>[]) : []);
    for (const [i, a] of list(ev?.Attribute).entries())
      attrs.push({ a, path: `Event[${ei}].Attribute[${i}]` });
    for (const [oi, o] of list(ev?.Object).entries()) {
      for (const [i, a] of list(o.Attribute).entries())
        attrs.push({ a, path: `Event[${ei}].Object[${oi}].Attribute[${i}]` });
    }
    for (const { a, path: p } of attrs) {
      // Only attributes meant for detection (to_ids); the rest are context.
      if (!(a.to_ids === true || a.to_ids === '1' || a.to_ids === 1)) continue;
      const type = String(a.type ?? '');
      const value = String(a.value ?? '');
      const names = type.split('|');
      const values = names.length > 1 ? value.split('|') : [value];
      const base: Omit<Indicator, 'type' | 'value'> = { source: file, confidence: 100 };
      const desc = [ev?.info, a.comment].filter((x) => typeof x === 'string' && x !== '').join(': ');
      if (desc) base.description = desc;
      names.forEach((n, i) => {
        const t = MISP_TYPES[n] ?? (n === 'port' ? null : undefined);
        if (t === null) return;
        if (t === undefined) {
          problems.push({
            file,
            path: `${p}.type`,
            code: 'UNKNOWN_TYPE',
            message: `MISP attribute type ${JSON.stringify(n)} is not matched by lotl`,
          });
          return;
        }
        const ind = make(t, values[i] ?? '', base, { file, path: `${p}.value` }, problems);
        if (ind) indicators.push(ind);
      });
    }
  });
  return { indicators, problems, format: 'misp' };
}

/** Loads several files into one set. */
export function loadIndicatorSet(files: string[]): {
  set: IndicatorSet;
  problems: IocProblem[];
  loaded: Record<string, number>;
} {
  const set = new IndicatorSet();
  const problems: IocProblem[] = [];
  const loaded: Record<string, number> = {};
  for (const f of files) {
    const r = loadIndicatorFile(f);
    for (const i of r.indicators) set.add(i);
    problems.push(...r.problems);
    loaded[path.basename(f)] = r.indicators.length;
  }
  return { set, problems, loaded };
}

export function problemLocation(p: IocProblem): string {
  let s = p.file;
  if (p.line !== undefined) s += `:${p.line}`;
  if (p.col !== undefined) s += `:${p.col}`;
  if (p.path) s += ` (${p.path}${p.line === undefined && p.col !== undefined ? ` col ${p.col}` : ''})`;
  return s;
}
