/**
 * Sigma's detection language checked and compiled: the modifiers and their valid chains, encodings,
 * placeholders, and how a field name reads an event in a rule's scope. The detection itself becomes
 * the predicate IR (to-predicate.ts); the engine's test of an event is derived from that
 * (ir/to-js.ts), with the literals its prefilter looks for (needOf) — one reading of a rule for the
 * streaming hunt and the SQL stores alike. A field the event lacks makes its item false (true
 * under `not`): the rule is never dropped for it.
 */

import { type EventView, OVERRIDDEN_FIELDS } from '../../normalize/normalize.js';
import { EVERY_VALUE, type Node } from '../ir/predicate.js';
import { toJs } from '../ir/to-js.js';

export type Predicate = (view: EventView) => boolean;
export { type Need, needOf } from '../ir/to-js.js';

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
  /** `%name%` placeholders for `expand`. */
  placeholders: Record<string, string[]>;
  /** Problems that do not stop the rule (unresolved placeholders). */
  warnings: CompileError[];
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

type Getter = (view: EventView) => unknown;

/** How a field reads an event: `category` rules read Sigma's taxonomy names, `service` rules the source's own names first. */
export function getter(field: string, ctx: { scope: 'category' | 'service' }): Getter {
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

/** An event's own values (what keywords search): a list whose lists and texts each count. */
function everyValue(view: EventView): unknown[] {
  return Object.values(view.raw.data);
}

/** A rule's predicate as the engine's test of an event, its fields read in the rule's scope. */
export function eventMatcher(node: Node, scope: 'category' | 'service'): Predicate {
  return toJs<EventView>(node, (field) => getter(field, { scope }));
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
