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
      } else if (
        (type === 'long' || type === 'int' || type === 'real') &&
        typeof v === 'string' &&
        Number.isFinite(Number(v)) &&
        // A long past 2^53 stays as its digits: a JS number would round it.
        (type === 'real' || Number.isSafeInteger(Number(v)))
      )
        v = Number(v);
      else if (type === 'dynamic' && typeof v === 'string') {
        try {
          v = JSON.parse(v);
        } catch {
          // keep the text
        }
      }
    }
    // Kusto has no null string: an absent string shows as empty.
    out[name] = v ?? (type === 'string' ? '' : null);
  }
  return out;
}
