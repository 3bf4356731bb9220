/**
 * The predicate IR as the streaming engine's JavaScript matcher, and the literals a match needs
 * (what the engine's prefilter looks for) — both derived from the nodes, so that a rule means in a
 * streamed hunt what it means as SQL (src/sql/) and in the plain reading of the IR (toMatcher).
 *
 * The matcher is tuned for the shapes rules have: a value is folded once and remembered for the
 * next tests of the same event; the alternatives of one field (a rule's list of tool names,
 * hashes, suffixes) become one set lookup per distinct length, one lookup of a path's last
 * component, and one automaton pass for very long `contains` lists; rule regexes run in V8's
 * bounded way (ir/regex.ts) behind a cheap test of the characters they need.
 *
 * Values as events hold them: text, numbers and booleans (read as their text), lists of those (a
 * test holds for one element); null or undefined is absent; a map is no value.
 */
import { LiteralScanner } from '../sigma/aho-corasick.js';
import { cidrContains, parseCidr, parseIp } from './ip.js';
import {
  decimal,
  foldCase,
  foldPattern,
  globPattern,
  type Node,
  type StringOp,
  timePartOf,
  trimAscii,
  visit,
} from './predicate.js';
import { backtrackingRisk, compileRuleRegex, regexGate, regexRuns } from './regex.js';

/** A row's test, and how a field of a row is read. */
export type Matcher<R> = (row: R) => boolean;
export type Read<R> = (row: R) => unknown;

/**
 * Literals a predicate needs: when it holds, the row's folded text (foldCase) contains at least one
 * of them. null when there is no such set (numbers compared, negations, short literals). The
 * engine uses them to skip rules; the matcher itself always decides.
 */
export type Need = string[] | null;

/** Shorter literals would be in nearly every event and prune nothing. */
const MIN_LITERAL = 3;

/** Rule regexes are untrusted: only this much of a value is searched. */
const MAX_REGEX_INPUT = 64 * 1024;

/** Past this many `contains` strings a list is searched with one automaton. */
const MANY_LITERALS = 64;

/**
 * Long enough to be worth looking for. (Short non-ASCII literals would be selective too, but the
 * homoglyph rules bring hundreds of distinct characters, which widens every automaton's tables.)
 */
function selective(lit: string): boolean {
  return lit.length >= MIN_LITERAL;
}

// Rules tested on one event fold the same few values again and again (a CommandLine for dozens of
// candidate rules): the last four results are kept. Keys compare as strings, so an equal value
// hits whether or not it is the same object.
const FOLD_KEYS = ['', '', '', ''];
const FOLD_VALUES = ['', '', '', ''];
let foldNext = 0;

/** foldCase(s), remembered for the last four values. */
export function folded(s: string): string {
  for (let i = 0; i < 4; i++) if (FOLD_KEYS[i] === s) return FOLD_VALUES[i];
  const l = foldCase(s);
  FOLD_KEYS[foldNext] = s;
  FOLD_VALUES[foldNext] = l;
  foldNext = (foldNext + 1) & 3;
  return l;
}

/** Whether a test holds for a value: its text, or one element of its list. */
function eachString(value: unknown, test: (s: string) => boolean): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'string') return test(value);
  if (Array.isArray(value)) {
    for (const x of value) if (eachString(x, test)) return true;
    return false;
  }
  if (typeof value === 'object') return false;
  return test(String(value));
}

/** A test of a (folded, unless cased) text against a (folded, unless cased) wanted one. */
function textTest(op: StringOp, want: string): (s: string) => boolean {
  switch (op) {
    case 'equals':
      return (s) => s === want;
    case 'contains':
      return (s) => s.includes(want);
    case 'startswith':
      return (s) => s.startsWith(want);
    case 'endswith':
      return (s) => s.endsWith(want);
  }
}

/** The predicate as a test of rows whose fields `read` gives. */
export function toJs<R>(node: Node, read: (field: string) => Read<R>): Matcher<R> {
  const compile = (n: Node): Matcher<R> => toJs(n, read);
  const onValue = (field: string, test: (s: string) => boolean): Matcher<R> => {
    const get = read(field);
    return (row) => eachString(get(row), test);
  };
  const onText = (field: string, cased: boolean, test: (s: string) => boolean): Matcher<R> =>
    onValue(field, cased ? test : (s) => test(folded(s)));
  return visit<Matcher<R>>(node, {
    and: (n) => {
      const parts = n.of.map(compile);
      if (parts.length === 2) {
        const [a, b] = parts;
        return (row) => a(row) && b(row);
      }
      return (row) => {
        for (const p of parts) if (!p(row)) return false;
        return true;
      };
    },
    or: (n) => {
      const { lists, rest } = alternatives(n.of, read);
      const parts = lists.concat(rest.map(compile));
      if (parts.length === 1) return parts[0];
      if (parts.length === 2) {
        const [a, b] = parts;
        return (row) => a(row) || b(row);
      }
      return (row) => {
        for (const p of parts) if (p(row)) return true;
        return false;
      };
    },
    not: (n) => {
      const inner = compile(n.of);
      return (row) => !inner(row);
    },
    const: (n) => () => n.value,
    exists: (n) => {
      const get = read(n.field);
      return (row) => {
        const x = get(row);
        return x !== undefined && x !== null;
      };
    },
    string: (n) => onText(n.field, n.cased, textTest(n.op, n.cased ? n.value : foldCase(n.value))),
    in: (n) => {
      const set = new Set(n.cased ? n.values : n.values.map(foldCase));
      return onText(n.field, n.cased, (s) => set.has(s));
    },
    glob: (n) => {
      const re = new RegExp(globPattern(n.parts, n.cased), 'u');
      return onText(n.field, n.cased, (s) => re.test(s));
    },
    // Two texts: lists are not compared element by element (as in SQL).
    fieldref: (n) => {
      const other = read(n.other);
      const get = read(n.field);
      const scalar = (x: unknown) => x !== undefined && x !== null && typeof x !== 'object';
      return (row) => {
        const a = get(row);
        const b = other(row);
        if (!scalar(a) || !scalar(b)) return false;
        const [x, y] = n.cased ? [String(a), String(b)] : [foldCase(String(a)), foldCase(String(b))];
        return textTest(n.op, y)(x);
      };
    },
    regex: (n) => {
      // Case ignored the portable way: the folded text against the folded pattern (predicate.ts).
      const src = n.ignoreCase ? foldPattern(n.pattern) : n.pattern;
      const re = compileRuleRegex(src, '');
      // Without the u flag, a character outside the BMP is two units to `.` and classes: such
      // values are searched as RE2 does, by code point, when the pattern cannot backtrack badly.
      // Built on first such value: most rules never see one.
      let wide: RegExp | null = null;
      const gate = regexGate(src, false);
      const run = (s: string) => {
        const t = s.length > MAX_REGEX_INPUT ? s.slice(0, MAX_REGEX_INPUT) : s;
        if (!/[\ud800-\udfff]/.test(t)) return re.test(t);
        wide ??= backtrackingRisk(src) === null ? new RegExp(src, 'u') : re;
        return wide.test(t);
      };
      return onText(n.field, !n.ignoreCase, gate ? (s) => gate(s) && run(s) : run);
    },
    jsregex: (n) => {
      const re = compileRuleRegex(n.source, n.flags);
      const gate = regexGate(n.source, n.flags.includes('i'));
      const run = (s: string) => re.test(s.length > MAX_REGEX_INPUT ? s.slice(0, MAX_REGEX_INPUT) : s);
      return onValue(n.field, gate ? (s) => gate(s) && run(s) : run);
    },
    timepart: (n) => {
      const get = read(n.field);
      return (row) => {
        const x = get(row);
        return (typeof x === 'string' || typeof x === 'number') && timePartOf(x, n.part) === n.value;
      };
    },
    cidr: (n) => {
      const range = parseCidr(n.range)!;
      return onValue(n.field, (s) => {
        const ip = parseIp(trimAscii(s));
        return ip !== null && cidrContains(range, ip);
      });
    },
    compare: (n) => {
      const want = n.value;
      const test =
        n.op === 'lt'
          ? (x: number) => x < want
          : n.op === 'lte'
            ? (x: number) => x <= want
            : n.op === 'gt'
              ? (x: number) => x > want
              : n.op === 'gte'
                ? (x: number) => x >= want
                : (x: number) => x === want;
      return onValue(n.field, (s) => {
        const x = decimal(s);
        return x !== null && test(x);
      });
    },
  });
}

/** One alternative of a field's value list: an uncased text test or set, or null for any other node. */
type ListEntry = { field: string; op: StringOp; values: readonly string[] };

function listEntry(n: Node): ListEntry | null {
  if (n.kind === 'string' && !n.cased) return { field: n.field, op: n.op, values: [n.value] };
  if (n.kind === 'in' && !n.cased) return { field: n.field, op: 'equals', values: n.values };
  return null;
}

/**
 * The alternatives of an OR: list entries that share a field, as one test per field (listTest),
 * and the rest of the nodes as they are.
 */
function alternatives<R>(
  nodes: readonly Node[],
  read: (field: string) => Read<R>,
): { lists: Matcher<R>[]; rest: Node[] } {
  const entries = nodes.map(listEntry);
  const count = new Map<string, number>();
  for (const e of entries) if (e) count.set(e.field, (count.get(e.field) ?? 0) + 1);
  const byField = new Map<string, ListEntry[]>();
  const rest: Node[] = [];
  nodes.forEach((n, i) => {
    const e = entries[i];
    if (e === null || count.get(e.field)! < 2) {
      rest.push(n);
      return;
    }
    const list = byField.get(e.field) ?? [];
    list.push(e);
    byField.set(e.field, list);
  });
  const lists = [...byField].map(([field, list]) => {
    const get = read(field);
    const test = listTest(list);
    return (row: R) => eachString(get(row), test);
  });
  return { lists, rest };
}

/**
 * One field's alternatives (exact texts, prefixes, suffixes, inner texts; case ignored) as one test
 * of the value folded once. Long prefix and suffix lists (Image|endswith over a hundred tool names)
 * are looked up by length: one slice and one Set lookup per distinct length instead of a
 * comparison per entry; suffixes that are a path's last component (`\cmd.exe`) by one lookup of
 * the value's own last component, however many lengths the list has.
 */
function listTest(entries: ListEntry[]): (s: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const components = new Set<string>();
  const suffixes: string[] = [];
  const inner: string[] = [];
  for (const e of entries)
    for (const raw of e.values) {
      const v = foldCase(raw);
      if (e.op === 'equals') exact.add(v);
      else if (e.op === 'startswith') prefixes.push(v);
      else if (e.op === 'contains') inner.push(v);
      else if (v.startsWith('\\') && v.indexOf('\\', 1) < 0) components.add(v);
      else suffixes.push(v);
    }
  const heads = byLength(prefixes);
  const headLengths = heads.map(([n]) => n);
  const headSets = heads.map(([, set]) => set);
  const tails = byLength(suffixes);
  const tailLengths = tails.map(([n]) => n);
  const tailSets = tails.map(([, set]) => set);
  // A very long `contains` list the prefilter cannot take (the emoji rules: about 1,000 strings of a
  // character or two each) is searched in one pass, its candidates confirmed (see LiteralScanner).
  // Lists the prefilter takes (hashes, tool names) run only on candidate events anyway. Built on
  // first use: most such rules never see an event of their kind.
  const prefiltered = [...exact, ...prefixes, ...components, ...suffixes, ...inner].every(selective);
  const many = !prefiltered && inner.length >= MANY_LITERALS;
  let built: LiteralScanner | null = null;
  return (s) => {
    const l = folded(s);
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
}

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

/** A literal every match of a regex must contain, folded, if one is long enough to look for. */
export function regexNeed(src: string): string | null {
  let best = '';
  for (const run of regexRuns(src) ?? []) if (run.length > best.length) best = run;
  return selective(best) ? foldCase(best) : null;
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

const one = (lit: string): Need => (selective(lit) ? [foldCase(lit)] : null);

/** What a match of the predicate needs (see Need). */
export function needOf(node: Node): Need {
  return visit<Need>(node, {
    and: (n) => needAll(n.of.map(needOf)),
    or: (n) => (n.of.length === 0 ? null : needAny(n.of.map(needOf))),
    not: () => null,
    const: () => null,
    exists: () => null,
    string: (n) => one(n.value),
    in: (n) =>
      n.values.length > 0 && n.values.every(selective) ? [...new Set(n.values.map(foldCase))] : null,
    glob: (n) => {
      let best = '';
      for (const p of n.parts) if (typeof p === 'string' && p.length > best.length) best = p;
      return one(best);
    },
    fieldref: () => null,
    regex: (n) => {
      const lit = regexNeed(n.pattern);
      return lit === null ? null : [lit];
    },
    jsregex: (n) => {
      const lit = regexNeed(n.source);
      return lit === null ? null : [lit];
    },
    timepart: () => null,
    cidr: () => null,
    // A whole number's digits are in every decimal text equal to it (007, 7.0, -7 hold "7").
    compare: (n) => {
      const digits = String(Math.abs(n.value));
      return n.op === 'eq' && /^\d+$/.test(digits) ? one(digits) : null;
    },
  });
}
