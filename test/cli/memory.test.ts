/**
 * collectGarbage must really collect: the hunt's heap guard relies on it to keep a large hunt near
 * its live size (a variant that returned without collecting let the 1 GiB benchmark grow 50 MB).
 */
import { describe, expect, it } from 'vitest';
import { collectGarbage } from '../../src/hunt/heap-guard.js';

describe('collectGarbage', () => {
  it('frees what is no longer reachable, at once', () => {
    let garbage: { n: number; s: string }[] | null = [];
    for (let i = 0; i < 500_000; i++) garbage.push({ n: i, s: `value ${i}` });
    const before = process.memoryUsage().heapUsed;
    garbage = null;
    collectGarbage();
    const after = process.memoryUsage().heapUsed;
    expect(garbage).toBeNull();
    expect(before - after).toBeGreaterThan(20 * 1024 * 1024);
  });
});
