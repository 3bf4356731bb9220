/**
 * Aho–Corasick over lower-cased text: one pass finds every literal of a set, however many there
 * are. Built as a full DFA over the literals' own alphabet (other characters lead back to the
 * root), so a step is two array reads.
 */
export class LiteralScanner {
  private readonly symbolOf = new Uint16Array(65536);
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
    // Breadth-first: each state's transitions are its own, else its failure state's.
    const queue: number[] = [];
    for (let sym = 1; sym < width; sym++) {
      const t = trie[0].get(sym);
      if (t !== undefined) {
        delta[sym] = t;
        queue.push(t);
      }
    }
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi];
      const f = fail[s];
      dict[s] = out[f].length > 0 ? f : dict[f];
      for (let sym = 1; sym < width; sym++) {
        const t = trie[s].get(sym);
        if (t !== undefined) {
          fail[t] = delta[f * width + sym];
          delta[s * width + sym] = t;
          queue.push(t);
        } else delta[s * width + sym] = delta[f * width + sym];
      }
    }
    // Entries hold the next state's row offset, with the low bit set when that state (or one on its
    // failure chain) ends a literal: a step is one read and one mask.
    const emits = (t: number) => out[t].length > 0 || dict[t] >= 0;
    for (let i = 0; i < delta.length; i++) {
      const t = delta[i];
      delta[i] = (t * width) | (emits(t) ? 1 : 0);
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
}
