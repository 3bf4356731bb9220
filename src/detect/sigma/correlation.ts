/**
 * Sigma correlation rules (event_count, value_count, temporal, temporal_ordered, value_sum,
 * value_avg, value_percentile), evaluated as a stream: each match of a referenced rule is a signal
 * in a sliding window per correlation and group-by value; memory is bounded by the open windows
 * (entries older than the timespan are dropped as time moves on). Correlations may reference
 * correlations (chaining). A fired correlation starts a new window for its group.
 */
import { EventView } from '../../normalize/normalize.js';
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

/** What a window keeps of a signal: its time, which rule, the value measured; not the alert. */
interface Signal {
  time: number;
  /** The alert's own time text (the first signal's is shown). */
  at: string | null;
  /** The referenced rule it stands for (id or name, as the correlation lists it). */
  ref: string;
  /** The id of the rule (or correlation) that matched. */
  rule: string;
  value?: unknown;
}

/** The alert a fired correlation stands on: the window's last. */
interface AlertHead {
  time: string | null;
  host: Alert['host'];
  user: Alert['user'];
  source: Alert['source'];
}

/**
 * One group's window. Signals from `start` on are in it (evicted ones wait to be compacted
 * away); the measures of event_count, value_count, temporal, value_sum and value_avg are kept up
 * to date as signals come and go, so judging a window costs the same however long it is.
 */
interface Window {
  signals: Signal[];
  start: number;
  /** Whether signals arrived in time order (then the oldest are at the head). */
  ordered: boolean;
  /** The oldest time in the window (out-of-order windows are filtered only when it is too old). */
  oldest: number;
  /** value_count: value → signals; temporal(_ordered): referenced rule → signals. */
  counts: Map<string, number>;
  sum: number;
  numbers: number;
  last: AlertHead;
}

/**
 * Bounds on correlation state (a `timespan: 1000y` over every event of a big hunt would keep
 * them all): signals kept per window, and windows (group-by values) per correlation. Past a
 * bound the oldest go first, and the loss is counted (CorrelationEngine.dropped).
 */
export const MAX_WINDOW_SIGNALS = 100_000;
export const MAX_GROUPS = 100_000;

interface Fired {
  group: string;
  measure: number;
  count: number;
  rules: string[];
  first: string | null;
  last: AlertHead;
}

/** A match of a rule that feeds correlations, with the values they read: sent by hunting threads. */
export interface CorrelationSignal {
  ruleId: string;
  ruleName?: string;
  values: Record<string, unknown>;
  alert: Alert;
}

export class CorrelationEngine {
  private readonly byRef = new Map<string, CorrelationRule[]>();
  private readonly windows = new Map<CorrelationRule, Map<string, Window>>();
  /** Base rules whose own alerts are kept (referenced only by correlations that generate them). */
  readonly silenced = new Set<string>();
  /** Signals and windows let go because of the bounds above. */
  readonly dropped = { signals: 0, groups: 0 };

  constructor(readonly correlations: CorrelationRule[]) {
    for (const c of correlations) {
      for (const ref of c.rules) this.byRef.set(ref, [...(this.byRef.get(ref) ?? []), c]);
      this.windows.set(c, new Map());
    }
    for (const c of correlations) if (!c.generate) for (const ref of c.rules) this.silenced.add(ref);
  }

  /** The correlations a rule feeds, by its id or its name. */
  private targetsOf(ruleId: string, ruleName: string | undefined): CorrelationRule[] {
    return [...(this.byRef.get(ruleId) ?? []), ...(ruleName ? (this.byRef.get(ruleName) ?? []) : [])];
  }

  /** Whether a rule's matches feed any correlation. */
  feeds(ruleId: string, ruleName?: string): boolean {
    return this.byRef.has(ruleId) || (ruleName !== undefined && this.byRef.has(ruleName));
  }

  /**
   * The values of an event that the correlations a rule feeds read (their group-by fields and
   * value field, aliases resolved): what a hunting thread sends with a match, so that the
   * correlations are judged on the main thread (`signal` with the values for the view).
   */
  valuesFor(ruleId: string, ruleName: string | undefined, view: EventView): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const targets = this.targetsOf(ruleId, ruleName);
    for (const c of targets)
      for (const name of c.field ? [...c.groupBy, c.field] : c.groupBy) {
        const field = this.fieldFor(c, name, ruleId, ruleName);
        const v = view.sigma(field);
        const value = v !== undefined ? v : view.field(field);
        // Only what a message carries as it is: text, numbers, booleans, lists of them.
        if (value !== undefined)
          out[field] =
            value !== null && typeof value === 'object' && !Array.isArray(value) ? String(value) : value;
      }
    return out;
  }

  /**
   * A rule matched an event: returns the correlation alerts this completes (chained ones too).
   * The event is its view, or the values `valuesFor` read from it on another thread.
   */
  signal(
    ruleId: string,
    ruleName: string | undefined,
    view: EventView | Record<string, unknown> | null,
    alert: Alert,
  ): Alert[] {
    const out: Alert[] = [];
    const targets = this.targetsOf(ruleId, ruleName);
    const time = alert.time === null ? 0 : Date.parse(alert.time);
    const head: AlertHead = { time: alert.time, host: alert.host, user: alert.user, source: alert.source };
    for (const c of new Set(targets)) {
      const group = c.groupBy
        .map((f) => String(this.fieldValue(c, f, ruleId, ruleName, view, alert) ?? ''))
        .join('\u0000');
      const windows = this.windows.get(c)!;
      let w = windows.get(group);
      if (w)
        windows.delete(group); // set again below: the map's order is least recently used first
      else {
        w = emptyWindow(head);
        if (windows.size >= MAX_GROUPS) {
          windows.delete(windows.keys().next().value as string);
          this.dropped.groups++;
        }
      }
      windows.set(group, w);
      // The window slides: what is older than the timespan before this signal falls out. A
      // condition bounded only from above is judged on the window that is closing.
      if (w.start < w.signals.length && time - w.oldest > c.timespanMs && !lowerBounded(c.condition)) {
        const fired = this.judge(c, group, w);
        if (fired) out.push(...this.fire(c, fired));
        w = emptyWindow(head);
        windows.set(group, w);
      }
      this.evict(c, w, time);
      const value = c.field ? this.fieldValue(c, c.field, ruleId, ruleName, view, alert) : undefined;
      const ref = c.rules.includes(ruleId) ? ruleId : (ruleName ?? ruleId);
      const signal: Signal = { time, at: alert.time, ref, rule: ruleId, value };
      const newest = w.signals[w.signals.length - 1];
      if (w.start < w.signals.length && newest && time < newest.time) w.ordered = false;
      if (w.start >= w.signals.length || time < w.oldest) w.oldest = time;
      w.signals.push(signal);
      count(c, w, signal, 1);
      w.last = head;
      if (w.signals.length - w.start > MAX_WINDOW_SIGNALS) {
        count(c, w, w.signals[w.start], -1);
        w.start++;
        this.dropped.signals++;
        if (!w.ordered) w.oldest = oldestOf(w);
        else w.oldest = w.signals[w.start].time;
      }
      if (lowerBounded(c.condition)) {
        const fired = this.judge(c, group, w);
        if (fired) {
          out.push(...this.fire(c, fired));
          windows.set(group, emptyWindow(head));
        }
      }
    }
    return out;
  }

  /**
   * Matches other threads sent, judged in time order (then file and record), as one stream would
   * have met them had its events been sorted: the correlation alerts they complete.
   */
  signalAll(signals: CorrelationSignal[]): Alert[] {
    const at = (s: CorrelationSignal) => (s.alert.time === null ? 0 : Date.parse(s.alert.time));
    const file = (s: CorrelationSignal) => s.alert.source.file;
    const place = (s: CorrelationSignal) => s.alert.source.record ?? s.alert.source.line ?? 0;
    signals.sort(
      (a, b) => at(a) - at(b) || (file(a) < file(b) ? -1 : file(a) > file(b) ? 1 : 0) || place(a) - place(b),
    );
    const out: Alert[] = [];
    for (const s of signals) out.push(...this.signal(s.ruleId, s.ruleName, s.values, s.alert));
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

  /**
   * Drops signals older than the timespan before `time`. In time order they leave from the head
   * by moving `start` (compacted now and then); out of order, the window is filtered, and only
   * when its oldest signal is out of range.
   */
  private evict(c: CorrelationRule, w: Window, time: number): void {
    const span = c.timespanMs;
    if (w.start >= w.signals.length || time - w.oldest <= span) return;
    if (w.ordered) {
      while (w.start < w.signals.length && time - w.signals[w.start].time > span) {
        count(c, w, w.signals[w.start], -1);
        w.start++;
      }
      if (w.start > 1024 && w.start * 2 > w.signals.length) {
        w.signals = w.signals.slice(w.start);
        w.start = 0;
      }
      if (w.start < w.signals.length) w.oldest = w.signals[w.start].time;
      return;
    }
    const kept: Signal[] = [];
    for (let i = w.start; i < w.signals.length; i++) {
      const s = w.signals[i];
      if (time - s.time <= span) kept.push(s);
      else count(c, w, s, -1);
    }
    w.signals = kept;
    w.start = 0;
    w.oldest = oldestOf(w);
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
    view: EventView | Record<string, unknown> | null,
    alert: Alert,
  ): unknown {
    const field = this.fieldFor(c, name, ruleId, ruleName);
    if (view instanceof EventView) {
      const v = view.sigma(field);
      return v !== undefined ? v : view.field(field);
    }
    if (view) return view[field];
    // A chained correlation's signal carries its group values.
    return (alert.event.group as Record<string, unknown> | undefined)?.[field];
  }

  /** The window's measure, and whether the condition holds on it. */
  private judge(c: CorrelationRule, group: string, w: Window): Fired | null {
    const n = w.signals.length - w.start;
    if (n === 0) return null;
    let measure: number;
    switch (c.type) {
      case 'event_count':
        measure = n;
        break;
      case 'value_count':
      case 'temporal':
        measure = w.counts.size;
        break;
      case 'temporal_ordered':
        // Every referenced rule must be there before their order is worth checking.
        measure = w.counts.size === c.rules.length && inOrder(c, live(w)) ? c.rules.length : 0;
        break;
      case 'value_sum':
      case 'value_avg':
        if (w.numbers === 0) return null;
        measure = c.type === 'value_sum' ? w.sum : w.sum / w.numbers;
        break;
      default: {
        const nums = live(w)
          .map((x) => Number(x.value))
          .filter((v) => Number.isFinite(v));
        if (nums.length === 0) return null;
        const sorted = nums.sort((a, b) => a - b);
        const rank = Math.ceil(((c.percentile ?? 50) / 100) * sorted.length) - 1;
        measure = sorted[Math.max(0, Math.min(sorted.length - 1, rank))];
      }
    }
    if (!holds(c.condition, measure)) return null;
    const signals = live(w);
    let first = signals[0];
    for (const s of signals) if (s.time < first.time) first = s;
    return {
      group,
      measure,
      count: n,
      rules: [...new Set(signals.map((x) => x.rule))],
      first: first.at,
      last: w.last,
    };
  }

  private fire(c: CorrelationRule, fired: Fired): Alert[] {
    const last = fired.last;
    const groupValues = Object.fromEntries(c.groupBy.map((f, i) => [f, fired.group.split('\u0000')[i]]));
    const techniques = c.tags.filter((t) => /^attack\.t\d{4}/i.test(t)).map((t) => t.slice(7).toUpperCase());
    const tactics = c.tags
      .filter((t) => t.startsWith('attack.') && !/^attack\.t\d{4}/i.test(t))
      .map((t) => t.slice(7).replace(/_/g, '-'));
    const alert: Alert = {
      time: last.time,
      rule: {
        id: c.id,
        title: c.title,
        level: c.level,
        kind: 'correlation',
        author: c.author,
        techniques,
        tactics,
      },
      host: last.host,
      user: last.user,
      source: last.source,
      event: {
        correlation: c.type,
        group: groupValues,
        measure: fired.measure,
        signals: fired.count,
        first: fired.first,
        last: last.time,
        rules: fired.rules,
      },
    };
    // Chaining: a correlation that fires is a signal to correlations that reference it.
    return [alert, ...(this.feeds(c.id, c.name) ? this.signal(c.id, c.name, null, alert) : [])];
  }
}

function emptyWindow(last: AlertHead): Window {
  return { signals: [], start: 0, ordered: true, oldest: 0, counts: new Map(), sum: 0, numbers: 0, last };
}

/** The signals in the window. */
function live(w: Window): Signal[] {
  return w.start === 0 ? w.signals : w.signals.slice(w.start);
}

function oldestOf(w: Window): number {
  let oldest = Number.POSITIVE_INFINITY;
  for (let i = w.start; i < w.signals.length; i++) if (w.signals[i].time < oldest) oldest = w.signals[i].time;
  return oldest;
}

/** A signal entering (+1) or leaving (-1) the window's running measures. */
function count(c: CorrelationRule, w: Window, s: Signal, delta: 1 | -1): void {
  let key: string | null = null;
  if (c.type === 'value_count') {
    const v = String(s.value ?? '');
    key = v === '' ? null : v;
  } else if (c.type === 'temporal' || c.type === 'temporal_ordered') key = s.ref;
  else if (c.type === 'value_sum' || c.type === 'value_avg') {
    const n = Number(s.value);
    if (Number.isFinite(n)) {
      w.sum += delta * n;
      w.numbers += delta;
    }
  }
  if (key === null) return;
  const n = (w.counts.get(key) ?? 0) + delta;
  if (n > 0) w.counts.set(key, n);
  else w.counts.delete(key);
}

/** Each referenced rule matched after the previous one (an occurrence of each, in list order). */
function inOrder(c: CorrelationRule, signals: Signal[]): boolean {
  const sorted = [...signals].sort((a, b) => a.time - b.time);
  let need = 0;
  for (const s of sorted) {
    if (s.ref === c.rules[need]) need++;
    if (need === c.rules.length) return true;
  }
  return false;
}
