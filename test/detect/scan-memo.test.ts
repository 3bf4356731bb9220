/**
 * The scan memo must report exactly what scanning reports, for values seen before or not, across
 * its generations (a tiny budget makes them turn over every few values).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LiteralScanner } from '../../src/detect/sigma/aho-corasick.js';
import { MemoBudget, ScanMemo } from '../../src/detect/sigma/scan-memo.js';

const LITERALS = ['ntdll.dll', 'kernelbase', 'dbghelp', 'comsvcs', 'lsass', 'unknown('];
const PIECES = [...LITERALS, 'C:\\Windows\\System32\\', 'NTDLL.DLL+9d234|', 'x', '|', 'KernelBase.dll'];
/** Values long and short (up to about 800 characters), so both paths (memo and direct) are taken; drawn from a few, so they repeat. */
const VALUE = fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 40 }).map((p) => p.join(''));

function ids(scan: (v: string, f: (id: number) => void) => void, v: string): number[] {
  const out: number[] = [];
  scan(v, (id) => out.push(id));
  return out.sort((a, b) => a - b);
}

describe('ScanMemo', () => {
  it('reports what the scanner reports, for repeated and new values, as generations turn over', () => {
    const scanner = new LiteralScanner(LITERALS);
    expect(scanner.foldsCase).toBe(true);
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(0, 1, 2, 3), { minLength: 1, maxLength: 60 }),
        fc.array(VALUE, { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 50, max: 2000 }),
        (picks, values, limit) => {
          const budget = new MemoBudget(limit);
          const memo = new ScanMemo(scanner, budget);
          const other = new ScanMemo(scanner, budget); // shares the budget: its turns age this one too
          for (const i of picks) {
            const v = values[i];
            expect(ids((x, f) => memo.scanValue(x, f), v)).toEqual(ids((x, f) => scanner.scanValue(x, f), v));
            other.scanValue(`${v}${v}`, () => {});
          }
        },
      ),
      { numRuns: 300, seed: 3 },
    );
  });

  it('a long value seen before is not scanned again', () => {
    let scans = 0;
    const scanner = new LiteralScanner(LITERALS);
    const counting = Object.assign(Object.create(scanner) as LiteralScanner, {
      scanValue(v: string, f: (id: number) => void) {
        scans++;
        scanner.scanValue(v, f);
      },
    });
    const memo = new ScanMemo(counting, new MemoBudget());
    const frame = 'C:\\Windows\\SYSTEM32\\ntdll.dll+9d234|C:\\Windows\\System32\\KERNELBASE.dll+2c13e|';
    const trace = `${frame.repeat(4)}UNKNOWN(00007FF8)`; // long enough to be remembered
    for (let i = 0; i < 5; i++)
      expect([...new Set(ids((x, f) => memo.scanValue(x, f), trace))]).toEqual([0, 1, 5]);
    expect(scans).toBe(1);
    memo.scanValue('lsass', () => {}); // short: scanned each time
    memo.scanValue('lsass', () => {});
    expect(scans).toBe(3);
  });
});
