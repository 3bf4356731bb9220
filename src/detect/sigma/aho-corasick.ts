/**
 * Aho–Corasick over lower-cased text: one pass finds every literal of a set, however many there
 * are. Built as a full DFA over the literals' own alphabet (other characters lead back to the
 * root), so a step is two array reads.
 *
 * When the literals allow it (`foldsCase`), upper-case characters lead where their lower-case
 * forms do, so text can be scanned as it is, without lower-casing it first.
 */
export class LiteralScanner {
  private readonly symbolOf = new Uint16Array(65536);
  /** Whether text may be scanned without lower-casing it (see `caseFoldingIsSafe`). */
  readonly foldsCase: boolean;
  private readonly width: number;
  private readonly delta: Int32Array;
  /** Literal ids ending at each state (own, not inherited). */
  private readonly out: number[][];
  /** Next state along the failure chain that has output, or -1. */
  private readonly dict: Int32Array;

  constructor(readonly literals: string[]) {
    let symbols = 0;
    for (const lit of literals) {
      for (let i = 0; i < lit.length; i++) {
        const c = lit.charCodeAt(i);
        if (this.symbolOf[c] === 0) this.symbolOf[c] = ++symbols;
      }
    }
    this.foldsCase = caseFoldingIsSafe(literals);
    if (this.foldsCase) {
      const fold = foldTable();
      for (let c = 0; c < 65536; c++) if (this.symbolOf[c] === 0) this.symbolOf[c] = this.symbolOf[fold[c]];
    }
    // An even row width leaves the low bit of row offsets free for the "emits" flag.
    this.width = (symbols + 2) & ~1;
    // Trie with sparse transitions first.
    const trie: Map<number, number>[] = [new Map()];
    const out: number[][] = [[]];
    literals.forEach((lit, id) => {
      let s = 0;
      for (let i = 0; i < lit.length; i++) {
        const sym = this.symbolOf[lit.charCodeAt(i)];
        let next = trie[s].get(sym);
        if (next === undefined) {
          next = trie.length;
          trie.push(new Map());
          out.push([]);
          trie[s].set(sym, next);
        }
        s = next;
      }
      out[s].push(id);
    });
    const n = trie.length;
    const width = this.width;
    const delta = new Int32Array(n * width);
    const fail = new Int32Array(n);
    const dict = new Int32Array(n).fill(-1);
    // Breadth-first: each state's transitions are its failure state's row (already complete,
    // being shallower), overwritten by its own.
    const queue: number[] = [];
    for (const [sym, t] of trie[0]) {
      delta[sym] = t;
      queue.push(t);
    }
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi];
      const f = fail[s];
      dict[s] = out[f].length > 0 ? f : dict[f];
      delta.copyWithin(s * width, f * width, f * width + width);
      for (const [sym, t] of trie[s]) {
        fail[t] = delta[f * width + sym];
        delta[s * width + sym] = t;
        queue.push(t);
      }
    }
    // Entries hold the next state's row offset, with the low bit set when that state (or one on its
    // failure chain) ends a literal: a step is one read and one mask.
    const emits = new Int32Array(n);
    for (let t = 0; t < n; t++) emits[t] = out[t].length > 0 || dict[t] >= 0 ? 1 : 0;
    for (let i = 0; i < delta.length; i++) {
      const t = delta[i];
      delta[i] = (t * width) | emits[t];
    }
    this.delta = delta;
    this.out = out;
    this.dict = dict;
  }

  /** Calls `found(id)` for each literal occurrence in `text` (ids may repeat). */
  scan(text: string, found: (id: number) => void): void {
    const { symbolOf, delta, width, out, dict } = this;
    let row = 0;
    for (let i = 0; i < text.length; i++) {
      const x = delta[row + symbolOf[text.charCodeAt(i)]];
      row = x & ~1;
      if ((x & 1) === 0) continue;
      const s = row / width;
      for (let o = out[s].length > 0 ? s : dict[s]; o > 0; o = dict[o]) for (const id of out[o]) found(id);
    }
  }

  /** Calls `found(id)` for each literal occurrence in one value (case folded: needs `foldsCase`). */
  scanValue(value: string, found: (id: number) => void): void {
    this.scan(value, found);
  }
}

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
