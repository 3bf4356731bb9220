/**
 * Alerts as Timesketch imports them (JSON lines with `message`, `datetime`, `timestamp_desc`;
 * further fields become event attributes): a responder's timeline next to the other sources.
 * https://timesketch.org/guides/user/import-from-json-csv/
 */
import { type Alert, sourceRef } from '../detect/alert.js';

/** The Timesketch event of an alert; null for an alert without a time (Timesketch needs one). */
export function alertToTimesketch(a: Alert): Record<string, unknown> | null {
  if (a.time === null) return null;
  const ms = Date.parse(a.time);
  if (!Number.isFinite(ms)) return null;
  const who = [a.host, a.user].filter((x) => x !== null && x !== '').join(' ');
  return {
    message: `[${a.rule.level}] ${a.rule.title}${who ? ` (${who})` : ''}`,
    datetime: a.time,
    timestamp: ms * 1000,
    timestamp_desc: 'Alert time (lotl)',
    tag: ['lotl', a.rule.level, ...a.rule.tactics],
    level: a.rule.level,
    rule_id: a.rule.id,
    rule_title: a.rule.title,
    rule_kind: a.rule.kind,
    techniques: a.rule.techniques.join(', '),
    tactics: a.rule.tactics.join(', '),
    hostname: a.host,
    username: a.user,
    source: sourceRef(a.source),
    channel: a.source.channel,
    event_identifier: a.source.eventId,
    data_type: 'lotl:alert',
  };
}
