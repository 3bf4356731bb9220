/**
 * Detection → predicate over an event. Each detection item (`Field|mod|mod: value(s)`) becomes a
 * closure; identifiers combine items (map = AND, list of maps = OR, plain values = keywords); the
 * condition combines identifiers. A field the event lacks makes its item false (true under `not`):
 * the rule is never dropped for it.
 */

import { type EventView, OVERRIDDEN_FIELDS } from '../../normalize/normalize.js';
import { cidrContains, parseCidr, parseIp } from '../ir/ip.js';
import { EVERY_VALUE } from '../ir/predicate.js';
import { LiteralScanner } from './aho-corasick.js';
import { type Cond, expandPattern } from './condition.js';
import { compileRuleRegex, escapeLength, UnsafeRegexError, withInlineFlags } from './regex.js';
import {
  literal,
  lowerValue,
  type Mode,
  parseSigmaString,
  STAR,
  stringTest,
  windash,
  withMode,
} from './sigma-string.js';

export type Predicate = (view: EventView) => boolean;

/**
 * Literals a predicate needs: when it is true, the event's lower-cased text contains at least one
 * of them. null when there is no such set (regexes, numbers compared, negations). The engine uses
 * them to skip rules; the predicate itself always decides.
 */
export type Need = string[] | null;
/** A predicate carrying its need (a property, not a WeakMap: thousands of those entries slowed loading and every GC). */
type WithNeed = Predicate & { need?: Need };
/** Shorter literals would match nearly every event and prune nothing. */
const MIN_LITERAL = 3;

export function needOf(p: Predicate): Need {
  return (p as WithNeed).need ?? null;
}

function withNeed(p: Predicate, need: Need): Predicate {
  if (need !== null) (p as WithNeed).need = need;
  return p;
}

/** All of these hold: any one child's need is a need of the whole; take the most selective. */
function needAll(needs: Need[]): Need {
  let best: Need = null;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const n of needs) {
    if (n === null) continue;
    const score = Math.min(...n.map((l) => l.length)) * 4 - n.length;
    if (score > bestScore) {
      best = n;
      bestScore = score;
    }
  }
  return best;
}

/** One of these holds: every child must have a need, and the union is the need. */
function needAny(needs: Need[]): Need {
  const out = new Set<string>();
  for (const n of needs) {
    if (n === null) return null;
    for (const l of n) out.add(l);
  }
  return out.size > 0 ? [...out] : null;
}

/**
 * Long enough to be worth looking for. (Short non-ASCII literals would be selective too, but the
 * homoglyph rules bring hundreds of distinct characters, which widens every automaton's tables.)
 */
function selective(lit: string): boolean {
  return lit.length >= MIN_LITERAL;
}

/** The longest literal run of a value's parts, if selective enough to look for. */
function partsNeed(parts: ReturnType<typeof parseSigmaString>): string | null {
  let best = '';
  for (const p of parts) if (typeof p === 'string' && p.length > best.length) best = p;
  return selective(best) ? best.toLowerCase() : null;
}

/**
 * The runs of plain characters every match of a regex must contain, in order: those at the top
 * level of a pattern without top-level alternation (groups, classes, escapes standing for classes
 * and quantified characters end a run). Null when the pattern has top-level alternation.
 */
function regexRuns(src: string): string[] | null {
  let depth = 0;
  let run = '';
  const runs: string[] = [];
  const end = () => {
    if (run.length > 0) runs.push(run);
    run = '';
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    const next = src[i + 1];
    const quantified = next === '*' || next === '?' || next === '+' || next === '{';
    if (c === '\\') {
      const e = next;
      if (e === undefined) break;
      if (/[^\w\s]/.test(e)) {
        const after = src[i + 2];
        if (depth === 0 && !(after === '*' || after === '?' || after === '{')) run += e;
        else end();
        i++;
        continue;
      }
      // \d, \w, \x41, \u{..}, \k<name>, \p{..}, \1: not the letters they are written with.
      end();
      i += escapeLength(src, i) - 1;
      continue;
    }
    if (c === '[') {
      end();
      while (i < src.length && src[i] !== ']') i += src[i] === '\\' ? 2 : 1;
      continue;
    }
    if (c === '(') {
      depth++;
      end();
      continue;
    }
    if (c === ')') {
      depth--;
      continue;
    }
    if (c === '{') {
      // A quantifier's bounds ({2}, {50,}) are not text.
      end();
      while (i < src.length && src[i] !== '}') i++;
      continue;
    }
    if (depth > 0) continue;
    if (c === '|') return null;
    if ('.^$*+?{}'.includes(c) || quantified) {
      // `x+` still needs one x, but a longer run cannot go through it.
      if (next === '+' && !'.^$*+?{}'.includes(c)) run += c;
      end();
      continue;
    }
    run += c;
  }
  end();
  return runs;
}

/** A literal every match of a regex must contain, if one is long enough to look for. */
export function regexNeed(src: string): string | null {
  let best = '';
  for (const run of regexRuns(src) ?? []) if (run.length > best.length) best = run;
  return selective(best) ? best.toLowerCase() : null;
}

/**
 * A cheap test a value must pass before a rule regex runs on it: the characters the pattern's
 * top-level runs need, each as many times as needed (`\+.*\+.*\+` needs three '+'). Rule regexes
 * such as the obfuscation ones run on every command line, and most lack the backtick or the
 * fourteen '+' they look for; finding that out by backtracking is the slow way. Cased letters are
 * left out under the i flag. Null when nothing is needed.
 */
export function regexGate(src: string, ignoreCase: boolean): ((s: string) => boolean) | null {
  const counts = new Map<string, number>();
  for (const run of regexRuns(src) ?? [])
    for (const c of run) {
      if (ignoreCase && c.toLowerCase() !== c.toUpperCase()) continue;
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
  if (counts.size === 0) return null;
  const need = [...counts];
  return (s) => {
    for (const [c, times] of need) {
      let at = -1;
      for (let k = 0; k < times; k++) {
        at = s.indexOf(c, at + 1);
        if (at < 0) return false;
      }
    }
    return true;
  };
}

/** A compile error with the item it is about (its key, for locating it in the file). */
export class CompileError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Path of YAML keys to the offending node, for file:line:col. */
    readonly path: (string | number)[],
  ) {
    super(message);
  }
}

export interface CompileContext {
  /** `category` rules read Sigma's taxonomy names; `service` rules the source's own names first. */
  scope: 'category' | 'service';
  /** `%name%` placeholders for `expand`. */
  placeholders: Record<string, string[]>;
  /** Problems that do not stop the rule (unresolved placeholders). */
  warnings: CompileError[];
  /** Fields the rule reads (fieldref targets included); `keywords` when it searches every value. */
  fields: Set<string>;
  keywords: boolean;
}

export const KNOWN = new Set([
  'contains',
  'startswith',
  'endswith',
  'all',
  'exists',
  'cased',
  'neq',
  'windash',
  're',
  'i',
  'm',
  's',
  'ignorecase',
  'multiline',
  'dotall',
  'base64',
  'base64offset',
  'utf16le',
  'wide',
  'utf16be',
  'utf16',
  'cidr',
  'expand',
  'fieldref',
  'lt',
  'lte',
  'gt',
  'gte',
  'minute',
  'hour',
  'day',
  'week',
  'month',
  'year',
]);

/** Regexes from rules are untrusted: only this much of a value is searched. */
const MAX_REGEX_INPUT = 64 * 1024;

type Getter = (view: EventView) => unknown;

export function getter(field: string, ctx: Pick<CompileContext, 'scope'>): Getter {
  if (field === EVERY_VALUE) return everyValue;
  const lower = field.toLowerCase();
  if (ctx.scope === 'category') return (v) => v.sigmaLower(field, lower);
  // Most fields: the source's own value first. The few a profile recomputes under the same name
  // (an access list given its message texts) take the taxonomy's value where it does so.
  if (!OVERRIDDEN_FIELDS.has(lower))
    return (v) => {
      const own = v.field(field);
      return own !== undefined ? own : v.sigmaLower(field, lower);
    };
  return (v) => {
    const own = v.field(field);
    return own !== undefined && !v.overrides(lower) ? own : v.sigmaLower(field, lower);
  };
}

/** The event's own values as texts, a list's elements each (what keywords search). */
function everyValue(view: EventView): string[] {
  const out: string[] = [];
  const add = (x: unknown): void => {
    if (x === undefined || x === null) return;
    if (Array.isArray(x)) x.forEach(add);
    else if (typeof x !== 'object') out.push(String(x));
  };
  for (const k in view.raw.data) add(view.raw.data[k]);
  return out;
}

/** Event values as strings: arrays give each element; numbers and booleans their text. */
function eachString(value: unknown, test: (s: string) => boolean): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.some((x) => eachString(x, test));
  if (typeof value === 'object') return false;
  return test(String(value));
}

export function encodeChain(s: string, mods: string[]): string[] {
  // Encoding modifiers work on bytes: utf16* choose the bytes, base64* encode them.
  let bytes: Buffer | null = null;
  let out: string[] = [s];
  for (const m of mods) {
    if (m === 'utf16le' || m === 'wide') bytes = Buffer.from(s, 'utf16le');
    else if (m === 'utf16be') bytes = Buffer.from(s, 'utf16le').swap16();
    else if (m === 'utf16') bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);
    else if (m === 'base64') out = [(bytes ?? Buffer.from(s, 'utf8')).toString('base64').replace(/=+$/, '')];
    else if (m === 'base64offset') {
      const b = bytes ?? Buffer.from(s, 'utf8');
      out = [0, 1, 2].map((i) => {
        const shifted = Buffer.concat([Buffer.alloc(i, 0x20), b]);
        const enc = shifted.toString('base64');
        const start = [0, 2, 3][i];
        const tail = (b.length + i) % 3;
        const end = enc.length - (tail === 0 ? 0 : tail === 1 ? 3 : 2);
        return enc.slice(start, end);
      });
    }
  }
  return out;
}

function timePart(value: unknown, part: string): number | null {
  const t =
    typeof value === 'number'
      ? value
      : Date.parse(String(value).replace(' ', 'T') + (/[zZ]|[+-]\d\d:?\d\d$/.test(String(value)) ? '' : 'Z'));
  if (!Number.isFinite(t)) return null;
  const d = new Date(t);
  switch (part) {
    case 'minute':
      return d.getUTCMinutes();
    case 'hour':
      return d.getUTCHours();
    case 'day':
      return d.getUTCDate();
    case 'month':
      return d.getUTCMonth() + 1;
    case 'year':
      return d.getUTCFullYear();
    default: {
      // ISO week number.
      const day = (d.getUTCDay() + 6) % 7;
      const thursday = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3));
      const firstThursday = new Date(Date.UTC(thursday.getUTCFullYear(), 0, 4));
      return (
        1 +
        Math.round(
          (thursday.getTime() - firstThursday.getTime()) / 604_800_000 -
            (((firstThursday.getUTCDay() + 6) % 7) - 3) / 7,
        )
      );
    }
  }
}

/** The string mode the modifiers ask for (keywords default to contains, fields to exact). */
function modeOf(has: (m: string) => boolean, fallback: Mode): Mode {
  if (has('contains')) return 'contains';
  if (has('startswith')) return 'startswith';
  if (has('endswith')) return 'endswith';
  return fallback;
}

const STRING_MODES = ['contains', 'startswith', 'endswith'];
const NUMERIC = ['lt', 'lte', 'gt', 'gte'];
const TIME_PARTS = ['minute', 'hour', 'day', 'week', 'month', 'year'];
const REGEX_FLAGS = ['i', 'm', 's', 'ignorecase', 'multiline', 'dotall'];
const ENCODINGS = ['base64', 'base64offset'];
const UTF16 = ['utf16le', 'wide', 'utf16be', 'utf16'];

/**
 * Modifier chains that contradict themselves are errors, not silently one reading of them (the
 * specification's types: a regex is not Base64-encoded, a number is not a prefix, one value is
 * not both a prefix and a suffix). Each message names the modifiers at fault.
 */
export function checkModifierChain(mods: string[], path: (string | number)[]): void {
  const bad = (message: string) => {
    throw new CompileError('SIGMA_BAD_MODIFIER', message, path);
  };
  const of = (group: string[]) => mods.filter((m) => group.includes(m));
  const seen = new Set<string>();
  for (const m of mods) {
    if (seen.has(m)) bad(`modifier '${m}' is given twice`);
    seen.add(m);
  }
  const modes = of(STRING_MODES);
  if (modes.length > 1) bad(`'${modes.join("' and '")}' exclude each other (one value is matched one way)`);
  const numeric = of(NUMERIC);
  if (numeric.length > 1)
    bad(`'${numeric.join("' and '")}' exclude each other (one comparison an item; AND two items)`);
  const parts = of(TIME_PARTS);
  if (parts.length > 1) bad(`'${parts.join("' and '")}' exclude each other (one part of a time an item)`);
  const encodings = of(ENCODINGS);
  if (encodings.length > 1) bad(`'${encodings.join("' and '")}' exclude each other`);
  const utf16 = of(UTF16);
  if (utf16.length > 1) bad(`'${utf16.join("' and '")}' exclude each other (one text encoding)`);
  if (utf16.length > 0 && encodings.length === 0)
    bad(`'${utf16[0]}' chooses the bytes that 'base64' or 'base64offset' encode; neither follows it`);
  const isNumber = numeric.length > 0 || parts.length > 0;
  const exclusive: [string, string[]][] = [
    ['exists', mods.filter((m) => m !== 'exists')],
    [
      're',
      mods.filter(
        // A rule regex is searched for anywhere: `contains` says so again; startswith and endswith
        // would need anchors the regex does not have (write ^ or $ in it).
        (m) =>
          m !== 're' &&
          !REGEX_FLAGS.includes(m) &&
          m !== 'contains' &&
          m !== 'expand' &&
          m !== 'neq' &&
          m !== 'all',
      ),
    ],
    ['cidr', mods.filter((m) => m !== 'cidr' && m !== 'neq' && m !== 'all' && m !== 'expand')],
    [
      'fieldref',
      mods.filter(
        (m) => m !== 'fieldref' && !STRING_MODES.includes(m) && m !== 'neq' && m !== 'all' && m !== 'cased',
      ),
    ],
  ];
  for (const [m, others] of exclusive)
    if (mods.includes(m) && others.length > 0) bad(`'${m}' cannot be combined with '${others.join("', '")}'`);
  const flags = of(REGEX_FLAGS);
  if (flags.length > 0 && !mods.includes('re')) bad(`'${flags[0]}' is a flag of 're', which is not given`);
  if (isNumber) {
    const stringy = mods.filter(
      (m) =>
        STRING_MODES.includes(m) ||
        ENCODINGS.includes(m) ||
        UTF16.includes(m) ||
        m === 'windash' ||
        m === 'cased',
    );
    if (stringy.length > 0)
      bad(`'${[...numeric, ...parts][0]}' compares numbers; '${stringy.join("', '")}' work on text`);
  }
  if (mods.includes('windash') && encodings.length > 0)
    bad("'windash' and Base64 encodings exclude each other");
}

/** Compiles `key: value` of a detection map. */
export function compileItem(
  key: string,
  rawValue: unknown,
  ctx: CompileContext,
  path: (string | number)[],
): Predicate {
  const [field, ...mods] = key.split('|');
  for (const m of mods) {
    if (!KNOWN.has(m)) {
      const near = [...KNOWN].find((k) => k.startsWith(m.slice(0, 4)));
      throw new CompileError(
        'SIGMA_UNKNOWN_MODIFIER',
        `unknown modifier '${m}'${near ? ` (did you mean '${near}'?)` : ''}`,
        path,
      );
    }
  }
  checkModifierChain(mods, path);
  const has = (m: string) => mods.includes(m);
  const values = Array.isArray(rawValue) ? rawValue : [rawValue];
  if (values.length === 0)
    throw new CompileError('SIGMA_EMPTY_VALUE', `'${key}' has an empty value list`, path);
  const get: Getter | null = field === '' ? null : getter(field, ctx);
  if (field === '') ctx.keywords = true;
  else ctx.fields.add(field);

  if (has('exists')) {
    if (!get) throw new CompileError('SIGMA_BAD_MODIFIER', "'exists' needs a field", path);
    const want = values[0] === true || String(values[0]).toLowerCase() === 'true';
    return (v) => {
      const x = get(v);
      return (x !== undefined) === want;
    };
  }

  const list = plainList(mods, values, get);
  if (list) return list;
  const tests: Predicate[] = [];
  for (const value of values) tests.push(valueTest(get, mods, value, ctx, path));
  const needs = tests.map(needOf);
  let pred: Predicate;
  if (tests.length === 1) pred = tests[0];
  else if (has('all')) pred = withNeed((v) => tests.every((t) => t(v)), needAll(needs));
  else pred = withNeed((v) => tests.some((t) => t(v)), needAny(needs));
  if (has('neq')) {
    const inner = pred;
    pred = (v) => !inner(v);
  }
  return pred;
}

/**
 * The common shape: a field, OR over plain strings (exact, contains, startswith or endswith, no
 * inner wildcards, not cased). The value is lower-cased once; exact values become a Set.
 */
function plainList(mods: string[], values: unknown[], get: Getter | null): Predicate | null {
  if (values.length < 2 || !values.every((v) => typeof v === 'string')) return null;
  const allowed = ['contains', 'startswith', 'endswith'];
  if (mods.some((m) => !allowed.includes(m)) || mods.length > 1) return null;
  // Keywords (no field) search every value and default to contains.
  const mode: Mode = (mods[0] as Mode | undefined) ?? (get ? 'exact' : 'contains');
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const suffixes: string[] = [];
  const inner: string[] = [];
  for (const v of values as string[]) {
    const parts = withMode(parseSigmaString(v), mode);
    const stars = parts.map((p) => p === STAR);
    const lits = parts.filter((p) => typeof p === 'string') as string[];
    if (parts.some((p) => typeof p !== 'string' && p !== STAR) || lits.length > 1) return null;
    const lit = (lits[0] ?? '').toLowerCase();
    const lead = stars[0] === true;
    const trail = stars.length > 1 && stars[stars.length - 1] === true;
    if (parts.length === 1 && !lead) exact.add(lit);
    else if (lead && trail) inner.push(lit);
    else if (lead) suffixes.push(lit);
    else if (trail) prefixes.push(lit);
    else if (parts.length === 0) exact.add('');
    else return null;
  }
  // Long prefix and suffix lists (Image|endswith over a hundred tool names) are looked up by
  // length: one slice and one Set lookup per distinct length instead of a comparison per entry.
  const heads = byLength(prefixes);
  const headLengths = heads.map(([n]) => n);
  const headSets = heads.map(([, set]) => set);
  // Suffixes that are a last path component (`\cmd.exe`: one backslash, in front) are found by one
  // lookup of the value's own last component, however many lengths the list has.
  const components = new Set<string>();
  const otherSuffixes: string[] = [];
  for (const x of suffixes) {
    if (x.startsWith('\\') && x.indexOf('\\', 1) < 0) components.add(x);
    else otherSuffixes.push(x);
  }
  const tails = byLength(otherSuffixes);
  const tailLengths = tails.map(([n]) => n);
  const tailSets = tails.map(([, set]) => set);
  const literals = [...exact, ...prefixes, ...suffixes, ...inner];
  const prefiltered = literals.every(selective);
  // A very long `contains` list the engine's prefilter cannot take (the emoji rules: about 1,000
  // strings of a character or two each) is searched in one pass, its candidates confirmed (see
  // LiteralScanner). Prefiltered lists (hashes, tool names) run only on candidate events anyway.
  // Built on first use: most such rules never see an event of their kind.
  const many = !prefiltered && inner.length >= MANY_LITERALS;
  let built: LiteralScanner | null = null;
  const test = (s: string) => {
    const l = lowerValue(s);
    if (exact.has(l)) return true;
    // (Lengths ascend: past the value's own length nothing can match.)
    for (let i = 0; i < headLengths.length && headLengths[i] <= l.length; i++)
      if (headSets[i].has(l.slice(0, headLengths[i]))) return true;
    if (components.size > 0) {
      const at = l.lastIndexOf('\\');
      if (at >= 0 && components.has(at === 0 ? l : l.slice(at))) return true;
    }
    for (let i = 0; i < tailLengths.length && tailLengths[i] <= l.length; i++)
      if (tailSets[i].has(l.slice(l.length - tailLengths[i]))) return true;
    if (many) {
      built ??= new LiteralScanner(inner);
      const scanner = built;
      let hit = false;
      scanner.scan(l, (id) => {
        if (!hit && l.includes(inner[id])) hit = true;
      });
      return hit;
    }
    for (const p of inner) if (l.includes(p)) return true;
    return false;
  };
  // A keyword list lower-cases each of the event's values once, not once per keyword.
  const pred: Predicate = get ? (v) => eachString(get(v), test) : (v) => anyValue(v, test);
  return withNeed(pred, prefiltered ? [...new Set(literals)] : null);
}

/** The whole-event keyword search: any value of the event's own data. */
function anyValue(view: EventView, test: (s: string) => boolean): boolean {
  const data = view.raw.data;
  for (const k in data) if (eachString(data[k], test)) return true;
  return false;
}

/** Past this many `contains` strings a list is searched with one automaton. */
const MANY_LITERALS = 64;

/** Strings grouped by length, shortest first: [length, the strings of that length]. */
function byLength(list: string[]): [number, Set<string>][] {
  const groups = new Map<number, Set<string>>();
  for (const x of list) {
    const set = groups.get(x.length) ?? new Set<string>();
    set.add(x);
    groups.set(x.length, set);
  }
  return [...groups].sort((a, b) => a[0] - b[0]);
}

function valueTest(
  get: Getter | null,
  mods: string[],
  value: unknown,
  ctx: CompileContext,
  path: (string | number)[],
): Predicate {
  const has = (m: string) => mods.includes(m);
  // The whole-event keyword search for items without a field.
  const onValue = (test: (s: string) => boolean): Predicate =>
    get ? (v) => eachString(get(v), test) : (v) => anyValue(v, test);

  if (value === null) {
    if (!get) throw new CompileError('SIGMA_BAD_VALUE', 'null needs a field', path);
    return (v) => {
      const x = get(v);
      return x === undefined || x === null;
    };
  }
  const numericOps = ['lt', 'lte', 'gt', 'gte'].filter(has);
  if (numericOps.length > 0) {
    const n = Number(value);
    if (!Number.isFinite(n))
      throw new CompileError(
        'SIGMA_BAD_VALUE',
        `'${numericOps[0]}' needs a number, got ${JSON.stringify(value)}`,
        path,
      );
    const op = numericOps[0];
    return onValue((s) => {
      const x = Number(s.trim());
      if (s.trim() === '' || !Number.isFinite(x)) return false;
      return op === 'lt' ? x < n : op === 'lte' ? x <= n : op === 'gt' ? x > n : x >= n;
    });
  }
  const part = ['minute', 'hour', 'day', 'week', 'month', 'year'].find(has);
  if (part) {
    const n = Number(value);
    if (!Number.isInteger(n))
      throw new CompileError('SIGMA_BAD_VALUE', `'${part}' needs a whole number`, path);
    if (!get) throw new CompileError('SIGMA_BAD_MODIFIER', `'${part}' needs a field`, path);
    return (v) => timePart(get(v), part) === n;
  }
  if (has('cidr')) {
    const c =
      parseCidr(String(value)) ??
      (parseIp(String(value)) ? parseCidr(`${value}/${String(value).includes(':') ? 128 : 32}`) : null);
    if (!c) throw new CompileError('SIGMA_BAD_VALUE', `not a CIDR network: ${JSON.stringify(value)}`, path);
    return onValue((s) => {
      const ip = parseIp(s.trim());
      return ip !== null && cidrContains(c, ip);
    });
  }
  if (has('fieldref')) {
    if (!get) throw new CompileError('SIGMA_BAD_MODIFIER', "'fieldref' needs a field", path);
    const other = getter(String(value), ctx);
    ctx.fields.add(String(value));
    const mode = modeOf(has, 'exact');
    const cased = has('cased');
    return (v) => {
      const ref = other(v);
      if (ref === undefined || ref === null || typeof ref === 'object') return false;
      const test = stringTest(withMode(literal(String(ref)), mode), cased);
      return eachString(get(v), test);
    };
  }
  if (has('re')) {
    let flags = '';
    if (has('i') || has('ignorecase')) flags += 'i';
    if (has('m') || has('multiline')) flags += 'm';
    if (has('s') || has('dotall')) flags += 's';
    let re: RegExp;
    try {
      re = compileRuleRegex(String(value), flags);
    } catch (err) {
      if (err instanceof UnsafeRegexError) throw new CompileError('SIGMA_UNSAFE_REGEX', err.message, path);
      throw new CompileError(
        'SIGMA_BAD_REGEX',
        `invalid regular expression: ${(err as Error).message}`,
        path,
      );
    }
    const { src, flags: all } = withInlineFlags(String(value), flags);
    const lit = regexNeed(src);
    // (The compiled regex may carry no i flag: case is folded into its character classes.)
    const gate = regexGate(src, all.includes('i'));
    const run = (s: string) => re.test(s.length > MAX_REGEX_INPUT ? s.slice(0, MAX_REGEX_INPUT) : s);
    return withNeed(onValue(gate ? (s) => gate(s) && run(s) : run), lit === null ? null : [lit]);
  }
  const mode = modeOf(has, get ? 'exact' : 'contains');
  const cased = has('cased');
  if (typeof value === 'number' && mods.length === 0) {
    const text = String(value);
    return withNeed(
      onValue((s) => s === text || (s.trim() !== '' && Number(s.trim()) === value)),
      // A number given as 0x.. or 04688 would still equal it: only plain decimals are a literal need.
      selective(text) && /^\d+$/.test(text) ? [text] : null,
    );
  }
  if (typeof value === 'boolean') {
    const text = String(value);
    return onValue((s) => lowerValue(s) === text);
  }
  if (typeof value === 'object')
    throw new CompileError(
      'SIGMA_BAD_VALUE',
      `a value must be a string, number, boolean or null, not ${Array.isArray(value) ? 'a list' : 'a map'}`,
      path,
    );
  const text = String(value);
  const encoders = mods.filter((m) =>
    ['utf16le', 'wide', 'utf16be', 'utf16', 'base64', 'base64offset'].includes(m),
  );
  let alternatives: ReturnType<typeof parseSigmaString>[];
  if (encoders.length > 0) {
    if (/(?<!\\)[*?]/.test(text))
      throw new CompileError('SIGMA_BAD_VALUE', `wildcards cannot be encoded by ${encoders.join('|')}`, path);
    alternatives = encodeChain(text, encoders).map(literal);
  } else if (has('expand')) {
    alternatives = expand(text, ctx, path).map(parseSigmaString);
  } else alternatives = [parseSigmaString(text)];
  if (has('windash')) alternatives = alternatives.map(windash);
  const tests = alternatives.map((p) => stringTest(withMode(p, mode), cased));
  if (tests.length === 0) return () => false;
  const test = tests.length === 1 ? tests[0] : (s: string) => tests.some((t) => t(s));
  const needs = alternatives.map(partsNeed);
  return withNeed(onValue(test), needs.every((n) => n !== null) ? [...new Set(needs as string[])] : null);
}

/** The most alternatives one `expand` value may make. */
export const MAX_EXPANSIONS = 10_000;

/** `%name%` placeholders replaced by their configured values (each alternative OR-ed). */
export function expand(text: string, ctx: CompileContext, path: (string | number)[]): string[] {
  let out = [''];
  const re = /(?<!\\)%([A-Za-z0-9_-]+)%/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const fixed = text.slice(last, m.index);
    const vals = ctx.placeholders[m[1]] ?? ctx.placeholders[m[1].toLowerCase()];
    if (!vals || vals.length === 0) {
      ctx.warnings.push(
        new CompileError(
          'SIGMA_UNRESOLVED_PLACEHOLDER',
          `placeholder %${m[1]}% has no value (give it in a placeholders file); this item matches nothing`,
          path,
        ),
      );
      return [];
    }
    // Each placeholder multiplies the alternatives: a value with many of them (or long lists)
    // would exhaust memory, so the product is capped and the item refused past it.
    if (out.length * vals.length > MAX_EXPANSIONS)
      throw new CompileError(
        'SIGMA_BAD_VALUE',
        `expand would make more than ${MAX_EXPANSIONS.toLocaleString('en-US')} alternatives (${out.length.toLocaleString('en-US')} × ${vals.length} at %${m[1]}%)`,
        path,
      );
    out = out.flatMap((o) => vals.map((v) => o + fixed + v));
    last = m.index + m[0].length;
  }
  return out.map((o) => o + text.slice(last));
}

/** One search identifier: a map (AND), a list of maps (OR), or keywords. */
export function compileIdentifier(name: string, def: unknown, ctx: CompileContext): Predicate {
  const path = ['detection', name];
  if (def !== null && typeof def === 'object' && !Array.isArray(def))
    return compileMap(def as Record<string, unknown>, ctx, path);
  if (Array.isArray(def)) {
    if (def.length === 0)
      throw new CompileError('SIGMA_EMPTY_VALUE', `search identifier '${name}' is an empty list`, path);
    if (def.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x))) {
      const maps = def.map((m, i) => compileMap(m as Record<string, unknown>, ctx, [...path, i]));
      return withNeed((v) => maps.some((m) => m(v)), needAny(maps.map(needOf)));
    }
    if (def.some((x) => x !== null && typeof x === 'object'))
      throw new CompileError('SIGMA_BAD_VALUE', `search identifier '${name}' mixes maps and values`, path);
    return compileItem('', def, ctx, path);
  }
  return compileItem('', def, ctx, path);
}

function compileMap(map: Record<string, unknown>, ctx: CompileContext, path: (string | number)[]): Predicate {
  const items = Object.entries(map).map(([k, v]) => compileItem(k, v, ctx, [...path, k]));
  if (items.length === 0) return () => false;
  if (items.length === 1) return items[0];
  return withNeed((v) => items.every((i) => i(v)), needAll(items.map(needOf)));
}

/** The condition over compiled identifiers. Undefined identifiers and empty patterns are errors. */
export function compileCondition(cond: Cond, ids: Map<string, Predicate>): Predicate {
  switch (cond.k) {
    case 'id': {
      const p = ids.get(cond.name);
      if (!p)
        throw new CompileError(
          'SIGMA_UNDEFINED_IDENTIFIER',
          `condition names '${cond.name}', which the detection does not define`,
          ['detection', 'condition'],
        );
      return p;
    }
    case 'not': {
      const inner = compileCondition(cond.item, ids);
      return (v) => !inner(v);
    }
    case 'and': {
      const parts = cond.items.map((c) => compileCondition(c, ids));
      return withNeed((v) => parts.every((p) => p(v)), needAll(parts.map(needOf)));
    }
    case 'or': {
      const parts = cond.items.map((c) => compileCondition(c, ids));
      return withNeed((v) => parts.some((p) => p(v)), needAny(parts.map(needOf)));
    }
    case 'of': {
      const names = expandPattern(cond.pattern, [...ids.keys()]);
      if (names.length === 0)
        throw new CompileError('SIGMA_EMPTY_PATTERN', `'${cond.pattern}' matches no search identifier`, [
          'detection',
          'condition',
        ]);
      const parts = names.map((n) => ids.get(n)!);
      return cond.quantifier === 'all'
        ? withNeed((v) => parts.every((p) => p(v)), needAll(parts.map(needOf)))
        : withNeed((v) => parts.some((p) => p(v)), needAny(parts.map(needOf)));
    }
  }
}
