/**
 * Sigma string values: `*` any run, `?` one character, `\*` `\?` `\\` escapes (a backslash before
 * anything else is literal), parsed once into parts; then turned into the cheapest test that does
 * the job — plain string comparison on lower-cased text when there is no wildcard, an anchored
 * RegExp otherwise.
 */
export const STAR = 0;
export const ONE = 1;
/** windash: a command-line switch introducer, any of - / – — ―. */
export const DASH = 2;
export type Part = string | typeof STAR | typeof ONE | typeof DASH;

export function parseSigmaString(s: string): Part[] {
  const parts: Part[] = [];
  let lit = '';
  const flush = () => {
    if (lit) parts.push(lit);
    lit = '';
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      const n = s[i + 1];
      if (n === '*' || n === '?' || n === '\\') {
        lit += n;
        i++;
      } else lit += c;
    } else if (c === '*') {
      flush();
      parts.push(STAR);
    } else if (c === '?') {
      flush();
      parts.push(ONE);
    } else lit += c;
  }
  flush();
  return parts;
}

/** A literal string as parts (encoded values, fieldref values: no wildcards). */
export function literal(s: string): Part[] {
  return s === '' ? [] : [s];
}

export type Mode = 'exact' | 'contains' | 'startswith' | 'endswith';

/** Wraps parts for contains / startswith / endswith without doubling an existing wildcard. */
export function withMode(parts: Part[], mode: Mode): Part[] {
  let p = parts;
  if ((mode === 'contains' || mode === 'endswith') && p[0] !== STAR) p = [STAR, ...p];
  if ((mode === 'contains' || mode === 'startswith') && p[p.length - 1] !== STAR) p = [...p, STAR];
  return p;
}

/** Marks the switch introducers of a command line (a - or / that starts a word) as DASH. */
export function windash(parts: Part[]): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    if (typeof p !== 'string') {
      out.push(p);
      continue;
    }
    let lit = '';
    for (let i = 0; i < p.length; i++) {
      const c = p[i];
      const prevWord = i > 0 ? /\w/.test(p[i - 1]) : false;
      const nextWord = i + 1 < p.length && /\w/.test(p[i + 1]);
      if ((c === '-' || c === '/') && !prevWord && nextWord) {
        if (lit) out.push(lit);
        lit = '';
        out.push(DASH);
      } else lit += c;
    }
    if (lit) out.push(lit);
  }
  return out;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

// Rules evaluated on one event lower-case the same few values again and again (a CommandLine for
// dozens of candidate rules): the last few results are kept. Keys compare as strings, so an equal
// value hits whether or not it is the same object.
const LOWER_KEYS = ['', '', '', ''];
const LOWER_VALUES = ['', '', '', ''];
let lowerNext = 0;

/** `s.toLowerCase()`, remembered for the last four values. */
export function lowerValue(s: string): string {
  for (let i = 0; i < 4; i++) if (LOWER_KEYS[i] === s) return LOWER_VALUES[i];
  const l = s.toLowerCase();
  LOWER_KEYS[lowerNext] = s;
  LOWER_VALUES[lowerNext] = l;
  lowerNext = (lowerNext + 1) & 3;
  return l;
}

/** A test on one string value. Case-insensitive unless `cased`. */
export function stringTest(parts: Part[], cased: boolean): (value: string) => boolean {
  const simple = parts.every((p) => typeof p === 'string' || p === STAR);
  if (simple) {
    const lits = parts as (string | typeof STAR)[];
    const norm = (s: string) => (cased ? s : lowerValue(s));
    // exact, contains, startswith, endswith without inner wildcards: plain string operations.
    if (lits.length === 0) return (v) => v === '';
    if (lits.length === 1) {
      if (lits[0] === STAR) return () => true;
      const s = norm(lits[0] as string);
      return (v) => norm(v) === s;
    }
    if (lits.length === 2 && lits[0] === STAR && typeof lits[1] === 'string') {
      const s = norm(lits[1]);
      return (v) => norm(v).endsWith(s);
    }
    if (lits.length === 2 && lits[1] === STAR && typeof lits[0] === 'string') {
      const s = norm(lits[0]);
      return (v) => norm(v).startsWith(s);
    }
    if (lits.length === 3 && lits[0] === STAR && lits[2] === STAR && typeof lits[1] === 'string') {
      const s = norm(lits[1]);
      return (v) => norm(v).includes(s);
    }
  }
  let src = '^';
  for (const p of parts) {
    if (p === STAR) src += '[\\s\\S]*';
    else if (p === ONE) src += '[\\s\\S]';
    else if (p === DASH) src += '[-/\u2013\u2014\u2015]';
    else src += escapeRe(p);
  }
  src += '$';
  const re = new RegExp(src, cased ? '' : 'i');
  return (v) => re.test(v);
}
