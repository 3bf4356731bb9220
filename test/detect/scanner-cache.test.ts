/**
 * Built scanners kept on disk: one read back must find exactly what a fresh one finds; a damaged
 * file, another version's file or an unwritable folder only mean building again.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { LiteralScanner } from '../../src/detect/sigma/aho-corasick.js';
import { cachedScanner, pruneScanners } from '../../src/detect/sigma/scanner-cache.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lotl-ac-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Literals with shared prefixes and suffixes, upper-case and non-ASCII text around them. */
const LITERALS = [
  '\\rundll32.exe',
  'comsvcs',
  'minidump',
  'ntdsutil',
  'ifm',
  'portproxy',
  'dump',
  'ümlaut',
  'σύνολο',
];
const TEXT = fc
  .array(fc.constantFrom(...LITERALS, 'X', ' ', 'RUNDLL32.EXE', 'Σ', 'ß', '\\'), { maxLength: 12 })
  .map((p) => p.join(''));

function found(scanner: LiteralScanner, s: string): number[] {
  const ids = new Set<number>();
  scanner.scan(s.toLowerCase(), (id) => ids.add(id));
  return [...ids].sort((a, b) => a - b);
}

const files = () => readdirSync(dir).filter((f) => f.startsWith('ac-'));

describe('scanner cache', () => {
  const cache = { dir, version: '1.0.0' };

  it('a scanner read back finds what a freshly built one finds', () => {
    const built = cachedScanner(LITERALS, cache);
    expect(files()).toHaveLength(1);
    const restored = cachedScanner(LITERALS, cache);
    expect(restored.tables()).not.toBeNull();
    const fresh = new LiteralScanner(LITERALS);
    fc.assert(
      fc.property(TEXT, (s) => {
        expect(found(restored, s)).toEqual(found(fresh, s));
        expect(found(built, s)).toEqual(found(fresh, s));
      }),
      { numRuns: 500, seed: 11 },
    );
    expect(found(restored, 'C:\\Windows\\System32\\RUNDLL32.EXE comsvcs.dll, MiniDump')).toEqual([
      0, 1, 2, 6,
    ]);
  });

  it('a damaged file or another version is rebuilt, and written again', () => {
    const [file] = files();
    const full = path.join(dir, file);
    const bytes = readFileSync(full);
    bytes[bytes.length - 3] ^= 0xff; // inside the tables
    writeFileSync(full, bytes);
    const s = cachedScanner(LITERALS, cache);
    expect(found(s, 'ntdsutil ifm')).toEqual([3, 4]);
    expect(readFileSync(full).equals(bytes)).toBe(false); // rewritten whole
    writeFileSync(full, bytes.subarray(0, 40)); // cut short
    expect(found(cachedScanner(LITERALS, cache), 'portproxy')).toEqual([5]);
    const other = cachedScanner(LITERALS, { dir, version: '2.0.0' });
    expect(found(other, 'portproxy')).toEqual([5]);
    expect(files()).toHaveLength(1); // same literals, same file: the newer version's now
  });

  it('a folder that cannot be made only means building every time', () => {
    const notADir = path.join(dir, 'plain-file');
    writeFileSync(notADir, 'x'); // even root cannot make a folder where a file is
    const s = cachedScanner(['abc', 'bcd'], { dir: notADir, version: '1' });
    expect(found(s, 'xabcdx')).toEqual([0, 1]);
  });

  it('pruning keeps the newest files', () => {
    const p = path.join(dir, 'prune');
    for (let i = 0; i < 6; i++) cachedScanner([`literal${i}`], { dir: p, version: '1' });
    const all = readdirSync(p);
    expect(all).toHaveLength(6);
    for (const [i, f] of all.entries()) utimesSync(path.join(p, f), i + 1, i + 1); // oldest first
    pruneScanners(p, 4);
    expect(readdirSync(p).sort()).toEqual(all.slice(2).sort());
  });
});
