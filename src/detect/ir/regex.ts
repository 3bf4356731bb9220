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
export function backtrackingRisk(src: string): string | null {
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

/**
 * The runs of plain characters every match of a regex must contain, in order: those at the top
 * level of a pattern without top-level alternation (groups, classes, escapes standing for classes
 * and quantified characters end a run). Null when the pattern has top-level alternation.
 */
export function regexRuns(src: string): string[] | null {
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
