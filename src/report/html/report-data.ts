/**
 * The alerts of an HTML report as the page reads them: columns of small integers into tables of
 * distinct values (rules, hosts, accounts, details, sources), so a million alerts are a few
 * megabytes once compressed, and the page filters them without parsing a million objects. Summary
 * counts (by level, host, day, hour, technique) are kept on the way, for the static sections.
 */
import type { Alert, Level } from '../../detect/alert.js';
import { LEVELS, sourceRef } from '../../detect/alert.js';
import { alertDetails } from '../details.js';

/** A rule as the page lists it. */
export interface RuleEntry {
  id: string;
  title: string;
  level: Level;
  kind: string;
  techniques: string[];
  tactics: string[];
  author: string;
  /** Microsoft Defender names the rule stands for, when it says. */
  defender?: string[];
}

/** The alerts' columns: indexes into the tables, times in ms since 1970 (null: none). */
export interface AlertColumns {
  time: (number | null)[];
  rule: number[];
  host: number[];
  user: number[];
  details: number[];
  /** The file the event came from. */
  file: number[];
  /** Where in it: its record number, or minus its line number (JSON lines), or null. */
  at: (number | null)[];
}

export interface ReportAlerts {
  rules: RuleEntry[];
  hosts: string[];
  users: string[];
  details: string[];
  files: string[];
  columns: AlertColumns;
}

/** The most alerts a report holds; past it the rest are counted (the JSONL output has them all). */
export const MAX_REPORT_ALERTS = 2_000_000;
/** Distinct details strings kept; past it, further ones are cut to their first 60 characters. */
const MAX_DETAILS_KEPT = 500_000;

/** Values to small integers, in order of first appearance. */
class Table {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();
  of(value: string): number {
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(value);
      this.index.set(value, i);
    }
    return i;
  }
  get size(): number {
    return this.values.length;
  }
}

export class ReportAlertsBuilder {
  private readonly ruleIndex = new Map<string, number>();
  private readonly rules: RuleEntry[] = [];
  private readonly hosts = new Table();
  private readonly users = new Table();
  private readonly details = new Table();
  private readonly files = new Table();
  private readonly columns: AlertColumns = {
    time: [],
    rule: [],
    host: [],
    user: [],
    details: [],
    file: [],
    at: [],
  };
  /** Alerts past MAX_REPORT_ALERTS, counted only. */
  dropped = 0;
  readonly byLevel: Record<Level, number> = { informational: 0, low: 0, medium: 0, high: 0, critical: 0 };
  /** Alerts per host, the case of a name ignored (FS02 and fs02 are one host), shown as first seen. */
  readonly byHost = new Map<string, { name: string; alerts: number }>();
  /** Alerts per UTC day (YYYY-MM-DD) and level. */
  readonly byDay = new Map<string, Record<Level, number>>();
  /** Alerts per technique id. */
  readonly byTechnique = new Map<string, number>();
  /** Alerts per rule id. */
  readonly byRule = new Map<string, number>();
  /** Indicator matches (kind ioc): the first 1,000. */
  readonly iocHits: {
    time: string | null;
    host: string | null;
    rule: string;
    match: string;
    source: string;
  }[] = [];
  iocCount = 0;
  first: number | null = null;
  last: number | null = null;
  count = 0;

  constructor(private readonly maxAlerts = MAX_REPORT_ALERTS) {}

  add(a: Alert): void {
    this.count++;
    const level = LEVELS.includes(a.rule.level) ? a.rule.level : 'medium';
    this.byLevel[level]++;
    const host = a.host ?? '';
    const hostKey = host.toLowerCase();
    const seen = this.byHost.get(hostKey);
    if (seen) seen.alerts++;
    else this.byHost.set(hostKey, { name: host, alerts: 1 });
    this.byRule.set(a.rule.id, (this.byRule.get(a.rule.id) ?? 0) + 1);
    for (const t of a.rule.techniques) this.byTechnique.set(t, (this.byTechnique.get(t) ?? 0) + 1);
    const t = a.time ? Date.parse(a.time) : Number.NaN;
    const time = Number.isFinite(t) ? t : null;
    if (time !== null) {
      this.first = this.first === null ? time : Math.min(this.first, time);
      this.last = this.last === null ? time : Math.max(this.last, time);
      const day = new Date(time).toISOString().slice(0, 10);
      let counts = this.byDay.get(day);
      if (!counts) {
        counts = { informational: 0, low: 0, medium: 0, high: 0, critical: 0 };
        this.byDay.set(day, counts);
      }
      counts[level]++;
    }
    if (a.rule.kind === 'ioc') {
      this.iocCount++;
      if (this.iocHits.length < 1000)
        this.iocHits.push({
          time: a.time,
          host: a.host,
          rule: a.rule.title,
          match: a.match ? `${String(a.match.field)} = ${String(a.match.value)}` : alertDetails(a),
          source: sourceRef(a.source),
        });
    }
    if (this.columns.rule.length >= this.maxAlerts) {
      this.dropped++;
      return;
    }
    let rule = this.ruleIndex.get(a.rule.id);
    if (rule === undefined) {
      rule = this.rules.length;
      this.ruleIndex.set(a.rule.id, rule);
      this.rules.push({
        id: a.rule.id,
        title: a.rule.title,
        level,
        kind: a.rule.kind,
        techniques: a.rule.techniques,
        tactics: a.rule.tactics,
        author: a.rule.author,
        ...(a.rule.defender ? { defender: a.rule.defender } : {}),
      });
    }
    let details = alertDetails(a);
    if (this.details.size >= MAX_DETAILS_KEPT) details = details.slice(0, 60);
    const c = this.columns;
    c.time.push(time);
    c.rule.push(rule);
    c.host.push(this.hosts.of(host));
    c.user.push(this.users.of(a.user ?? ''));
    c.details.push(this.details.of(details));
    c.file.push(this.files.of(a.source.file));
    const { record, line } = a.source;
    c.at.push(record !== undefined && record !== null ? record : line !== undefined ? -line : null);
  }

  /** The alerts for the page (the columns, not copies of them). */
  build(): ReportAlerts {
    return {
      rules: this.rules,
      hosts: this.hosts.values,
      users: this.users.values,
      details: this.details.values,
      files: this.files.values,
      columns: this.columns,
    };
  }
}
