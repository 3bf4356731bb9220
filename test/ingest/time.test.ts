import fc from 'fast-check';
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

  it('reads YYYY-MM-DD[T ]hh:mm:ss[.fraction][Z] to the millisecond, any number of fraction digits', () => {
    // The reference: the instant drawn, cut to the millisecond the text can tell.
    fc.assert(
      fc.property(
        fc.date({
          min: new Date(Date.UTC(1601, 0, 1)),
          max: new Date(Date.UTC(9999, 11, 31)),
          noInvalidDate: true,
        }),
        fc.nat(9_999_999),
        fc.integer({ min: 0, max: 9 }),
        fc.constantFrom('T', ' '),
        fc.constantFrom('Z', 'z', '', '+00:00', '-01:30'),
        fc.constantFrom('.', ','),
        (date, ticks, digits, sep, zone, point) => {
          const whole = Math.floor(date.getTime() / 1000) * 1000;
          const iso = new Date(whole).toISOString().slice(0, 19).replace('T', sep);
          const fraction = String(ticks).padStart(7, '0').slice(0, digits);
          const text = `${iso}${digits > 0 ? point + fraction : ''}${zone}`;
          const ms = digits === 0 ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3));
          const shift = zone === '-01:30' ? 90 * 60_000 : 0;
          expect(parseTimestamp(text)).toBe(whole + ms + shift);
          // The same text twice in a row (the day is kept) and after another day.
          expect(parseTimestamp(text)).toBe(whole + ms + shift);
        },
      ),
      { numRuns: 3000, seed: 13 },
    );
    expect(parseTimestamp('+123-05-16T13:05:12Z')).toBeNull();
    expect(parseTimestamp('2023-05-16T13:05:12.Z')).toBeNull();
  });

  it('returns null for what is not a time', () => {
    expect(parseTimestamp('-')).toBeNull();
    expect(parseTimestamp('')).toBeNull();
    expect(parseTimestamp(null)).toBeNull();
    expect(parseTimestamp({})).toBeNull();
  });

  it('reads zone-less shapes of the Date.parse fallback as UTC, whatever the machine TZ', () => {
    const zoneless = [
      '5/16/2023 1:30:00 PM',
      'May 16, 2023 1:30:00 PM',
      'Tue, 16 May 2023 13:30:00',
      '2023/05/16 13:30:00',
    ];
    const before = process.env.TZ;
    try {
      for (const tz of ['America/New_York', 'Asia/Tokyo', 'UTC']) {
        process.env.TZ = tz; // Node applies a TZ set at run time
        for (const t of zoneless)
          expect(parseTimestamp(t), `${t} in ${tz}`).toBe(Date.UTC(2023, 4, 16, 13, 30));
        // A zone written in the text is kept.
        expect(parseTimestamp('Tue May 16 2023 13:30:00 GMT+0200')).toBe(Date.UTC(2023, 4, 16, 11, 30));
        expect(parseTimestamp('16 May 2023 13:30:00 EST')).toBe(Date.UTC(2023, 4, 16, 18, 30));
      }
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
  });
});
