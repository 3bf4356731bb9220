/**
 * Times shown in a time zone (`--timezone`): alerts keep UTC in JSON and CSV; the table may show
 * the responder's zone or the victim's, with its offset, e.g. `2023-05-16 09:20:01.000 -04:00`.
 */

/** A formatter for an IANA zone name or `local`; null for a zone this runtime does not know. */
export function timeFormatter(zone: string): ((iso: string) => string) | null {
  const timeZone = zone === 'local' ? Intl.DateTimeFormat().resolvedOptions().timeZone : zone;
  let parts: Intl.DateTimeFormat;
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  } catch {
    return null;
  }
  return (iso) => {
    const ms = Date.parse(iso);
    if (!Number.isFinite(ms)) return iso;
    const p = Object.fromEntries(parts.formatToParts(ms).map((x) => [x.type, x.value]));
    // The zone's offset at that instant: its wall clock read as UTC, minus the instant.
    const wall = Date.UTC(
      Number(p.year),
      Number(p.month) - 1,
      Number(p.day),
      Number(p.hour),
      Number(p.minute),
      Number(p.second),
    );
    const offset = Math.round((wall - Math.floor(ms / 1000) * 1000) / 60_000);
    const sign = offset < 0 ? '-' : '+';
    const abs = Math.abs(offset);
    const millis = String(((ms % 1000) + 1000) % 1000).padStart(3, '0');
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}.${millis} ${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  };
}
