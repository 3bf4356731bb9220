/**
 * The alert contract (DESIGN.md section 7). Every detector (Sigma, correlation, KQL, IOC, anomaly)
 * produces alerts of this one shape; report/ writes them (`--format jsonl`: one a line).
 */
import type { EventView } from '../normalize/normalize.js';

export type AlertKind = 'sigma' | 'correlation' | 'kql' | 'ioc' | 'anomaly';
export type Level = 'informational' | 'low' | 'medium' | 'high' | 'critical';
export const LEVELS: Level[] = ['informational', 'low', 'medium', 'high', 'critical'];

/** The ATT&CK enterprise tactics, in kill-chain order (an incident's stages are listed in it). */
export const TACTICS = [
  'reconnaissance',
  'resource-development',
  'initial-access',
  'execution',
  'persistence',
  'privilege-escalation',
  'defense-evasion',
  'credential-access',
  'discovery',
  'lateral-movement',
  'collection',
  'command-and-control',
  'exfiltration',
  'impact',
];

/** Where an alert's event is: `file#record`, `file:line`, or the file. */
export function sourceRef(s: Alert['source']): string {
  if (s.record !== undefined && s.record !== null) return `${s.file}#${s.record}`;
  return s.line !== undefined ? `${s.file}:${s.line}` : s.file;
}

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
    /** Microsoft Defender detection names and alert titles the rule stands for, when it says. */
    defender?: string[];
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

/**
 * What ordering, counting and filtering alerts look at: enough to keep an alert that travels as
 * JSON text (from a parser thread) without parsing all of it.
 */
export interface AlertHead {
  time: string | null;
  host: string | null;
  rule: Pick<Alert['rule'], 'id' | 'title' | 'level'>;
  source: Pick<Alert['source'], 'file' | 'record' | 'line' | 'offset'>;
}

/** The head of an alert (see AlertHead). */
export function alertHead(a: Alert): AlertHead {
  const { file, record, line, offset } = a.source;
  return {
    time: a.time,
    host: a.host,
    rule: { id: a.rule.id, title: a.rule.title, level: a.rule.level },
    source: { file, record, line, offset },
  };
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
  // A 4688 that names a target account ran the process as that account (runas, a service's
  // token): the acting account is the target, not the creator.
  if (view.raw.eventId === 4688 && view.raw.channel === 'Security') {
    const target = qualified(view.field('TargetDomainName'), view.field('TargetUserName'));
    if (target) return target;
  }
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

/** What alerts are ordered by: time, rule id, file, record (or line / offset), offset. */
export type AlertSortKey = [time: string, ruleId: string, file: string, position: number, offset: number];

export function alertSortKey(a: AlertHead): AlertSortKey {
  const src = a.source;
  return [a.time ?? '', a.rule.id, src.file, src.record ?? src.line ?? src.offset ?? 0, src.offset ?? 0];
}

/**
 * Stable order: time, then rule id, then file and record (or line / offset). Record numbers can
 * repeat in one file (copied chunks): the byte offset then tells them apart, so the order never
 * depends on which thread finished first.
 */
export function compareSortKeys(a: AlertSortKey, b: AlertSortKey): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a[3] !== b[3] ? (a[3] as number) - (b[3] as number) : (a[4] as number) - (b[4] as number);
}

export function compareAlerts(a: Alert, b: Alert): number {
  return compareSortKeys(alertSortKey(a), alertSortKey(b));
}
