/**
 * A Sigma detection as the predicate IR (detect/ir/predicate.ts): the one reading of a rule, from
 * which the streaming engine's matcher and its prefilter's needs (ir/to-js.ts) and the SQL of each
 * store (src/sql/) are derived. Field names stay Sigma's; keywords (values without a field) search
 * EVERY_VALUE, the event's own values. What is not valid Sigma is a CompileError with the path of
 * the item at fault (load.ts locates it in the file). What only JavaScript can run (regexes with
 * lookaround or the m/s flags, time parts) becomes the IR's jsregex and timepart nodes, which the
 * SQL stores refuse with the reason (unportable()).
 */

import { parseCidr, parseIp } from '../ir/ip.js';
import {
  and,
  cidr as cidrNode,
  compare,
  constant,
  EVERY_VALUE,
  exists,
  fieldref,
  type GlobPart,
  glob,
  jsregex,
  type Node,
  not,
  or,
  PredicateError,
  regex,
  type StringOp,
  type TimePart,
  text,
  timepart,
} from '../ir/predicate.js';
import { compileRuleRegex, UnsafeRegexError, withInlineFlags } from '../ir/regex.js';
import {
  type CompileContext,
  CompileError,
  checkModifierChain,
  encodeChain,
  expand,
  KNOWN,
} from './compile.js';
import { type Cond, expandPattern, parseCondition } from './condition.js';
import { DASH, literal, ONE, type Part, parseSigmaString, STAR, windash, withMode } from './sigma-string.js';

const DASHES = '-/\u2013\u2014\u2015';
const NUMERIC = ['lt', 'lte', 'gt', 'gte'] as const;
const TIME_PARTS = ['minute', 'hour', 'day', 'week', 'month', 'year'] as const;
const ENCODERS = ['utf16le', 'wide', 'utf16be', 'utf16', 'base64', 'base64offset'];

/**
 * The detection (its identifiers under its condition, several conditions OR-ed) as one predicate.
 * Throws CompileError, and the condition parser's ConditionError.
 */
export function sigmaToPredicate(
  detection: Record<string, unknown>,
  placeholders: Record<string, string[]> = {},
  ctx: CompileContext = { placeholders, warnings: [] },
): Node {
  const ids = new Map<string, Node>();
  for (const [name, def] of Object.entries(detection)) {
    if (name === 'condition' || name === 'timeframe') continue;
    ids.set(name, identifierPredicate(name, def, ctx));
  }
  const conditions = Array.isArray(detection.condition) ? detection.condition : [detection.condition];
  const parts = conditions.map((c) => {
    if (typeof c !== 'string')
      throw new CompileError('SIGMA_BAD_CONDITION', 'a condition is a string', ['detection', 'condition']);
    return conditionPredicate(parseCondition(c), ids);
  });
  return parts.length === 1 ? parts[0] : or(...parts);
}

/** The condition over the identifiers' predicates. Undefined identifiers and empty patterns are errors. */
export function conditionPredicate(c: Cond, ids: Map<string, Node>): Node {
  switch (c.k) {
    case 'id': {
      const n = ids.get(c.name);
      if (!n)
        throw new CompileError(
          'SIGMA_UNDEFINED_IDENTIFIER',
          `condition names '${c.name}', which the detection does not define`,
          ['detection', 'condition'],
        );
      return n;
    }
    case 'not':
      return not(conditionPredicate(c.item, ids));
    case 'and':
      return and(...c.items.map((x) => conditionPredicate(x, ids)));
    case 'or':
      return or(...c.items.map((x) => conditionPredicate(x, ids)));
    case 'of': {
      const names = expandPattern(c.pattern, [...ids.keys()]);
      if (names.length === 0)
        throw new CompileError('SIGMA_EMPTY_PATTERN', `'${c.pattern}' matches no search identifier`, [
          'detection',
          'condition',
        ]);
      const parts = names.map((n) => ids.get(n)!);
      return c.quantifier === 'all' ? and(...parts) : or(...parts);
    }
  }
}

/** One search identifier: a map (AND), a list of maps (OR), or keywords. */
export function identifierPredicate(name: string, def: unknown, ctx: CompileContext): Node {
  const path = ['detection', name];
  if (def !== null && typeof def === 'object' && !Array.isArray(def))
    return map(def as Record<string, unknown>, ctx, path);
  if (Array.isArray(def)) {
    if (def.length === 0)
      throw new CompileError('SIGMA_EMPTY_VALUE', `search identifier '${name}' is an empty list`, path);
    if (def.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x)))
      return or(...def.map((m, i) => map(m as Record<string, unknown>, ctx, [...path, i])));
    if (def.some((x) => x !== null && typeof x === 'object'))
      throw new CompileError('SIGMA_BAD_VALUE', `search identifier '${name}' mixes maps and values`, path);
  }
  return item('', def, ctx, path);
}

function map(m: Record<string, unknown>, ctx: CompileContext, path: (string | number)[]): Node {
  const items = Object.entries(m).map(([k, v]) => item(k, v, ctx, [...path, k]));
  if (items.length === 0) return constant(false);
  return items.length === 1 ? items[0] : and(...items);
}

/** `key: value` of a detection map (a key without a field: keywords). */
function item(key: string, raw: unknown, ctx: CompileContext, path: (string | number)[]): Node {
  const [name, ...mods] = key.split('|');
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
  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0)
    throw new CompileError('SIGMA_EMPTY_VALUE', `'${key}' has an empty value list`, path);
  const field = name === '' ? EVERY_VALUE : name;
  if (has('exists')) {
    if (name === '') throw new CompileError('SIGMA_BAD_MODIFIER', "'exists' needs a field", path);
    const want = values[0] === true || String(values[0]).toLowerCase() === 'true';
    return want ? exists(field) : not(exists(field));
  }
  const tests = values.map((v) => value(field, mods, v, ctx, path));
  let node = tests.length === 1 ? tests[0] : has('all') ? and(...tests) : or(...tests);
  if (has('neq')) node = not(node);
  return node;
}

/** The string mode the modifiers ask for (keywords default to contains, fields to equals). */
function modeOf(has: (m: string) => boolean, keyword: boolean): StringOp {
  if (has('contains')) return 'contains';
  if (has('startswith')) return 'startswith';
  if (has('endswith')) return 'endswith';
  return keyword ? 'contains' : 'equals';
}

function value(
  field: string,
  mods: string[],
  v: unknown,
  ctx: CompileContext,
  path: (string | number)[],
): Node {
  const has = (m: string) => mods.includes(m);
  const keyword = field === EVERY_VALUE;
  const bad = (code: string, message: string) => new CompileError(code, message, path);
  if (v === null) {
    if (keyword) throw bad('SIGMA_BAD_VALUE', 'null needs a field');
    return not(exists(field));
  }
  const numeric = NUMERIC.find(has);
  if (numeric) {
    const n = Number(v);
    if (!Number.isFinite(n))
      throw bad('SIGMA_BAD_VALUE', `'${numeric}' needs a number, got ${JSON.stringify(v)}`);
    return compare(field, numeric, n);
  }
  const part = TIME_PARTS.find(has) as TimePart | undefined;
  if (part) {
    const n = Number(v);
    if (!Number.isInteger(n)) throw bad('SIGMA_BAD_VALUE', `'${part}' needs a whole number`);
    if (keyword) throw bad('SIGMA_BAD_MODIFIER', `'${part}' needs a field`);
    return timepart(field, part, n);
  }
  if (has('cidr')) {
    const s = String(v);
    const range = parseCidr(s) ? s : parseIp(s) ? `${s}/${s.includes(':') ? 128 : 32}` : null;
    if (!range) throw bad('SIGMA_BAD_VALUE', `not a CIDR network: ${JSON.stringify(v)}`);
    return cidrNode(field, range);
  }
  const mode = modeOf(has, keyword);
  const cased = has('cased');
  if (has('fieldref')) {
    if (keyword) throw bad('SIGMA_BAD_MODIFIER', "'fieldref' needs a field");
    return fieldref(field, String(v), mode, cased);
  }
  if (has('re')) return ruleRegex(field, String(v), mods, path);
  if (typeof v === 'number' && mods.length === 0)
    // A number equals its own text, or a decimal text of the same value (0042, 42.0).
    return or(text(field, 'equals', String(v), true), compare(field, 'eq', v));
  if (typeof v === 'boolean') return text(field, 'equals', String(v));
  if (typeof v === 'object')
    throw bad(
      'SIGMA_BAD_VALUE',
      `a value must be a string, number, boolean or null, not ${Array.isArray(v) ? 'a list' : 'a map'}`,
    );
  const s = String(v);
  const encoders = mods.filter((m) => ENCODERS.includes(m));
  let alternatives: Part[][];
  if (encoders.length > 0) {
    if (/(?<!\\)[*?]/.test(s))
      throw bad('SIGMA_BAD_VALUE', `wildcards cannot be encoded by ${encoders.join('|')}`);
    alternatives = encodeChain(s, encoders).map(literal);
  } else if (has('expand')) alternatives = expand(s, ctx, path).map(parseSigmaString);
  else alternatives = [parseSigmaString(s)];
  if (has('windash')) alternatives = alternatives.map(windash);
  const nodes = alternatives.map((parts) =>
    strings(field, withMode(parts, mode === 'equals' ? 'exact' : mode), cased),
  );
  if (nodes.length === 0) return constant(false);
  return nodes.length === 1 ? nodes[0] : or(...nodes);
}

/**
 * A rule's regex: checked for safety and syntax as JavaScript runs it (compileRuleRegex); a
 * portable regex when every engine can give it the same meaning, else a jsregex with the reason.
 */
function ruleRegex(field: string, pattern: string, mods: string[], path: (string | number)[]): Node {
  const has = (m: string) => mods.includes(m);
  let flags = '';
  if (has('i') || has('ignorecase')) flags += 'i';
  if (has('m') || has('multiline')) flags += 'm';
  if (has('s') || has('dotall')) flags += 's';
  try {
    compileRuleRegex(pattern, flags);
  } catch (err) {
    if (err instanceof UnsafeRegexError) throw new CompileError('SIGMA_UNSAFE_REGEX', err.message, path);
    throw new CompileError('SIGMA_BAD_REGEX', `invalid regular expression: ${(err as Error).message}`, path);
  }
  // A leading inline group of flags ((?i) …) is the flags' other spelling.
  const { src, flags: all } = withInlineFlags(pattern, flags);
  if (all.includes('m') || all.includes('s'))
    return jsregex(field, src, all, "the regex flags 'm' and 's' are not in every engine");
  try {
    return regex(field, src, all.includes('i'));
  } catch (err) {
    if (err instanceof PredicateError)
      return jsregex(field, src, all, err.message.replace(/^regex \/.*\/: /s, ''));
    throw err;
  }
}

/** Parts of a Sigma string (after the mode) as the simplest node. */
function strings(field: string, parts: Part[], cased: boolean): Node {
  if (parts.length === 0) return text(field, 'equals', '', cased);
  if (parts.length === 1 && parts[0] === STAR) return exists(field);
  const lit = (p: Part | undefined): p is string => typeof p === 'string';
  if (parts.length === 1 && lit(parts[0])) return text(field, 'equals', parts[0], cased);
  if (parts.length === 2 && parts[0] === STAR && lit(parts[1]))
    return text(field, 'endswith', parts[1], cased);
  if (parts.length === 2 && lit(parts[0]) && parts[1] === STAR)
    return text(field, 'startswith', parts[0], cased);
  if (parts.length === 3 && parts[0] === STAR && lit(parts[1]) && parts[2] === STAR)
    return text(field, 'contains', parts[1], cased);
  const globParts: GlobPart[] = parts.map((p) =>
    p === STAR ? { any: true } : p === ONE ? { one: true } : p === DASH ? { oneOf: DASHES } : p,
  );
  return glob(field, globParts, cased);
}
