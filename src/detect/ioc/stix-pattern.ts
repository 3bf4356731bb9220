/**
 * STIX 2.1 patterning, the part indicators use: observation expressions in brackets joined by AND,
 * OR and FOLLOWEDBY, comparisons joined by AND / OR inside them, `=` and `IN`, quoted string
 * literals. Each comparison on an object path we can match becomes an indicator; the rest is
 * reported with its column, never dropped in silence.
 */
import type { IndicatorType } from './indicator.js';

export interface PatternTerm {
  type: IndicatorType;
  value: string;
  /** 1-based column of the comparison in the pattern. */
  col: number;
}

export interface PatternIssue {
  col: number;
  message: string;
  /** Unsupported (valid STIX we do not match on) rather than malformed. */
  unsupported: boolean;
}

/** Object paths we match on, lower-cased and with quotes stripped from hash names. */
const PATHS: Record<string, IndicatorType | 'hash'> = {
  'file:hashes.sha-256': 'sha256',
  'file:hashes.sha256': 'sha256',
  'file:hashes.sha-1': 'sha1',
  'file:hashes.sha1': 'sha1',
  'file:hashes.md5': 'md5',
  'file:name': 'filename',
  'ipv4-addr:value': 'ipv4',
  'ipv6-addr:value': 'ipv6',
  'domain-name:value': 'domain',
  'url:value': 'url',
  'network-traffic:dst_ref.value': 'hash', // an address: typed by its value below
  'network-traffic:src_ref.value': 'hash',
};

type Token = { t: 'lb' | 'rb' | 'lp' | 'rp' | 'op' | 'word' | 'str' | 'comma'; v: string; col: number };

function tokenize(p: string): { tokens: Token[]; issue?: PatternIssue } {
  const tokens: Token[] = [];
  let i = 0;
  while (i < p.length) {
    const c = p[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const col = i + 1;
    if (c === '[') tokens.push({ t: 'lb', v: c, col });
    else if (c === ']') tokens.push({ t: 'rb', v: c, col });
    else if (c === '(') tokens.push({ t: 'lp', v: c, col });
    else if (c === ')') tokens.push({ t: 'rp', v: c, col });
    else if (c === ',') tokens.push({ t: 'comma', v: c, col });
    else if (c === "'" || ((c === 'b' || c === 'h' || c === 't') && p[i + 1] === "'")) {
      let j = c === "'" ? i + 1 : i + 2;
      let s = '';
      for (; j < p.length && p[j] !== "'"; j++) {
        if (p[j] === '\\' && j + 1 < p.length) j++;
        s += p[j];
      }
      if (j >= p.length)
        return { tokens, issue: { col, message: 'unterminated string literal', unsupported: false } };
      tokens.push({ t: 'str', v: s, col });
      i = j + 1;
      continue;
    } else if (c === '=' || c === '!' || c === '<' || c === '>') {
      const two = p.slice(i, i + 2);
      const op = ['!=', '<=', '>='].includes(two) ? two : c;
      tokens.push({ t: 'op', v: op, col });
      i += op.length;
      continue;
    } else {
      // Words: object paths (with quoted hash names), keywords, numbers.
      let j = i;
      while (j < p.length && !/[\s[\]()=!<>,]/.test(p[j])) {
        if (p[j] === "'") {
          const close = p.indexOf("'", j + 1);
          j = close < 0 ? p.length : close + 1;
        } else j++;
      }
      tokens.push({ t: 'word', v: p.slice(i, j), col });
      i = j;
      continue;
    }
    i++;
  }
  return { tokens };
}

export function parsePattern(pattern: string): { terms: PatternTerm[]; issues: PatternIssue[] } {
  const terms: PatternTerm[] = [];
  const issues: PatternIssue[] = [];
  const { tokens, issue } = tokenize(pattern);
  if (issue) return { terms, issues: [issue] };
  let depth = 0;
  let sawBracket = false;
  for (let i = 0; i < tokens.length; i++) {
    const tk = tokens[i];
    if (tk.t === 'lb') {
      depth++;
      sawBracket = true;
      continue;
    }
    if (tk.t === 'rb') {
      depth--;
      if (depth < 0)
        return { terms, issues: [{ col: tk.col, message: "unbalanced ']'", unsupported: false }] };
      continue;
    }
    if (tk.t === 'lp' || tk.t === 'rp' || tk.t === 'comma') continue;
    if (tk.t === 'word' && depth === 0) {
      const kw = tk.v.toUpperCase();
      if (['AND', 'OR', 'FOLLOWEDBY'].includes(kw)) continue;
      if (['WITHIN', 'REPEATS', 'START', 'STOP', 'TIMES', 'SECONDS'].includes(kw)) {
        if (kw !== 'SECONDS' && kw !== 'TIMES') {
          issues.push({
            col: tk.col,
            message: `qualifier ${kw} is not applied (each comparison is matched on its own)`,
            unsupported: true,
          });
        }
        continue;
      }
      if (/^\d+$/.test(tk.v)) continue;
      return {
        terms,
        issues: [
          ...issues,
          { col: tk.col, message: `unexpected ${JSON.stringify(tk.v)} outside brackets`, unsupported: false },
        ],
      };
    }
    if (tk.t === 'word' && depth > 0) {
      const kw = tk.v.toUpperCase();
      if (kw === 'AND' || kw === 'OR') continue;
      if (kw === 'NOT') {
        issues.push({ col: tk.col, message: 'NOT comparisons are not supported', unsupported: true });
        continue;
      }
      // A comparison: path op value (or path IN (v, v, ...)).
      const path = tk.v;
      const op = tokens[i + 1];
      if (!op)
        return {
          terms,
          issues: [
            ...issues,
            { col: tk.col, message: `comparison on ${path} has no operator`, unsupported: false },
          ],
        };
      const key = path.toLowerCase().replace(/'/g, '').replace(/"/g, '');
      const kind = PATHS[key];
      if (op.t === 'word' && op.v.toUpperCase() === 'IN') {
        const values: Token[] = [];
        let j = i + 2;
        if (tokens[j]?.t !== 'lp')
          return {
            terms,
            issues: [
              ...issues,
              { col: op.col, message: 'IN needs a parenthesised list', unsupported: false },
            ],
          };
        for (j++; j < tokens.length && tokens[j].t !== 'rp'; j++)
          if (tokens[j].t === 'str') values.push(tokens[j]);
        i = j;
        if (!kind) {
          issues.push(unmatchedPath(tk.col, path));
          continue;
        }
        for (const v of values) terms.push({ type: typed(kind, v.v), value: v.v, col: tk.col });
        continue;
      }
      const value = tokens[i + 2];
      if (op.t !== 'op' && !(op.t === 'word' && /^(LIKE|MATCHES|ISSUBSET|ISSUPERSET)$/i.test(op.v))) {
        return {
          terms,
          issues: [
            ...issues,
            { col: op.col, message: `expected a comparison operator after ${path}`, unsupported: false },
          ],
        };
      }
      if (value?.t !== 'str') {
        return {
          terms,
          issues: [
            ...issues,
            { col: (value ?? op).col, message: 'expected a quoted value', unsupported: false },
          ],
        };
      }
      i += 2;
      if (op.v !== '=') {
        issues.push({
          col: op.col,
          message: `operator ${op.v} is not supported (only = and IN)`,
          unsupported: true,
        });
        continue;
      }
      if (!kind) {
        issues.push(unmatchedPath(tk.col, path));
        continue;
      }
      terms.push({ type: typed(kind, value.v), value: value.v, col: tk.col });
      continue;
    }
    return {
      terms,
      issues: [...issues, { col: tk.col, message: `unexpected ${JSON.stringify(tk.v)}`, unsupported: false }],
    };
  }
  if (depth !== 0) issues.push({ col: pattern.length, message: "unbalanced '['", unsupported: false });
  if (!sawBracket)
    issues.push({
      col: 1,
      message: 'a STIX pattern is a comparison in brackets: [path = value]',
      unsupported: false,
    });
  return { terms, issues };
}

function typed(kind: IndicatorType | 'hash', value: string): IndicatorType {
  if (kind !== 'hash') {
    // ipv4-addr:value may hold a CIDR range.
    if ((kind === 'ipv4' || kind === 'ipv6') && value.includes('/')) return 'cidr';
    return kind;
  }
  return value.includes('/') ? 'cidr' : value.includes(':') ? 'ipv6' : 'ipv4';
}

/** The issue for an object path lotl has no event field for. */
function unmatchedPath(col: number, path: string) {
  return { col, message: `object path ${path} is not matched by lotl`, unsupported: true };
}
