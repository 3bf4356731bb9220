/**
 * Alerts grouped by rule (`lotl hunt --group-by rule`): one row per rule with its level, how many
 * alerts, on how many hosts, the first and last time — the overview a responder reads before the
 * timeline, most severe and most frequent first. Bounded by the number of rules, not of alerts.
 */
import { type Alert, LEVELS, type Level } from '../detect/alert.js';
import { textTable } from './text-table.js';

interface RuleRow {
  title: string;
  id: string;
  level: Level;
  alerts: number;
  hosts: Set<string>;
  first: string | null;
  last: string | null;
}

/** Hosts listed per rule at most (the count goes on). */
const MAX_HOSTS_KEPT = 10_000;

export class RuleSummary {
  private readonly rows = new Map<string, RuleRow>();

  add(a: Alert): void {
    let r = this.rows.get(a.rule.id);
    if (!r) {
      r = {
        title: a.rule.title,
        id: a.rule.id,
        level: a.rule.level,
        alerts: 0,
        hosts: new Set(),
        first: null,
        last: null,
      };
      this.rows.set(a.rule.id, r);
    }
    r.alerts++;
    if (a.host && r.hosts.size < MAX_HOSTS_KEPT) r.hosts.add(a.host.toLowerCase());
    if (a.time) {
      if (r.first === null || a.time < r.first) r.first = a.time;
      if (r.last === null || a.time > r.last) r.last = a.time;
    }
  }

  /** The rows, most severe level first, then most alerts, then title. */
  sorted(): RuleRow[] {
    return [...this.rows.values()].sort(
      (a, b) =>
        LEVELS.indexOf(b.level) - LEVELS.indexOf(a.level) ||
        b.alerts - a.alerts ||
        (a.title < b.title ? -1 : a.title > b.title ? 1 : 0),
    );
  }

  table(showTime: (iso: string) => string = (iso) => iso): string {
    return textTable(
      ['level', 'alerts', 'hosts', 'first', 'last', 'rule'],
      this.sorted().map((r) => [
        r.level,
        String(r.alerts),
        String(r.hosts.size),
        r.first ? showTime(r.first) : '-',
        r.last ? showTime(r.last) : '-',
        r.title,
      ]),
      120,
    );
  }
}
