import { describe, expect, it } from 'vitest';
import { parseTimestamp } from '../../src/ingest/time.js';

describe('parseTimestamp', () => {
  it.each([
    ['2025-11-27T07:40:10.165324Z', Date.UTC(2025, 10, 27, 7, 40, 10, 165)],
    ['2019-03-19T23:37:52.541245000Z', Date.UTC(2019, 2, 19, 23, 37, 52, 541)],
    ['2023-05-16T13:05:12.0000000Z', Date.UTC(2023, 4, 16, 13, 5, 12, 0)],
    // Zone-less: Sysmon UtcTime and Security-Datasets TimeCreated are UTC, not local time.
    ['2020-10-18 07:50:06.220', Date.UTC(2020, 9, 18, 7, 50, 6, 220)],
    ['2020-10-18T09:50:06+02:00', Date.UTC(2020, 9, 18, 7, 50, 6)],
    [1_600_000_000, 1_600_000_000_000],
    [1_600_000_000_123, 1_600_000_000_123],
    // FILETIME ticks (100 ns since 1601)
    [132_455_000_000_000_000, Date.UTC(2020, 8, 25, 9, 33, 20)],
  ])('%s', (input, expected) => {
    expect(parseTimestamp(input)).toBe(expected);
  });

  it('returns null for what is not a time', () => {
    expect(parseTimestamp('-')).toBeNull();
    expect(parseTimestamp('')).toBeNull();
    expect(parseTimestamp(null)).toBeNull();
    expect(parseTimestamp({})).toBeNull();
  });
});
