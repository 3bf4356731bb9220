/**
 * A Sigma detection as the predicate IR (detect/ir/predicate.ts), so that a rule can run as SQL
 * (src/sql/) where the events live. Field names stay Sigma's (the store's columns will carry them).
 * What the IR cannot say yet is refused with the reason (PredicateUnsupported), never approximated:
 * time-part modifiers, regexes outside the engines' common ground. Keywords (values without a field)
 * search EVERY_VALUE, the event's own values. Differences from the streaming matcher, by design of the IR: case folding is Unicode's
 * simple lower case; `?` is one code point; a number equals only decimal text (not 0x…).
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
  type Node,
  not,
  or,
  PredicateError,
  regex,
  type StringOp,
  text,
} from '../ir/predicate.js';
import {
  type CompileContext,
  CompileError,
  checkModifierChain,
  encodeChain,
  expand,
  KNOWN,
} from './compile.js';
import { type Cond, expandPattern, parseCondition } from './condition.js';
import { DASH, ONE, type Part, parseSigmaString, STAR, windash, withMode } from './sigma-string.js';

/** A detection the IR cannot express yet, with the reason. */
export class PredicateUnsupported extends Error {}

const DASHES = '-/\u2013\u2014\u2015';

/** The detection (with its condition) as one predicate. */
export function sigmaToPredicate(
  detection: Record<string, unknown>,
  placeholders: Record<string, string[]> = {},
): Node {
  const ctx: CompileContext = {
    scope: 'category',
    placeholders,
    warnings: [],
    fields: new Set(),
    keywords: false,
  };
  const ids = new Map<string, Node>();
  for (const [name, def] of Object.entries(detection)) {
    if (name === 'condition' || name === 'timeframe') continue;
    ids.set(name, identifier(name, def, ctx));
  }
  const conditions = Array.isArray(detection.condition) ? detection.condition : [detection.condition];
  const parts = conditions.map((c) => {
    if (typeof c !== 'string') throw new PredicateUnsupported('a condition is a string');
    return condition(parseCondition(c), ids);
  });
  return parts.length === 1 ? parts[0] : or(...parts);
}

function condition(c: Cond, ids: Map<string, Node>): Node {
  switch (c.k) {
    case 'id': {
      const n = ids.get(c.name);
      if (!n)
        throw new PredicateUnsupported(`condition names '${c.name}', which the detection does not define`);
      return n;
    }
    case 'not':
      return not(condition(c.item, ids));
    case 'and':
      return and(...c.items.map((x) => condition(x, ids)));
    case 'or':
      return or(...c.items.map((x) => condition(x, ids)));
    case 'of': {
      const names = expandPattern(c.pattern, [...ids.keys()]);
      if (names.length === 0) throw new PredicateUnsupported(`'${c.pattern}' matches no search identifier`);
      const parts = names.map((n) => ids.get(n)!);
      return c.quantifier === 'all' ? and(...parts) : or(...parts);
    }
  }
}

function identifier(name: string, def: unknown, ctx: CompileContext): Node {
  if (def !== null && typeof def === 'object' && !Array.isArray(def))
    return map(def as Record<string, unknown>, ctx, ['detection', name]);
  if (
    Array.isArray(def) &&
    def.length > 0 &&
    def.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x))
  )
    return or(...def.map((m, i) => map(m as Record<string, unknown>, ctx, ['detection', name, i])));
  // Keywords: plain values searched in every value of the event, as `contains` by default.
  const values = Array.isArray(def) ? def : [def];
  if (values.length === 0 || values.some((v) => v === null || typeof v === 'object'))
    throw new PredicateUnsupported(`'${name}' mixes keywords with maps or has none`);
  const path = ['detection', name];
  const nodes = values.map((v, i) => value(EVERY_VALUE, ['contains'], v, ctx, [...path, i]));
  return nodes.length === 1 ? nodes[0] : or(...nodes);
}

function map(m: Record<string, unknown>, ctx: CompileContext, path: (string | number)[]): Node {
  const items = Object.entries(m).map(([k, v]) => item(k, v, ctx, [...path, k]));
  return items.length === 1 ? items[0] : and(...items);
}

function item(key: string, raw: unknown, ctx: CompileContext, path: (string | number)[]): Node {
  const [name, ...given] = key.split('|');
  // An item without a field searches every value (keywords), `contains` unless told otherwise.
  const field = name === '' ? EVERY_VALUE : name;
  const mods =
    name === '' &&
    !given.some((m) => ['contains', 'startswith', 'endswith', 're', 'cidr', 'exists'].includes(m))
      ? [...given, 'contains']
      : given;
  for (const m of mods) if (!KNOWN.has(m)) throw new PredicateUnsupported(`unknown modifier '${m}'`);
  try {
    checkModifierChain(mods, path);
  } catch (err) {
    if (err instanceof CompileError) throw new PredicateUnsupported(err.message);
    throw err;
  }
  const has = (m: string) => mods.includes(m);
  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0) throw new PredicateUnsupported(`'${key}' has an empty value list`);
  if (has('exists')) {
    const want = values[0] === true || String(values[0]).toLowerCase() === 'true';
    return want ? exists(field) : not(exists(field));
  }
  const tests = values.map((v) => value(field, mods, v, ctx, path));
  let node = tests.length === 1 ? tests[0] : has('all') ? and(...tests) : or(...tests);
  if (has('neq')) node = not(node);
  return node;
}

function value(
  field: string,
  mods: string[],
  v: unknown,
  ctx: CompileContext,
  path: (string | number)[],
): Node {
  const has = (m: string) => mods.includes(m);
  try {
    if (v === null) return not(exists(field));
    const numeric = (['lt', 'lte', 'gt', 'gte'] as const).find(has);
    if (numeric) {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new PredicateUnsupported(`'${numeric}' needs a number`);
      return compare(field, numeric, n);
    }
    if (['minute', 'hour', 'day', 'week', 'month', 'year'].some(has))
      throw new PredicateUnsupported('time-part modifiers (not in the IR yet)');
    if (has('cidr')) {
      const s = String(v);
      const range = parseCidr(s) ? s : parseIp(s) ? `${s}/${s.includes(':') ? 128 : 32}` : null;
      if (!range) throw new PredicateUnsupported(`not a CIDR network: ${JSON.stringify(v)}`);
      return cidrNode(field, range);
    }
    const mode: StringOp = has('contains')
      ? 'contains'
      : has('startswith')
        ? 'startswith'
        : has('endswith')
          ? 'endswith'
          : 'equals';
    const cased = has('cased');
    if (has('fieldref')) return fieldref(field, String(v), mode, cased);
    if (has('re')) {
      // A leading inline group of flags ((?i) …) is the flags' other spelling.
      let pattern = String(v);
      const inline = /^\(\?([a-z]+)\)/.exec(pattern);
      const flags = new Set(inline ? [...inline[1]] : []);
      if (inline) pattern = pattern.slice(inline[0].length);
      if (['m', 's', 'multiline', 'dotall'].some(has) || flags.has('m') || flags.has('s'))
        throw new PredicateUnsupported("the regex flags 'm' and 's' (not in the IR yet)");
      if ([...flags].some((f) => f !== 'i'))
        throw new PredicateUnsupported(`the inline regex flags (?${inline![1]})`);
      return regex(field, pattern, has('i') || has('ignorecase') || flags.has('i'));
    }
    if (typeof v === 'number' && mods.length === 0)
      return or(text(field, 'equals', String(v), true), compare(field, 'eq', v));
    if (typeof v === 'boolean') return text(field, 'equals', String(v));
    if (typeof v === 'object')
      throw new PredicateUnsupported('a value must be a string, number, boolean or null');
    const s = String(v);
    const encoders = mods.filter((m) =>
      ['utf16le', 'wide', 'utf16be', 'utf16', 'base64', 'base64offset'].includes(m),
    );
    let alternatives: Part[][];
    if (encoders.length > 0) alternatives = encodeChain(s, encoders).map((e) => (e === '' ? [] : [e]));
    else if (has('expand')) alternatives = expand(s, ctx, path).map(parseSigmaString);
    else alternatives = [parseSigmaString(s)];
    if (has('windash')) alternatives = alternatives.map(windash);
    const nodes = alternatives.map((parts) =>
      strings(field, withMode(parts, mode === 'equals' ? 'exact' : mode), cased),
    );
    if (nodes.length === 0) return constant(false);
    return nodes.length === 1 ? nodes[0] : or(...nodes);
  } catch (err) {
    if (err instanceof PredicateError) throw new PredicateUnsupported(err.message);
    if (err instanceof CompileError) throw new PredicateUnsupported(err.message);
    throw err;
  }
}

/** Parts of a Sigma string (after the mode) as the simplest node. */
function strings(field: string, parts: Part[], cased: boolean): Node {
  if (parts.length === 0) return text(field, 'equals', '', cased);
  if (parts.length === 1 && parts[0] === STAR) return exists(field);
  const literal = (p: Part | undefined): p is string => typeof p === 'string';
  if (parts.length === 1 && literal(parts[0])) return text(field, 'equals', parts[0], cased);
  if (parts.length === 2 && parts[0] === STAR && literal(parts[1]))
    return text(field, 'endswith', parts[1], cased);
  if (parts.length === 2 && literal(parts[0]) && parts[1] === STAR)
    return text(field, 'startswith', parts[0], cased);
  if (parts.length === 3 && parts[0] === STAR && literal(parts[1]) && parts[2] === STAR)
    return text(field, 'contains', parts[1], cased);
  const globParts: GlobPart[] = parts.map((p) =>
    p === STAR ? { any: true } : p === ONE ? { one: true } : p === DASH ? { oneOf: DASHES } : p,
  );
  return glob(field, globParts, cased);
}
