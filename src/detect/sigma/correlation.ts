/**
 * Sigma correlation rules (event_count, value_count, temporal, temporal_ordered, value_sum,
 * value_avg, value_percentile), evaluated as a stream: each match of a referenced rule is a signal
 * in a sliding window per correlation and group-by value; memory is bounded by the open windows
 * (entries older than the timespan are dropped as time moves on). Correlations may reference
 * correlations (chaining). A fired correlation starts a new window for its group.
 */
import type { EventView } from '../../normalize/normalize.js';
import type { Alert, Level } from '../alert.js';

export type CorrelationType =
  | 'event_count'
  | 'value_count'
  | 'temporal'
  | 'temporal_ordered'
  | 'value_sum'
  | 'value_avg'
  | 'value_percentile';
export const CORRELATION_TYPES: CorrelationType[] = [
  'event_count',
  'value_count',
  'temporal',
  'temporal_ordered',
  'value_sum',
  'value_avg',
  'value_percentile',
];
export type Op = 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'neq';
export const OPS: Op[] = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'];

export interface CorrelationRule {
  id: string;
  name?: string;
  title: string;
  level: Level;
  author: string;
  tags: string[];
  file: string;
  line: number;
  type: CorrelationType;
  /** Referenced rules and correlations, by id or name. */
  rules: string[];
  groupBy: string[];
  timespanMs: number;
  /** All must hold (a range is two). */
  condition: [Op, number][];
  field?: string;
  percentile?: number;
  /** alias → (rule id or name → field in that rule's events). */
  aliases: Record<string, Record<string, string>>;
  generate: boolean;
}

/** `10s`, `5m`, `1h`, `2d`, and pySigma's `1w`, `1M` (30.4 d), `1y`. */
export function parseTimespan(text: string): number | null {
  const m = /^(\d+)\s*([smhdwMy])$/.exec(String(text).trim());
  if (!m) return null;
  const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, M: 2_629_746, y: 31_556_952 }[m[2]] ?? 0;
  return Number(m[1]) * unit * 1000;
}

function holds(cond: [Op, number][], x: number): boolean {
  return cond.every(([op, n]) =>
    op === 'gt'
      ? x > n
      : op === 'gte'
        ? x >= n
        : op === 'lt'
          ? x < n
          : op === 'lte'
            ? x <= n
            : op === 'eq'
              ? x === n
              : x !== n,
  );
}

/** A condition that can only become true by more signals fires as soon as it holds. */
function lowerBounded(cond: [Op, number][]): boolean {
  return cond.some(([op]) => op === 'gt' || op === 'gte' || op === 'eq');
}

interface Signal {
  time: number;
  /** The id of the rule (or correlation) that matched, and its name. */
  rule: string;
  ruleName?: string;
  value?: unknown;
  alert: Alert;
}

interface Window {
  signals: Signal[];
}

export class CorrelationEngine {
  private readonly byRef = new Map<string, CorrelationRule[]>();
  private readonly windows = new Map<CorrelationRule, Map<string, Window>>();
  /** Base rules whose own alerts are kept (referenced only by correlations that generate them). */
  readonly silenced = new Set<string>();

  constructor(readonly correlations: CorrelationRule[]) {
    for (const c of correlations) {
      for (const ref of c.rules) this.byRef.set(ref, [...(this.byRef.get(ref) ?? []), c]);
      this.windows.set(c, new Map());
    }
    for (const c of correlations) if (!c.generate) for (const ref of c.rules) this.silenced.add(ref);
  }

  /** Whether a rule's matches feed any correlation. */
  feeds(ruleId: string, ruleName?: string): boolean {
    return this.byRef.has(ruleId) || (ruleName !== undefined && this.byRef.has(ruleName));
  }

  /** A rule matched an event: returns the correlation alerts this completes (chained ones too). */
  signal(ruleId: string, ruleName: string | undefined, view: EventView | null, alert: Alert): Alert[] {
    const out: Alert[] = [];
    const targets = [
      ...(this.byRef.get(ruleId) ?? []),
      ...(ruleName ? (this.byRef.get(ruleName) ?? []) : []),
    ];
    const time = alert.time === null ? 0 : Date.parse(alert.time);
    for (const c of new Set(targets)) {
      const group = c.groupBy
        .map((f) => String(this.fieldValue(c, f, ruleId, ruleName, view, alert) ?? ''))
        .join('\u0000');
      const windows = this.windows.get(c)!;
      let w = windows.get(group);
      if (!w) {
        w = { signals: [] };
        windows.set(group, w);
      }
      // The window slides: what is older than the timespan before this signal falls out. A
      // condition bounded only from above is judged on the window that is closing.
      const first = w.signals[0];
      if (first && time - first.time > c.timespanMs && !lowerBounded(c.condition)) {
        const fired = this.judge(c, group, w);
        if (fired) out.push(...this.fire(c, fired));
        w.signals = [];
      }
      w.signals = w.signals.filter((s) => time - s.time <= c.timespanMs);
      const value = c.field ? this.fieldValue(c, c.field, ruleId, ruleName, view, alert) : undefined;
      w.signals.push({ time, rule: ruleId, ...(ruleName ? { ruleName } : {}), value, alert });
      if (lowerBounded(c.condition)) {
        const fired = this.judge(c, group, w);
        if (fired) {
          out.push(...this.fire(c, fired));
          w.signals = [];
        }
      }
    }
    return out;
  }

  /** End of input: windows still open are judged (conditions bounded from above fire here). */
  flush(): Alert[] {
    const out: Alert[] = [];
    for (const c of this.correlations) {
      if (lowerBounded(c.condition)) continue;
      for (const [group, w] of this.windows.get(c)!) {
        const fired = this.judge(c, group, w);
        if (fired) out.push(...this.fire(c, fired));
      }
      this.windows.get(c)!.clear();
    }
    return out;
  }

  private fieldFor(c: CorrelationRule, name: string, ruleId: string, ruleName: string | undefined): string {
    const alias = c.aliases[name];
    if (!alias) return name;
    return alias[ruleId] ?? (ruleName ? alias[ruleName] : undefined) ?? name;
  }

  private fieldValue(
    c: CorrelationRule,
    name: string,
    ruleId: string,
    ruleName: string | undefined,
    view: EventView | null,
    alert: Alert,
  ): unknown {
    const field = this.fieldFor(c, name, ruleId, ruleName);
    if (view) {
      const v = view.sigma(field);
      return v !== undefined ? v : view.field(field);
    }
    // A chained correlation's signal carries its group values.
    return (alert.event.group as Record<string, unknown> | undefined)?.[field];
  }

  /** The window's measure, and whether the condition holds on it. */
  private judge(
    c: CorrelationRule,
    group: string,
    w: Window,
  ): { group: string; measure: number; signals: Signal[] } | null {
    const s = w.signals;
    if (s.length === 0) return null;
    let measure: number;
    switch (c.type) {
      case 'event_count':
        measure = s.length;
        break;
      case 'value_count':
        measure = new Set(s.map((x) => String(x.value ?? '')).filter((v) => v !== '')).size;
        break;
      case 'temporal':
        measure = new Set(s.map((x) => this.refOf(c, x))).size;
        break;
      case 'temporal_ordered':
        measure = this.inOrder(c, s) ? c.rules.length : 0;
        break;
      default: {
        const nums = s.map((x) => Number(x.value)).filter((n) => Number.isFinite(n));
        if (nums.length === 0) return null;
        if (c.type === 'value_sum') measure = nums.reduce((a, b) => a + b, 0);
        else if (c.type === 'value_avg') measure = nums.reduce((a, b) => a + b, 0) / nums.length;
        else {
          const sorted = [...nums].sort((a, b) => a - b);
          const rank = Math.ceil(((c.percentile ?? 50) / 100) * sorted.length) - 1;
          measure = sorted[Math.max(0, Math.min(sorted.length - 1, rank))];
        }
      }
    }
    return holds(c.condition, measure) ? { group, measure, signals: [...s] } : null;
  }

  private refOf(c: CorrelationRule, s: Signal): string {
    return c.rules.includes(s.rule) ? s.rule : (s.ruleName ?? s.rule);
  }

  /** Each referenced rule matched after the previous one (an occurrence of each, in list order). */
  private inOrder(c: CorrelationRule, signals: Signal[]): boolean {
    const sorted = [...signals].sort((a, b) => a.time - b.time);
    let need = 0;
    for (const s of sorted) {
      if (this.refOf(c, s) === c.rules[need]) need++;
      if (need === c.rules.length) return true;
    }
    return false;
  }

  private fire(c: CorrelationRule, fired: { group: string; measure: number; signals: Signal[] }): Alert[] {
    const last = fired.signals[fired.signals.length - 1];
    const groupValues = Object.fromEntries(c.groupBy.map((f, i) => [f, fired.group.split('\u0000')[i]]));
    const techniques = c.tags.filter((t) => /^attack\.t\d{4}/i.test(t)).map((t) => t.slice(7).toUpperCase());
    const tactics = c.tags
      .filter((t) => t.startsWith('attack.') && !/^attack\.t\d{4}/i.test(t))
      .map((t) => t.slice(7).replace(/_/g, '-'));
    const alert: Alert = {
      time: last.alert.time,
      rule: {
        id: c.id,
        title: c.title,
        level: c.level,
        kind: 'correlation',
        author: c.author,
        techniques,
        tactics,
      },
      host: last.alert.host,
      user: last.alert.user,
      source: last.alert.source,
      event: {
        correlation: c.type,
        group: groupValues,
        measure: fired.measure,
        signals: fired.signals.length,
        first: fired.signals[0].alert.time,
        last: last.alert.time,
        rules: [...new Set(fired.signals.map((s) => s.rule))],
      },
    };
    // Chaining: a correlation that fires is a signal to correlations that reference it.
    return [alert, ...(this.feeds(c.id, c.name) ? this.signal(c.id, c.name, null, alert) : [])];
  }
}
