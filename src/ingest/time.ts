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
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? null : parsed;
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
