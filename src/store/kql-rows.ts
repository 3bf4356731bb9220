/**
 * The rows an event makes in the tables KQL queries name (Defender's and Sentinel's), whichever
 * store keeps them: each event goes to the table its profile maps it to (Sysmon 1, Security 4688,
 * DeviceProcessEvents rows and ECS process starts are all DeviceProcessEvents rows); events of the
 * Security log also become SecurityEvent rows; alerts of lotl's own detectors become AlertInfo and
 * AlertEvidence rows. A row is a function from column name to value (read only for the columns a
 * store keeps); cell() makes a value what the column's type wants.
 */
import type { Alert, Level } from '../detect/alert.js';
import type { KqlType } from '../detect/kql/schemas.js';
import type { EventView } from '../normalize/normalize.js';

export interface TableRow {
  table: string;
  value: (column: string) => unknown;
}

const SEVERITY: Record<Level, string> = {
  informational: 'Informational',
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  critical: 'High',
};

/** A value as the column's type wants it in JSON, or null when it cannot be one. */
export function cell(v: unknown, type: KqlType): unknown {
  if (v === undefined || v === null) return null;
  switch (type) {
    case 'string':
    case 'guid':
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    case 'long':
    case 'int':
    case 'timespan': {
      if (typeof v === 'number') return Number.isInteger(v) ? v : Math.trunc(v);
      const s = String(v).trim();
      const n = /^0x[0-9a-f]+$/i.test(s)
        ? Number.parseInt(s.slice(2), 16)
        : /^-?\d+$/.test(s)
          ? Number(s)
          : Number.NaN;
      return Number.isSafeInteger(n) ? n : null;
    }
    case 'real': {
      const n = Number(v);
      return Number.isFinite(n) ? n : null;
    }
    case 'bool': {
      if (typeof v === 'boolean') return v;
      const s = String(v).toLowerCase();
      return s === 'true' || s === '1' ? true : s === 'false' || s === '0' ? false : null;
    }
    case 'datetime': {
      // ISO 8601 text in UTC keeps every digit it has (up to 100 ns); anything else through Date.
      if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v)) return v;
      const t = typeof v === 'number' ? v : Date.parse(String(v));
      return Number.isFinite(t) ? new Date(t).toISOString() : null;
    }
    case 'dynamic':
      return v;
  }
}

/** The rows one event makes. */
export function eventRows(view: EventView): TableRow[] {
  const rows: TableRow[] = [];
  const table = view.profile?.defenderTable;
  // The event's own time text when it has one (EVTX and XML: 7 digits), else lotl's instant.
  const systemTime = view.raw.data.TimeCreated_SystemTime;
  const time = typeof systemTime === 'string' && systemTime.endsWith('Z') ? systemTime : view.raw.time;
  if (table)
    rows.push({ table, value: (c) => (c === 'Timestamp' || c === 'TimeGenerated' ? time : view.column(c)) });
  if (view.raw.channel?.toLowerCase() === 'security') {
    // Sentinel's SecurityEvent keeps the Security log's own field names.
    const raw = view.raw;
    rows.push({
      table: 'SecurityEvent',
      value: (c) => {
        switch (c) {
          case 'Timestamp':
          case 'TimeGenerated':
            return time;
          case 'EventID':
            return raw.eventId;
          case 'Computer':
            return raw.computer;
          case 'Channel':
            return raw.channel;
          case 'EventSourceName':
            return raw.provider;
          case 'Type':
            return 'SecurityEvent';
          case 'Account': {
            const user = view.field('SubjectUserName');
            const domain = view.field('SubjectDomainName');
            return user ? (domain ? `${domain}\\${user}` : user) : undefined;
          }
          default:
            return view.field(c);
        }
      },
    });
  }
  return rows;
}

/**
 * An alert of lotl's own detectors as Defender's alert tables hold it: one AlertInfo row and
 * one AlertEvidence row for the event it was raised on (hunting queries over AlertEvidence —
 * the advisory's FRP-hash query — then run on local data).
 */
export function alertRows(alert: Alert, view: EventView): TableRow[] {
  const rows: TableRow[] = [];
  const id = `lotl:${alert.rule.id}:${alert.source.file}:${alert.source.record ?? alert.source.line ?? alert.source.offset ?? ''}`;
  const severity = SEVERITY[alert.rule.level];
  const common = (c: string): unknown => {
    switch (c) {
      case 'Timestamp':
      case 'TimeGenerated':
        return alert.time;
      case 'AlertId':
        return id;
      case 'Title':
        return alert.rule.title;
      case 'Category':
      case 'Categories':
        return alert.rule.tactics.join(', ');
      case 'AttackTechniques':
        return alert.rule.techniques.join(', ');
      case 'Severity':
        return severity;
      case 'ServiceSource':
        return 'lotl';
      case 'DetectionSource':
        return alert.rule.kind === 'ioc' ? 'Custom TI' : 'Custom detection';
      default:
        return undefined;
    }
  };
  rows.push({ table: 'AlertInfo', value: common });
  const hasFile = view.column('SHA256') !== undefined || view.column('FileName') !== undefined;
  rows.push({
    table: 'AlertEvidence',
    value: (c) => {
      const v = common(c);
      if (v !== undefined) return v;
      switch (c) {
        case 'EntityType':
          return hasFile ? 'File' : 'Process';
        case 'EvidenceRole':
          return 'Impacted';
        case 'DeviceName':
          return alert.host ?? view.column('DeviceName');
        default:
          return view.column(c);
      }
    },
  });
  return rows;
}
