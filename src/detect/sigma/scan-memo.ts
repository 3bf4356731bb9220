/**
 * What a scanner found in values seen before. Logs repeat their long values endlessly — the same
 * image paths, call traces, command lines of services — and a value's literals never change:
 * looking a value up costs a hash and a comparison, scanning it two array reads a character.
 * (Over the shared EVTX corpus, 64% of the characters in values of 128 or more are repeats.) Short
 * values are scanned as they come. The memory is bounded by a budget shared by every memo of an
 * engine: past it, each memo's entries become its older generation, dropped at the next turn.
 */
import type { LiteralScanner } from './aho-corasick.js';

/**
 * Values shorter than this are scanned directly: hashing and comparing a value costs about as much
 * as scanning it until values grow long (call traces, script blocks, long command lines); below
 * this, remembering them only cost memory (20 MB over the 1 GiB EVTX benchmark).
 */
const MIN_LENGTH = 256;
/** Longer values are scanned directly too (V8 hashes only the length of very long strings). */
const MAX_LENGTH = 16_000;
/** What an entry costs besides its characters (map slot, result array), in characters. */
const ENTRY_COST = 48;

/** The budget the memos of one engine share, in characters (about 2 bytes each at worst). */
export class MemoBudget {
  private used = 0;
  private readonly memos: ScanMemo[] = [];

  constructor(readonly limit = 2_000_000) {}

  register(memo: ScanMemo): void {
    this.memos.push(memo);
  }

  charge(n: number): void {
    this.used += n;
    if (this.used <= this.limit) return;
    this.used = 0;
    for (const m of this.memos) m.age();
  }
}

const NONE = new Int32Array(0);

export class ScanMemo {
  private current = new Map<string, Int32Array>();
  private older = new Map<string, Int32Array>();
  private readonly found: number[] = [];
  private readonly collect = (id: number): void => {
    this.found.push(id);
  };

  constructor(
    private readonly scanner: LiteralScanner,
    private readonly budget: MemoBudget,
  ) {
    budget.register(this);
  }

  /** Calls `onLiteral` for each literal the value holds, as `scanner.scanValue` would. */
  scanValue(value: string, onLiteral: (id: number) => void): void {
    if (value.length < MIN_LENGTH || value.length > MAX_LENGTH) {
      this.scanner.scanValue(value, onLiteral);
      return;
    }
    let ids = this.current.get(value);
    if (ids === undefined) {
      ids = this.older.get(value);
      if (ids === undefined) {
        const found = this.found;
        found.length = 0;
        this.scanner.scanValue(value, this.collect);
        ids = found.length === 0 ? NONE : Int32Array.from(found);
      }
      this.current.set(value, ids);
      this.budget.charge(value.length + ENTRY_COST);
    }
    for (let i = 0; i < ids.length; i++) onLiteral(ids[i]);
  }

  /** The current generation becomes the older one; the older one is dropped. */
  age(): void {
    this.older = this.current;
    this.current = new Map();
  }
}
