/**
 * Sigma string values: `*` any run, `?` one character, `\*` `\?` `\\` escapes (a backslash before
 * anything else is literal), parsed once into parts, which to-predicate.ts makes the simplest
 * node of the predicate IR (a text test when there is no inner wildcard, a glob otherwise).
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
