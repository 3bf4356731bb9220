/**
 * Regular expressions from rules are untrusted: one with nested quantifiers (`(a+)+$`) backtracks
 * exponentially and would stall a hunt on a single long command line. V8 can fall back to its
 * linear-time engine after too many backtracks; we switch that on, and keep every rule regex
 * eligible for it: case-insensitive patterns are rewritten with explicit case classes (`a` →
 * `[aA]`) because the linear engine does not take the `i` flag, and patterns it cannot run at all
 * (lookarounds, backreferences) are refused at load time unless their shape keeps them at most
 * quadratic in the value's length (see backtrackingRisk).
 */
import v8 from 'node:v8';

v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

export class UnsafeRegexError extends Error {}

function swapCase(c: string): string {
  const lower = c.toLowerCase();
  return lower === c ? c.toUpperCase() : lower;
}

function isCased(c: string): boolean {
  return c.toLowerCase() !== c.toUpperCase();
}

/** Length of the escape sequence starting at `i` (a backslash). */
export function escapeLength(src: string, i: number): number {
  const n = src[i + 1];
  if (n === 'x') return 4;
  if (n === 'u') return src[i + 2] === '{' ? src.indexOf('}', i) + 1 - i : 6;
  if (n === 'c') return 3;
  if ((n === 'p' || n === 'P' || n === 'k') && (src[i + 2] === '{' || src[i + 2] === '<')) {
    const close = src.indexOf(src[i + 2] === '{' ? '}' : '>', i);
    return close > 0 ? close + 1 - i : 2;
  }
  if (n !== undefined && /\d/.test(n)) {
    let j = i + 1;
    while (j < src.length && /\d/.test(src[j])) j++;
    return j - i;
  }
  return 2;
}

/** The same pattern matching case-insensitively without the `i` flag. */
export function foldCase(src: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; ) {
    const c = src[i];
    if (c === '\\') {
      const len = escapeLength(src, i);
      out += src.slice(i, i + len);
      i += len;
      continue;
    }
    if (inClass) {
      if (c === ']') {
        inClass = false;
        out += c;
        i++;
        continue;
      }
      const to = src[i + 2];
      if (src[i + 1] === '-' && to !== undefined && to !== ']' && /[a-zA-Z]/.test(c) && /[a-zA-Z]/.test(to)) {
        out += `${c}-${to}`;
        if ((c === c.toLowerCase()) === (to === to.toLowerCase())) out += `${swapCase(c)}-${swapCase(to)}`;
        i += 3;
        continue;
      }
      out += isCased(c) ? c + swapCase(c) : c;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      i++;
      if (src[i] === '^') out += src[i++];
      if (src[i] === ']') out += src[i++];
      continue;
    }
    if (c === '(' && src[i + 1] === '?' && src[i + 2] === '<' && src[i + 3] !== '=' && src[i + 3] !== '!') {
      const close = src.indexOf('>', i);
      out += src.slice(i, close + 1);
      i = close + 1;
      continue;
    }
    if (c === '{') {
      const m = /^\{\d*(,\d*)?\}/.exec(src.slice(i));
      if (m) {
        out += m[0];
        i += m[0].length;
        continue;
      }
    }
    out += isCased(c) ? `[${c}${swapCase(c)}]` : c;
    i++;
  }
  return out;
}

/** Lookarounds and backreferences keep a pattern on the backtracking engine. */
function needsBacktracking(src: string): boolean {
  return /\(\?<?[=!]/.test(src) || /\\[1-9]|\\k</.test(src);
}

/**
 * Why a pattern left on the backtracking engine could take more than quadratic time, or null.
 * Exponential shapes: a quantified group holding a quantifier (`(a+)+`) or an alternation
 * (`(a|aa)*`, whose branches can match the same text). Polynomial ones: unbounded quantifiers
 * in sequence (`.*a.*b.*c` on a long line is cubic), so one is allowed, two when the pattern is
 * anchored at the start (one starting point).
 */
function backtrackingRisk(src: string): string | null {
  const stack: boolean[] = [];
  let inClass = false;
  let unbounded = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      i += escapeLength(src, i) - 1;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    const q = src[i + 1];
    const isUnbounded = q === '*' || q === '+' || (q === '{' && /^\{\d+,\}/.test(src.slice(i + 1)));
    if (c === '[') inClass = true;
    else if (c === '(') stack.push(false);
    else if (c === ')') {
      const inner = stack.pop() ?? false;
      if (inner && (q === '*' || q === '+' || q === '{'))
        return 'a quantified group holds a quantifier or an alternation';
      if (inner && stack.length > 0) stack[stack.length - 1] = true;
    } else if (c === '|' && stack.length > 0) stack[stack.length - 1] = true;
    else if ((c === '*' || c === '+' || c === '{') && stack.length > 0) stack[stack.length - 1] = true;
    if (c !== '(' && c !== '[' && isUnbounded) unbounded++;
    else if (c === ']' && isUnbounded) unbounded++;
  }
  if (unbounded > (src.startsWith('^') ? 2 : 1))
    return `${unbounded} unbounded quantifiers (*, +, {n,}) in sequence`;
  return null;
}

/**
 * The same pattern with lazy quantifiers (`.*` → `.*?`). Whether a pattern matches somewhere does
 * not depend on greediness — only which match is found — and rules only ask whether. Greedy
 * chains like the obfuscation rules' `\+.*\+.*…\+` (fourteen '+') first run every `.*` to the end
 * of the line and back: about 2.7 ms a command line with twenty '+', against 0.1 µs lazily.
 */
export function lazyQuantifiers(src: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      const len = escapeLength(src, i);
      out += src.slice(i, i + len);
      i += len - 1;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      continue;
    }
    if (c === '(' && src[i + 1] === '?') {
      // A group's kind ((?:, (?=, (?<name>): not a quantifier.
      out += '(?';
      i++;
      continue;
    }
    let end = -1; // the index of the quantifier's last character
    if (c === '*' || c === '+' || c === '?') end = i;
    else if (c === '{') {
      const m = /^\{\d+(?:,\d*)?\}/.exec(src.slice(i));
      if (m) end = i + m[0].length - 1;
    }
    if (end < 0) {
      out += c;
      continue;
    }
    out += src.slice(i, end + 1);
    i = end;
    if (src[i + 1] === '?') {
      out += '?'; // lazy already
      i++;
    } else out += '?';
  }
  return out;
}

/** Inline flags at the start, as some SigmaHQ regexes write them ((?i), (?im)), moved to the flags. */
export function withInlineFlags(source: string, flags: string): { src: string; flags: string } {
  const inline = /^\(\?([ims]+)\)/.exec(source);
  if (!inline) return { src: source, flags };
  let f = flags;
  for (const x of inline[1]) if (!f.includes(x)) f += x;
  return { src: source.slice(inline[0].length), flags: f };
}

/** A rule regex with `i`, `m`, `s` flags, compiled so that its cost stays bounded. */
export function compileRuleRegex(source: string, flags: string): RegExp {
  let { src, flags: f } = withInlineFlags(source, flags);
  const risk = needsBacktracking(src) ? backtrackingRisk(src) : null;
  if (risk) {
    throw new UnsafeRegexError(
      `regular expression uses lookarounds or backreferences (only the backtracking engine runs them) and ${risk}; its cost cannot be bounded`,
    );
  }
  if (f.includes('i') && !needsBacktracking(src)) {
    src = foldCase(src);
    f = f.replace('i', '');
  }
  // (Backreferences see what groups captured, which greediness changes: those stay as written.)
  if (!needsBacktracking(src)) src = lazyQuantifiers(src);
  return new RegExp(src, f);
}
