/**
 * One predicate language for every detection and every engine: Sigma rules and KQL filters are
 * to compile to these nodes, and the JavaScript matcher and the SQL of each store dialect are
 * derived from them (src/sql/), so that a rule means the same thing wherever it runs.
 *
 * The semantics every backend must give (the property test holds them to it):
 * - A field's value is text or absent (null). Absent values make every test false — `not` of such a
 *   test is then true, as Sigma wants of a missing field.
 * - `cased: false` compares after foldCase() on both sides: Unicode's simple lower case, one code
 *   point for one (as SQL engines' lower() does; JavaScript's toLowerCase() alone makes İ two
 *   code points and Σ depend on its neighbours).
 * - `compare` reads the value as a decimal number (optional sign, ASCII digits, optional fraction,
 *   spaces around); anything else is not a number and the test is false.
 * - `regex` searches (unanchored) with RE2 syntax — the common ground of JavaScript and the SQL
 *   engines: no lookaround, no backreferences (`regexUnsupported` says why a pattern is refused);
 *   \s is JavaScript's (written out by portablePattern); ignoring case means the text and the
 *   pattern's literal characters folded (foldPattern), then matched with case.
 * - `cidr` holds when the value, ASCII whitespace trimmed (trimAscii), is an IPv4 or IPv6 address
 *   inside the range (ir/ip.ts parses).
 * - The field EVERY_VALUE stands for all of an event's own values (Sigma's keywords): a list, so a
 *   test of it holds when it holds for one of them.
 * Two kinds only the streaming engine runs, which SQL refuses with the reason (unportable()): a
 * `jsregex` (JavaScript's own syntax and flags — lookaround, backreferences, multiline, dotAll),
 * and a `timepart` (a part of a time value equals a number).
 * Nodes are frozen; build them with the functions below.
 */
import { cidrContains, parseCidr, parseIp } from './ip.js';

/** The field naming every value of the event's own data, as a list (keyword searches). */
export const EVERY_VALUE = '\u0000every-value';

export type StringOp = 'equals' | 'contains' | 'startswith' | 'endswith';
/** A glob's pieces: text, any run of characters, exactly one character, one of some characters. */
export type GlobPart = string | { readonly any: true } | { readonly one: true } | { readonly oneOf: string };
export type CompareOp = 'lt' | 'lte' | 'gt' | 'gte' | 'eq';
export type TimePart = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';

export type Node =
  | { readonly kind: 'and'; readonly of: readonly Node[] }
  | { readonly kind: 'or'; readonly of: readonly Node[] }
  | { readonly kind: 'not'; readonly of: Node }
  | { readonly kind: 'const'; readonly value: boolean }
  | {
      readonly kind: 'string';
      readonly field: string;
      readonly op: StringOp;
      readonly value: string;
      readonly cased: boolean;
    }
  | {
      readonly kind: 'in';
      readonly field: string;
      readonly values: readonly string[];
      readonly cased: boolean;
    }
  /** The whole value matches the pieces (Sigma's `*` and `?`, windash's switch characters). */
  | {
      readonly kind: 'glob';
      readonly field: string;
      readonly parts: readonly GlobPart[];
      readonly cased: boolean;
    }
  /** The value equals (holds, starts, ends with) another field's value; false when either is absent. */
  | {
      readonly kind: 'fieldref';
      readonly field: string;
      readonly other: string;
      readonly op: StringOp;
      readonly cased: boolean;
    }
  | { readonly kind: 'regex'; readonly field: string; readonly pattern: string; readonly ignoreCase: boolean }
  /** A regex in JavaScript's syntax with flags i, m, s; `why`: what keeps it from being a portable regex. */
  | {
      readonly kind: 'jsregex';
      readonly field: string;
      readonly source: string;
      readonly flags: string;
      readonly why: string;
    }
  /** The time value's part (UTC; ISO week) equals a whole number. */
  | { readonly kind: 'timepart'; readonly field: string; readonly part: TimePart; readonly value: number }
  | { readonly kind: 'cidr'; readonly field: string; readonly range: string }
  | { readonly kind: 'compare'; readonly field: string; readonly op: CompareOp; readonly value: number }
  | { readonly kind: 'exists'; readonly field: string };

export type Kind = Node['kind'];
type NodeOf<K extends Kind> = Extract<Node, { kind: K }>;

/** A function per kind of node: the compiler checks that none is missing. */
export type Visitor<R> = { [K in Kind]: (node: NodeOf<K>) => R };

export function visit<R>(node: Node, visitor: Visitor<R>): R {
  return (visitor[node.kind] as (n: Node) => R)(node);
}

/** Raised for a node no backend can give the agreed meaning (a regex outside RE2, a bad range). */
export class PredicateError extends Error {}

const freeze = <T extends Node>(n: T): T => Object.freeze(n);

export const and = (...of: Node[]): Node => freeze({ kind: 'and', of: Object.freeze([...of]) });
export const or = (...of: Node[]): Node => freeze({ kind: 'or', of: Object.freeze([...of]) });
export const not = (of: Node): Node => freeze({ kind: 'not', of });
export const constant = (value: boolean): Node => freeze({ kind: 'const', value });
export const exists = (field: string): Node => freeze({ kind: 'exists', field });

export function text(field: string, op: StringOp, value: string, cased = false): Node {
  return freeze({ kind: 'string', field, op, value, cased });
}

export function oneOf(field: string, values: string[], cased = false): Node {
  return freeze({ kind: 'in', field, values: Object.freeze([...values]), cased });
}

export function glob(field: string, parts: GlobPart[], cased = false): Node {
  return freeze({
    kind: 'glob',
    field,
    parts: Object.freeze(parts.map((p) => (typeof p === 'string' ? p : Object.freeze({ ...p })))),
    cased,
  });
}

export function fieldref(field: string, other: string, op: StringOp = 'equals', cased = false): Node {
  return freeze({ kind: 'fieldref', field, other, op, cased });
}

/**
 * A glob as an anchored regular expression (RE2 and JavaScript read it alike), its text folded
 * unless cased: `[\s\S]` is any one code point, newlines included.
 */
export function globPattern(parts: readonly GlobPart[], cased: boolean): string {
  const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  let src = '^';
  for (const p of parts) {
    if (typeof p === 'string') src += esc(cased ? p : foldCase(p));
    else if ('any' in p) src += '[\\s\\S]*';
    else if ('one' in p) src += '[\\s\\S]';
    else src += `[${[...p.oneOf].map((c) => (/[\]\\^-]/.test(c) ? `\\${c}` : c)).join('')}]`;
  }
  return `${src}$`;
}

export function compare(field: string, op: CompareOp, value: number): Node {
  if (!Number.isFinite(value)) throw new PredicateError(`compare: ${value} is not a finite number`);
  return freeze({ kind: 'compare', field, op, value });
}

export function cidr(field: string, range: string): Node {
  if (!parseCidr(range)) throw new PredicateError(`cidr: '${range}' is not an IPv4 or IPv6 range`);
  return freeze({ kind: 'cidr', field, range });
}

export function regex(field: string, pattern: string, ignoreCase = false): Node {
  const portable = portablePattern(pattern);
  const why = regexUnsupported(portable);
  if (why) throw new PredicateError(`regex /${pattern}/: ${why}`);
  // Ignoring case folds the pattern's letters (foldPattern): a range such as [Z-a] would then be
  // out of order, and no engine could run it.
  if (ignoreCase)
    try {
      new RegExp(foldPattern(portable), 'u');
    } catch {
      throw new PredicateError(`regex /${pattern}/: its character ranges change when case is folded`);
    }
  return freeze({ kind: 'regex', field, pattern: portable, ignoreCase });
}

/** A regex only JavaScript runs (see the header); `why` says what SQL engines lack for it. */
export function jsregex(field: string, source: string, flags: string, why: string): Node {
  return freeze({ kind: 'jsregex', field, source, flags, why });
}

export function timepart(field: string, part: TimePart, value: number): Node {
  if (!Number.isInteger(value)) throw new PredicateError(`${part}: ${value} is not a whole number`);
  return freeze({ kind: 'timepart', field, part, value });
}

/**
 * Why a predicate cannot run as SQL (its first node only JavaScript runs), or null when it can.
 */
export function unportable(node: Node): string | null {
  switch (node.kind) {
    case 'and':
    case 'or':
      for (const n of node.of) {
        const why = unportable(n);
        if (why) return why;
      }
      return null;
    case 'not':
      return unportable(node.of);
    case 'jsregex':
      return `regex /${node.source}/: ${node.why}`;
    case 'timepart':
      return `the time-part modifier '${node.part}' (not in SQL yet)`;
    default:
      return null;
  }
}

/** JavaScript's \s, written out (RE2's \s is ASCII only): tab, newline, \v, form feed, CR, spaces. */
const SPACES = '\\t\\n\\v\\f\\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';

/**
 * A pattern with \s and \S written out as JavaScript means them, so RE2 reads the same: outside a
 * class `[…]` / `[^…]`; inside one, \s as its members, and `[\s\S]` as any character. Other \S
 * inside a class is left for regexUnsupported to refuse.
 */
export function portablePattern(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const n = pattern[i + 1] ?? '';
      if (n === 's') out += `[${SPACES}]`;
      else if (n === 'S') out += `[^${SPACES}]`;
      // An escaped character that needs none (\" \' \- \& …): JavaScript's u mode refuses the
      // escape, RE2 reads the character; written plainly, both read it.
      else if (/[^\w\s^$\\.*+?()[\]{}|/]/.test(n) && n !== '') out += n;
      else out += c + n;
      i++;
      continue;
    }
    if (c === '[') {
      // The class, escapes kept, up to its closing bracket.
      let j = i + 1;
      let body = '';
      if (pattern[j] === '^') {
        body += '^';
        j++;
      }
      if (pattern[j] === ']') {
        body += '\\]';
        j++;
      }
      for (; j < pattern.length && pattern[j] !== ']'; j++) {
        if (pattern[j] === '\\') {
          const n = pattern[j + 1] ?? '';
          // Inside a class too, a needless escape (\" \') is the character itself.
          body += /[^\w\s\\\][^-]/.test(n) ? n : pattern[j] + n;
          j++;
        } else body += pattern[j];
      }
      if (body === '\\s\\S' || body === '\\S\\s') out += `(?:[${SPACES}]|[^${SPACES}])`;
      else out += `[${body.replace(/\\s/g, SPACES)}]`;
      i = j;
      continue;
    }
    // Braces that are no quantifier, and a closing bracket with no class, are text: RE2 reads them
    // so, JavaScript's u mode refuses them unescaped.
    if (c === '{') {
      const q = /^\{\d+(,\d*)?\}/.exec(pattern.slice(i));
      if (q) {
        out += q[0];
        i += q[0].length - 1;
      } else out += '\\{';
      continue;
    }
    if (c === '}' || c === ']') {
      out += `\\${c}`;
      continue;
    }
    out += c;
  }
  return out;
}

/**
 * A pattern for text folded by foldCase: its literal characters folded, its escapes kept (\S, \W,
 * \B must stay themselves). Case-insensitive regexes run this way in every engine — text and
 * pattern folded, then matched with case — because RE2 folds only ASCII in some builds and
 * JavaScript folds \w and \b under its i flag.
 */
export function foldPattern(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '\\') {
      out += pattern[i] + (pattern[i + 1] ?? '');
      i++;
    } else out += foldCase(pattern[i]);
  }
  return out;
}

/** Whether the pattern has an escape `\X` (the backslash itself not escaped) with X among these. */
function escapes(pattern: string, letters: RegExp): boolean {
  for (let i = 0; i < pattern.length; i++)
    if (pattern[i] === '\\') {
      if (letters.test(pattern[i + 1] ?? '')) return true;
      i++;
    }
  return false;
}

/**
 * Why a pattern has no common meaning in JavaScript and RE2 (DuckDB's and ClickHouse's regex
 * engine), or null. Lookaround and backreferences exist in one only; inline flags and \u \x \p
 * escapes are written differently; \s is written out first (portablePattern).
 */
export function regexUnsupported(pattern: string): string | null {
  if (/\(\?[=!<]/.test(pattern)) return 'lookaround is not in RE2';
  if (/\(\?[a-zA-Z]/.test(pattern))
    return 'inline flags are written differently by each engine (use ignoreCase)';
  if (escapes(pattern, /[1-9k]/)) return 'backreferences are not in RE2';
  if (escapes(pattern, /[sS]/)) return '\\S inside a character class with other members';
  if (escapes(pattern, /[pPuxcoe0]/)) return 'this escape is written differently by each engine';
  try {
    new RegExp(pattern, 'u');
  } catch (err) {
    return (err as Error).message;
  }
  return null;
}

/** A value without ASCII whitespace at either end (what every engine can trim alike). */
export function trimAscii(s: string): string {
  return s.replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, '');
}

/** Unicode simple lower case (see the header): what SQL's lower() gives. */
export function foldCase(s: string): string {
  const l = s.toLowerCase();
  // toLowerCase is that already unless the text has İ (the one letter it lengthens, to i + U+0307)
  // or a Σ it lowered to ς at a word's end: those two are folded first, one for one.
  if (l.length === s.length && l.indexOf('\u03c2') < 0) return l;
  return s
    .replace(/\u0130/g, 'i')
    .replace(/\u03a3/g, '\u03c3')
    .toLowerCase();
}

/** The decimal number a value reads as, or null (the `compare` rule above). */
export function decimal(value: string): number | null {
  return /^ *-?[0-9]+(\.[0-9]+)? *$/.test(value) ? Number(value) : null;
}

/**
 * A part of a time value (ISO 8601 text — a space for the T and no zone read as UTC — or epoch
 * milliseconds), in UTC; weeks are ISO weeks. Null when the value is no time.
 */
export function timePartOf(value: string | number, part: TimePart): number | null {
  const t =
    typeof value === 'number'
      ? value
      : Date.parse(value.replace(' ', 'T') + (/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? '' : 'Z'));
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
    case 'week': {
      // The week of the Thursday in this date's week, counted from the year's first Thursday.
      const day = (d.getUTCDay() + 6) % 7;
      const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3);
      const first = new Date(Date.UTC(new Date(thursday).getUTCFullYear(), 0, 4));
      return (
        1 + Math.round((thursday - first.getTime()) / 604_800_000 - (((first.getUTCDay() + 6) % 7) - 3) / 7)
      );
    }
  }
}

/** A field's value for the matcher: text, a list of texts (any element may match), or null. */
export type FieldValue = string | readonly string[] | null;
type Getter = (field: string) => FieldValue;

/** A test of a value: of its text, or of any element of its list. */
function some(v: FieldValue, test: (s: string) => boolean): boolean {
  if (v === null) return false;
  return typeof v === 'string' ? test(v) : v.some(test);
}

/** The predicate as a JavaScript test over a row's values (see FieldValue). */
export function toMatcher(node: Node): (get: Getter) => boolean {
  return visit<(get: Getter) => boolean>(node, {
    and: (n) => {
      const parts = n.of.map(toMatcher);
      return (get) => parts.every((p) => p(get));
    },
    or: (n) => {
      const parts = n.of.map(toMatcher);
      return (get) => parts.some((p) => p(get));
    },
    not: (n) => {
      const inner = toMatcher(n.of);
      return (get) => !inner(get);
    },
    const: (n) => () => n.value,
    exists: (n) => (get) => get(n.field) !== null,
    string: (n) => {
      const want = n.cased ? n.value : foldCase(n.value);
      const test: (s: string) => boolean =
        n.op === 'equals'
          ? (s) => s === want
          : n.op === 'contains'
            ? (s) => s.includes(want)
            : n.op === 'startswith'
              ? (s) => s.startsWith(want)
              : (s) => s.endsWith(want);
      return (get) => some(get(n.field), (v) => test(n.cased ? v : foldCase(v)));
    },
    in: (n) => {
      const set = new Set(n.cased ? n.values : n.values.map(foldCase));
      return (get) => some(get(n.field), (v) => set.has(n.cased ? v : foldCase(v)));
    },
    glob: (n) => {
      const re = new RegExp(globPattern(n.parts, n.cased), 'u');
      return (get) => some(get(n.field), (v) => re.test(n.cased ? v : foldCase(v)));
    },
    fieldref: (n) => {
      const test = (a: string, b: string) =>
        n.op === 'equals'
          ? a === b
          : n.op === 'contains'
            ? a.includes(b)
            : n.op === 'startswith'
              ? a.startsWith(b)
              : a.endsWith(b);
      // Two texts: lists are not compared element by element.
      return (get) => {
        const a = get(n.field);
        const b = get(n.other);
        if (typeof a !== 'string' || typeof b !== 'string') return false;
        return n.cased ? test(a, b) : test(foldCase(a), foldCase(b));
      };
    },
    regex: (n) => {
      const re = new RegExp(n.ignoreCase ? foldPattern(n.pattern) : n.pattern, 'u');
      return (get) => some(get(n.field), (v) => re.test(n.ignoreCase ? foldCase(v) : v));
    },
    jsregex: (n) => {
      const re = new RegExp(n.source, n.flags);
      return (get) => some(get(n.field), (v) => re.test(v));
    },
    timepart: (n) => (get) => some(get(n.field), (v) => timePartOf(v, n.part) === n.value),
    cidr: (n) => {
      const range = parseCidr(n.range)!;
      return (get) =>
        some(get(n.field), (v) => {
          const ip = parseIp(trimAscii(v));
          return ip !== null && cidrContains(range, ip);
        });
    },
    compare: (n) => (get) =>
      some(get(n.field), (v) => {
        const x = decimal(v);
        if (x === null) return false;
        switch (n.op) {
          case 'lt':
            return x < n.value;
          case 'lte':
            return x <= n.value;
          case 'gt':
            return x > n.value;
          case 'gte':
            return x >= n.value;
          case 'eq':
            return x === n.value;
        }
      }),
  });
}

/** The fields a predicate reads. */
export function fieldsOf(node: Node): Set<string> {
  const out = new Set<string>();
  const walk = (n: Node): void =>
    visit<void>(n, {
      and: (x) => x.of.forEach(walk),
      or: (x) => x.of.forEach(walk),
      not: (x) => walk(x.of),
      const: () => {},
      exists: (x) => void out.add(x.field),
      string: (x) => void out.add(x.field),
      in: (x) => void out.add(x.field),
      glob: (x) => void out.add(x.field),
      fieldref: (x) => {
        out.add(x.field);
        out.add(x.other);
      },
      regex: (x) => void out.add(x.field),
      jsregex: (x) => void out.add(x.field),
      timepart: (x) => void out.add(x.field),
      cidr: (x) => void out.add(x.field),
      compare: (x) => void out.add(x.field),
    });
  walk(node);
  return out;
}
