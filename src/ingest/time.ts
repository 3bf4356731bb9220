/**
 * Timestamps in logs come as ISO 8601 with up to 9 fractional digits, as "YYYY-MM-DD hh:mm:ss.fff"
 * with no zone (Sysmon UtcTime, Security-Datasets TimeCreated: both UTC), or as epoch numbers.
 * We parse the common shapes by hand: Date.parse rejects 7- and 9-digit fractions on some inputs
 * and treats zone-less strings as local time, which would shift every event by the host's offset.
 */
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Parses a timestamp to UTC epoch milliseconds; null when it is not a timestamp we understand. */
export function parseTimestamp(value: unknown): number | null {
  if (typeof value === 'number') return epochNumberToMs(value);
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (text === '') return null;
  const fast = plainUtc(text);
  if (fast !== null) return fast;
  const m = ISO.exec(text);
  if (m) {
    const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
    let t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0, ms);
    const zone = m[8];
    if (zone && zone !== 'Z' && zone !== 'z') {
      const sign = zone[0] === '-' ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
      t -= sign * minutes * 60_000;
    }
    return Number.isFinite(t) ? t : null;
  }
  if (/^\d{10,19}$/.test(text)) return epochNumberToMs(Number(text));
  // Other shapes ("5/16/2023 1:30:00 PM", RFC 2822) through Date.parse, which reads a string with
  // no zone as local time: such a string is read as UTC instead, so the result never depends on
  // the machine's TZ. One with a zone (Z, GMT+0200, -05:00, EST) keeps it.
  const parsed = Date.parse(HAS_ZONE.test(text) ? text : `${text} UTC`);
  return Number.isNaN(parsed) ? null : parsed;
}

const HAS_ZONE = /(?:\d[zZ]$|\b(?:UTC|GMT|UT)\b|[+-]\d{2}:?\d{2}$|\b[ECMP][SD]T$)/;

/** Days since 1970 of the last date seen: a log's events share their day. */
let lastDay = '';
let lastDayMs = 0;

/**
 * The commonest shape, `YYYY-MM-DD[T ]hh:mm:ss[.fraction][Z]`, read digit by digit (every event
 * has a time, and the regex cost more than the rest of reading some of them); null for any other
 * shape, which the regex then reads. The same value as the regex path, to the millisecond.
 */
function plainUtc(t: string): number | null {
  const n = t.length;
  if (n < 19 || t.charCodeAt(4) !== 45 || t.charCodeAt(7) !== 45) return null;
  const sep = t.charCodeAt(10);
  if ((sep !== 84 && sep !== 32) || t.charCodeAt(13) !== 58 || t.charCodeAt(16) !== 58) return null;
  const h = two(t, 11);
  const mi = two(t, 14);
  const s = two(t, 17);
  if (h < 0 || mi < 0 || s < 0) return null;
  let i = 19;
  let ms = 0;
  const dot = t.charCodeAt(i);
  if (dot === 46 || dot === 44) {
    i++;
    let digits = 0;
    for (; i < n; i++) {
      const d = t.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      if (digits < 3) ms = ms * 10 + d;
      digits++;
    }
    if (digits === 0) return null;
    for (let k = digits; k < 3; k++) ms *= 10;
  }
  if (i < n) {
    const z = t.charCodeAt(i);
    if ((z !== 90 && z !== 122) || i !== n - 1) return null; // an offset: the regex path
  }
  const day = t.slice(0, 10);
  if (day !== lastDay) {
    const century = two(day, 0);
    const year = two(day, 2);
    const mo = two(day, 5);
    const d = two(day, 8);
    if (century < 0 || year < 0 || mo < 0 || d < 0) return null;
    const ms0 = Date.UTC(century * 100 + year, mo - 1, d);
    if (!Number.isFinite(ms0)) return null;
    lastDay = day;
    lastDayMs = ms0;
  }
  return lastDayMs + ((h * 60 + mi) * 60 + s) * 1000 + ms;
}

/** Two decimal digits at `at`, or -1. */
function two(t: string, at: number): number {
  const a = t.charCodeAt(at) - 48;
  const b = t.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Epoch numbers: seconds, milliseconds, microseconds or Windows FILETIME ticks, told apart by size. */
function epochNumberToMs(n: number): number | null {
  if (!Number.isFinite(n) || n <= 0) return null;
  if (n < 1e11) return Math.round(n * 1000); // seconds
  if (n < 1e14) return Math.round(n); // milliseconds
  if (n < 1e17) return Math.round(n / 1000); // microseconds
  return Math.round(n / 10_000 - 11_644_473_600_000); // FILETIME: 100 ns ticks since 1601
}

export function formatTimestamp(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
