/**
 * The alert contract (DESIGN.md section 7). Every detector (Sigma, correlation, KQL, IOC, anomaly)
 * produces alerts of this one shape; report/ writes them (`--format jsonl`: one a line).
 */
import type { EventView } from '../normalize/normalize.js';

export type AlertKind = 'sigma' | 'correlation' | 'kql' | 'ioc' | 'anomaly';
export type Level = 'informational' | 'low' | 'medium' | 'high' | 'critical';
export const LEVELS: Level[] = ['informational', 'low', 'medium', 'high', 'critical'];

export interface Alert {
  time: string | null;
  rule: {
    id: string;
    title: string;
    level: Level;
    kind: AlertKind;
    author: string;
    techniques: string[];
    tactics: string[];
  };
  host: string | null;
  user: string | null;
  source: {
    file: string;
    format: string;
    record?: number;
    line?: number;
    offset?: number;
    channel: string | null;
    eventId: number | null;
  };
  event: Record<string, unknown>;
  /** What matched, for IOC alerts: the indicator and the event field that held it. */
  match?: Record<string, unknown>;
}

/** The account an event is about, from whichever field the source has. */
function userOf(view: EventView): string | null {
  const named = (v: unknown) => (typeof v === 'string' && v !== '' && v !== '-' ? v : null);
  const qualified = (domain: unknown, user: unknown) => {
    const u = named(user);
    if (!u) return null;
    const d = named(domain);
    return d ? `${d}\\${u}` : u;
  };
  return (
    named(view.sigma('User')) ??
    // Logon events are about the account that logged on (Target), others about the actor (Subject).
    qualified(view.field('TargetDomainName'), view.field('TargetUserName')) ??
    qualified(view.field('SubjectDomainName'), view.field('SubjectUserName')) ??
    qualified(view.column('AccountDomain'), view.column('AccountName')) ??
    named(view.field('user.name'))
  );
}

export function alertFor(view: EventView, rule: Alert['rule'], match?: Alert['match']): Alert {
  const raw = view.raw;
  const source: Alert['source'] = {
    file: raw.origin.file,
    format: raw.origin.format,
    channel: raw.channel,
    eventId: raw.eventId,
  };
  if (raw.origin.record !== undefined) source.record = raw.origin.record;
  if (raw.origin.line !== undefined) source.line = raw.origin.line;
  if (raw.origin.offset !== undefined) source.offset = raw.origin.offset;
  const alert: Alert = {
    time: raw.time === null ? null : new Date(raw.time).toISOString(),
    rule,
    host: raw.computer,
    user: userOf(view),
    source,
    event: raw.data,
  };
  if (match) alert.match = match;
  return alert;
}

/** Stable order: time, then rule id, then file and record (or line / offset), then offset. */
export function compareAlerts(a: Alert, b: Alert): number {
  const ta = a.time ?? '';
  const tb = b.time ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (a.rule.id !== b.rule.id) return a.rule.id < b.rule.id ? -1 : 1;
  if (a.source.file !== b.source.file) return a.source.file < b.source.file ? -1 : 1;
  const pa = a.source.record ?? a.source.line ?? a.source.offset ?? 0;
  const pb = b.source.record ?? b.source.line ?? b.source.offset ?? 0;
  if (pa !== pb) return pa - pb;
  // Record numbers can repeat in one file (copied chunks): the byte offset tells them apart, so
  // the order never depends on which thread finished first.
  return (a.source.offset ?? 0) - (b.source.offset ?? 0);
}
