/**
 * Query results as Kusto shows them: ISO 8601 times in UTC with every digit DuckDB kept (up to
 * 100 ns), numbers as numbers, dynamic values parsed, absent strings empty. Used by `lotl query`
 * and by the alerts of KQL hunts.
 */
/** DuckDB's JSON rows as Kusto shows them: ISO 8601 times in UTC, numbers as numbers. */
export function presentRow(
  row: Record<string, unknown>,
  columns: { name: string; type: string }[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { name, type } of columns) {
    let v = row[name];
    if (v !== null && v !== undefined) {
      if (type === 'datetime') {
        // DuckDB's text keeps every digit (to 100 ns): made ISO 8601 as it is, not through Date.
        const text = String(v);
        v = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?$/.test(text)
          ? `${text.replace(' ', 'T').replace(/(\.\d{3}\d*?)0+$/, '$1')}${/\./.test(text) ? '' : '.000'}Z`
          : text;
      } else v = plainValue(v, type);
    }
    // Kusto has no null string: an absent string shows as empty.
    out[name] = v ?? (type === 'string' ? '' : null);
  }
  return out;
}

/** Numbers given as text made numbers (a long past 2^53 kept as its digits), dynamic text parsed. */
function plainValue(v: unknown, type: string): unknown {
  if (
    (type === 'long' || type === 'int' || type === 'real') &&
    typeof v === 'string' &&
    Number.isFinite(Number(v)) &&
    (type === 'real' || Number.isSafeInteger(Number(v)))
  )
    return Number(v);
  if (type === 'dynamic' && typeof v === 'string') {
    try {
      return JSON.parse(v);
    } catch {
      // keep the text
    }
  }
  return v;
}

/**
 * 100 ns ticks since 1970 as ISO 8601 in UTC, written as presentRow writes DuckDB's times: the
 * fraction's digits without trailing zeros, `.000` for a whole second.
 */
export function ticksToIso(ticks: bigint): string {
  const ms = ticks / 10_000n - (ticks % 10_000n < 0n ? 1n : 0n);
  const rest = ticks - ms * 10_000n;
  const iso = new Date(Number(ms)).toISOString();
  const fraction = `${iso.slice(20, 23)}${String(rest).padStart(4, '0')}`.replace(/0+$/, '');
  return `${iso.slice(0, 19)}.${fraction === '' ? '000' : fraction}Z`;
}

/** 100 ns ticks as Kusto writes a timespan: [-][d.]hh:mm:ss[.fffffff]. */
export function ticksToTimespan(ticks: bigint): string {
  const sign = ticks < 0n ? '-' : '';
  let t = ticks < 0n ? -ticks : ticks;
  const fraction = t % 10_000_000n;
  t /= 10_000_000n;
  const [s, m, h, d] = [t % 60n, (t / 60n) % 60n, (t / 3600n) % 24n, t / 86_400n];
  const two = (n: bigint) => String(n).padStart(2, '0');
  return `${sign}${d > 0n ? `${d}.` : ''}${two(h)}:${two(m)}:${two(s)}${fraction > 0n ? `.${String(fraction).padStart(7, '0')}` : ''}`;
}

/**
 * Rows of a query compiled to the SQL tree (kql/to-tree.ts), from any engine, as Kusto shows
 * them: times and timespans from ticks, booleans from 0/1, numbers as numbers (a long past 2^53
 * as its digits), dynamic values parsed, absent strings empty.
 */
export function presentTreeRow(
  row: Record<string, unknown>,
  columns: { name: string; type: string }[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { name, type } of columns) {
    let v = row[name];
    if (v !== null && v !== undefined) {
      const integer = typeof v === 'number' || (typeof v === 'string' && /^-?\d+$/.test(v));
      if (type === 'datetime' && integer) v = ticksToIso(BigInt(v as string | number));
      else if (type === 'timespan' && integer) v = ticksToTimespan(BigInt(v as string | number));
      else if (type === 'bool') v = v === true || v === 1 || v === '1' || v === 'true';
      else v = plainValue(v, type);
    }
    out[name] = v ?? (type === 'string' ? '' : null);
  }
  return out;
}
