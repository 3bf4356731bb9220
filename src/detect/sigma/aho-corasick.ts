/**
 * Aho–Corasick over lower-cased text: one pass finds every literal of a set, however many there
 * are. Built as a full DFA over the literals' own alphabet (other characters lead back to the
 * root), so a step is two array reads.
 *
 * The DFA has a row per state and a column per symbol, so a big literal set with a wide alphabet
 * is big (3,500 process_creation literals over 70 characters: 17 MB). Past MAX_SYMBOLS, the rarest
 * characters of the literals share one symbol: the rows shrink, and the scan may report a literal
 * that differs from the text in one of those rare characters. The scanner picks candidates, so
 * that only costs a rule evaluation.
 *
 * When the literals allow it (`foldsCase`), upper-case characters lead where their lower-case
 * forms do, so text can be scanned as it is, without lower-casing it first.
 */
/** What a built scanner is made of: saved and restored by scanner-cache.ts. */
export interface ScannerTables {
  symbolOf: Uint8Array;
  foldsCase: boolean;
  shift: number;
  delta: Uint16Array;
  firstEmitting: number;
  outHead: Int32Array;
  outNext: Int32Array;
  outId: Int32Array;
  dict: Int32Array;
}

export class LiteralScanner {
  /** Each UTF-16 unit's symbol (0: in no literal). */
  private readonly symbolOf: Uint8Array = new Uint8Array(65536);
  /** Whether text may be scanned without lower-casing it (see `caseFoldingIsSafe`). */
  readonly foldsCase: boolean;
  /** log2 of the row width: a row is found by a shift. */
  private readonly shift: number;
  /** Next state by (state << shift) + symbol. States are numbered so that those that report a literal come last. */
  private readonly delta: Uint16Array;
  /** States from this one on end a literal, or have one on their failure chain. */
  private readonly firstEmitting: number;
  /**
   * Literal ids ending at each state (own, not inherited), as linked lists: the first entry of a
   * state (-1: none), each entry's next, each entry's id. (An array per state cost more to build
   * than the rest of the automaton.)
   */
  private readonly outHead: Int32Array;
  private readonly outNext: Int32Array;
  private readonly outId: Int32Array;
  /** Next state along the failure chain that has output, or -1. */
  private readonly dict: Int32Array;
  /** A literal set too big for 16-bit state numbers is scanned as two halves. */
  private readonly halves: [LiteralScanner, LiteralScanner] | null = null;

  /** `ids` are what `found` reports for each literal (default: its index); or tables built before. */
  constructor(given: string[] | ScannerTables, ids?: number[]) {
    if (!Array.isArray(given)) {
      this.symbolOf = given.symbolOf;
      this.foldsCase = given.foldsCase;
      this.shift = given.shift;
      this.delta = given.delta;
      this.firstEmitting = given.firstEmitting;
      this.outHead = given.outHead;
      this.outNext = given.outNext;
      this.outId = given.outId;
      this.dict = given.dict;
      return;
    }
    ids ??= given.map((_, i) => i);
    // A literal's prefix is as necessary as the literal: very long ones are cut, which also bounds
    // the states one literal can need.
    const literals = given.map((l) => (l.length > MAX_LITERAL ? l.slice(0, MAX_LITERAL) : l));
    // Every text holds the empty string: a rule needing it needs nothing and is not prefiltered.
    if (literals.includes('')) throw new Error('LiteralScanner: an empty literal is not a prefilter');
    const frequency = new Map<number, number>();
    for (const lit of literals)
      for (let i = 0; i < lit.length; i++) {
        const c = lit.charCodeAt(i);
        frequency.set(c, (frequency.get(c) ?? 0) + 1);
      }
    // ASCII first: text is mostly ASCII, and an ASCII character in the shared symbol makes the
    // literals of rare characters match it (the emoji rules' keycaps bring the digits, and each
    // digit of a command line then "found" their forty one-character symbols).
    const ranked = [...frequency]
      .sort((a, b) => Number(a[0] >= 128) - Number(b[0] >= 128) || b[1] - a[1] || a[0] - b[0])
      .map(([c]) => c);
    // Symbol 0 is "in no literal"; past the limit, the last symbol stands for every rare character.
    const own = ranked.length < MAX_SYMBOLS ? ranked.length : MAX_SYMBOLS - 2;
    ranked.forEach((c, i) => {
      this.symbolOf[c] = i < own ? i + 1 : own + 1;
    });
    const symbols = ranked.length === own ? own : own + 1;
    this.foldsCase = caseFoldingIsSafe(literals);
    if (this.foldsCase) {
      const fold = foldTable();
      for (let c = 0; c < 65536; c++) if (this.symbolOf[c] === 0) this.symbolOf[c] = this.symbolOf[fold[c]];
    }
    let shift = 1;
    while (1 << shift < symbols + 1) shift++;
    this.shift = shift;
    const width = 1 << shift;
    // The trie as a table of child states by (state, symbol), 0 = no child (no edge leads back to
    // the root). There are at most as many states as literal characters, plus the root.
    let bound = 1;
    for (const lit of literals) bound += lit.length;
    const trie = bound <= 65536 ? new Uint16Array(bound * width) : new Int32Array(bound * width);
    const outHead = new Int32Array(bound).fill(-1);
    const outNext = new Int32Array(literals.length);
    const outId = Int32Array.from(ids);
    let n = 1;
    literals.forEach((lit, index) => {
      let s = 0;
      for (let i = 0; i < lit.length; i++) {
        const at = s * width + this.symbolOf[lit.charCodeAt(i)];
        let next = trie[at];
        if (next === 0) {
          next = n++;
          trie[at] = next;
        }
        s = next;
      }
      outNext[index] = outHead[s];
      outHead[s] = index;
    });
    if (n > 65536) {
      const mid = literals.length >> 1;
      this.halves = [
        new LiteralScanner(literals.slice(0, mid), ids.slice(0, mid)),
        new LiteralScanner(literals.slice(mid), ids.slice(mid)),
      ];
      this.delta = new Uint16Array(0);
      this.firstEmitting = 0;
      this.outHead = this.outNext = this.outId = new Int32Array(0);
      this.dict = new Int32Array(0);
      return;
    }
    // Failure links, breadth first (a state's link is shallower, so known first).
    const fail = new Int32Array(n);
    const dict = new Int32Array(n).fill(-1);
    const queue: number[] = [];
    for (let sym = 0; sym < width; sym++) if (trie[sym] !== 0) queue.push(trie[sym]);
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi];
      dict[s] = outHead[fail[s]] >= 0 ? fail[s] : dict[fail[s]];
      for (let sym = 0; sym < width; sym++) {
        const t = trie[s * width + sym];
        if (t === 0) continue;
        let f = fail[s];
        while (f > 0 && trie[f * width + sym] === 0) f = fail[f];
        fail[t] = trie[f * width + sym];
        queue.push(t);
      }
    }
    // Renumber: states that report nothing first (the root stays 0), so a step is one read and
    // one comparison, in 16 bits.
    const emits = (t: number) => outHead[t] >= 0 || dict[t] >= 0;
    const perm = new Int32Array(n);
    let next = 0;
    for (let t = 0; t < n; t++) if (!emits(t)) perm[t] = next++;
    this.firstEmitting = next;
    for (let t = 0; t < n; t++) if (emits(t)) perm[t] = next++;
    // The full table: a state's row is its failure state's (complete, being shallower) with its
    // own transitions written over it.
    const packed = new Uint16Array(n * width);
    for (let sym = 0; sym < width; sym++) packed[sym] = perm[trie[sym]];
    for (const s of queue) {
      const row = perm[s] * width;
      const from = perm[fail[s]] * width;
      packed.copyWithin(row, from, from + width);
      for (let sym = 0; sym < width; sym++) {
        const t = trie[s * width + sym];
        if (t !== 0) packed[row + sym] = perm[t];
      }
    }
    const headByNew = new Int32Array(n);
    const dictByNew = new Int32Array(n);
    for (let t = 0; t < n; t++) {
      headByNew[perm[t]] = outHead[t];
      dictByNew[perm[t]] = dict[t] < 0 ? -1 : perm[dict[t]];
    }
    this.delta = packed;
    this.outHead = headByNew;
    this.outNext = outNext;
    this.outId = outId;
    this.dict = dictByNew;
  }

  /** The tables, to be saved; null for a scanner split in halves (too big to be worth saving). */
  tables(): ScannerTables | null {
    if (this.halves) return null;
    const { symbolOf, foldsCase, shift, delta, firstEmitting, outHead, outNext, outId, dict } = this;
    return { symbolOf, foldsCase, shift, delta, firstEmitting, outHead, outNext, outId, dict };
  }

  /** Calls `found(id)` for each literal occurrence in `text` (ids may repeat; see above for rare characters). */
  scan(text: string, found: (id: number) => void): void {
    if (this.halves) {
      this.halves[0].scan(text, found);
      this.halves[1].scan(text, found);
      return;
    }
    const { symbolOf, delta, shift, firstEmitting, outHead, outNext, outId, dict } = this;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      s = delta[(s << shift) + symbolOf[text.charCodeAt(i)]];
      if (s < firstEmitting) continue;
      for (let o = outHead[s] >= 0 ? s : dict[s]; o > 0; o = dict[o])
        for (let k = outHead[o]; k >= 0; k = outNext[k]) found(outId[k]);
    }
  }

  /** Calls `found(id)` for each literal occurrence in one value (case folded: needs `foldsCase`). */
  scanValue(value: string, found: (id: number) => void): void {
    this.scan(value, found);
  }
}

const MAX_LITERAL = 1024;

/** Symbols of a scanner, counting "in no literal": 26 letters and the commonest other characters. */
const MAX_SYMBOLS = 32;

let FOLD: Uint16Array | null = null;

/**
 * Each UTF-16 unit's lower-case form where String.prototype.toLowerCase gives a single unit (most
 * letters); İ folds to i and both sigmas to σ. Built once.
 */
function foldTable(): Uint16Array {
  if (FOLD) return FOLD;
  const fold = new Uint16Array(65536);
  for (let c = 0; c < 65536; c++) {
    const l = String.fromCharCode(c).toLowerCase();
    fold[c] = l.length === 1 ? l.charCodeAt(0) : c;
  }
  fold[0x130] = 0x69; // İ lower-cases to i + U+0307
  fold[0x3c2] = 0x3c3; // ς (final sigma depends on context): one symbol with σ
  fold[0x3a3] = 0x3c3;
  FOLD = fold;
  return fold;
}

/**
 * Scanning case-folded text finds every literal that the lower-cased text holds, when the literals
 * (already lower-case) avoid what unit-by-unit folding cannot mirror: the combining dot İ grows
 * into, final sigma (one symbol for both sigmas keeps it a superset), and astral letters with case
 * (folded in pairs of surrogates by toLowerCase). A superset is enough: it only picks candidates.
 */
function caseFoldingIsSafe(literals: string[]): boolean {
  for (const lit of literals) {
    if (lit.includes('\u0307') || lit.includes('ς') || lit.includes('σ')) return false;
    for (const ch of lit) if (ch.length > 1 && ch.toUpperCase() !== ch) return false;
  }
  return true;
}
