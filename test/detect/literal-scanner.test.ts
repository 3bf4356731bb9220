/**
 * The literal scanner may scan text without lower-casing it when its literals allow: it must then
 * find at least every literal that the lower-cased text contains (it only picks candidate rules).
 * The alphabet holds the characters where unit-by-unit folding and toLowerCase differ.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LiteralScanner } from '../../src/detect/sigma/aho-corasick.js';

const CHARS = [
  'a',
  'B',
  'i',
  'I',
  '\u0130',
  '\u212a',
  'k',
  '\u03a3',
  '\u03c3',
  '\u03c2',
  '\u00df',
  '\u{1f600}',
  '\u{10400}',
  '\\',
  ' ',
];
const text = fc.array(fc.constantFrom(...CHARS), { maxLength: 12 }).map((c) => c.join(''));

function found(scanner: LiteralScanner, s: string, fold: boolean): Set<number> {
  const ids = new Set<number>();
  if (fold) scanner.scanValue(s, (id) => ids.add(id));
  else scanner.scan(s.toLowerCase(), (id) => ids.add(id));
  return ids;
}

describe('LiteralScanner', () => {
  it('finds every literal of the lower-cased text, scanning text as it is when it folds case', () => {
    fc.assert(
      fc.property(
        fc.array(
          text.filter((t) => t.length > 0),
          { minLength: 1, maxLength: 6 },
        ),
        text,
        (raw, s) => {
          const literals = [...new Set(raw.map((l) => l.toLowerCase()))];
          const scanner = new LiteralScanner(literals);
          const exact = found(scanner, s, false);
          const expected = literals.flatMap((l, id) => (s.toLowerCase().includes(l) ? [id] : []));
          expect([...exact].sort()).toEqual(expected.sort());
          if (scanner.foldsCase) for (const id of exact) expect(found(scanner, s, true).has(id)).toBe(true);
        },
      ),
      { numRuns: 2000, seed: 5 },
    );
  });

  it('finds every literal over a wide alphabet (rare characters share a symbol) and past 65,536 states', () => {
    // 60 characters: more than the scanner's symbols. 6,000 literals of 16: more states than 16 bits number.
    const alphabet = [...'abcdefghijklmnopqrstuvwxyz0123456789\\/.-_:;,!@#$%^&()[]{}<>=+'];
    let seed = 1;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const word = (len: number) => Array.from({ length: len }, () => alphabet[rand(alphabet.length)]).join('');
    const literals = [...new Set(Array.from({ length: 6000 }, () => word(16)))];
    const scanner = new LiteralScanner(literals);
    expect((scanner as unknown as { halves: unknown }).halves).not.toBeNull();
    for (let k = 0; k < 200; k++) {
      // Texts holding a few literals, in random noise.
      const planted = [literals[rand(literals.length)], literals[rand(literals.length)]];
      const text = `${word(rand(40))}${planted[0]}${word(rand(40))}${planted[1].toUpperCase()}${word(5)}`;
      const ids = found(scanner, text, false);
      const expected = literals.flatMap((l, id) => (text.toLowerCase().includes(l) ? [id] : []));
      for (const id of expected) expect(ids.has(id)).toBe(true);
      const folded = found(scanner, text, true);
      for (const id of expected) expect(folded.has(id)).toBe(true);
    }
  });

  it('folds ASCII and Kelvin sign without lower-casing, and refuses literals it cannot fold', () => {
    const s = new LiteralScanner(['ntdsutil', 'k']);
    expect(s.foldsCase).toBe(true);
    expect(found(s, 'C:\\NTDSUTIL.EXE \u212a', true)).toEqual(new Set([0, 1]));
    expect(new LiteralScanner(['\u03c3x']).foldsCase).toBe(false);
    expect(new LiteralScanner(['i\u0307']).foldsCase).toBe(false);
    expect(new LiteralScanner(['\u{10428}']).foldsCase).toBe(false);
  });

  it('keeps ASCII characters out of the shared rare symbol (emoji lists with keycaps: no candidate per digit)', () => {
    // 200 one-character symbols (more than the scanner's symbols), each also in a longer literal so
    // that each is commoner than a digit, and keycaps 0️⃣–9️⃣, as in the emoji rules.
    const symbols = Array.from({ length: 200 }, (_, i) => String.fromCharCode(0x2600 + i));
    const keycaps = Array.from({ length: 10 }, (_, d) => `${d}\ufe0f\u20e3`);
    const scanner = new LiteralScanner([...symbols, ...keycaps, ...symbols.map((c) => `${c}\u2800`)]);
    const reported: number[] = [];
    scanner.scan('"c:\\windows\\system32\\cmd.exe" /c ping -n 127.0.0.1 2>&1', (id) => reported.push(id));
    expect(reported).toEqual([]);
    scanner.scan('x 7\ufe0f\u20e3 \u2605', (id) => reported.push(id));
    expect(reported).toContain(200 + 7);
    expect(reported).toContain(5);
  });
});
