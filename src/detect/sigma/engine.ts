/**
 * Running loaded rules over events: each event is offered only to the rules whose logsource it
 * serves (rules are grouped by product/category/service once), and a match becomes an alert
 * carrying the rule's author, ATT&CK techniques and tactics.
 */

import type { CompiledProfile, EventView } from '../../normalize/normalize.js';
import type { LogSource } from '../../normalize/profile.js';
import { type Alert, alertFor, type Level, TACTICS } from '../alert.js';
import { foldCase } from '../ir/predicate.js';
import type { LiteralScanner } from './aho-corasick.js';
import { CorrelationEngine, type CorrelationRule, type CorrelationSignal } from './correlation.js';
import type { SigmaRule } from './load.js';
import { MemoBudget, ScanMemo } from './scan-memo.js';
import { cachedScanner, type ScannerCacheOptions } from './scanner-cache.js';

const TACTIC_NAMES = new Set(TACTICS);

export function ruleMeta(rule: SigmaRule): Alert['rule'] {
  const techniques: string[] = [];
  const tactics: string[] = [];
  for (const t of rule.tags) {
    const m = /^attack\.(t\d{4}(?:\.\d{3})?)$/i.exec(t);
    if (m) techniques.push(m[1].toUpperCase());
    else if (t.startsWith('attack.')) {
      const name = t.slice(7).replace(/_/g, '-').toLowerCase();
      if (TACTIC_NAMES.has(name)) tactics.push(name);
    }
  }
  return {
    id: rule.id,
    title: rule.title,
    level: rule.level as Level,
    kind: 'sigma',
    author: rule.author,
    techniques,
    tactics,
    ...(rule.defender ? { defender: rule.defender } : {}),
  };
}

/** What one kind of event is offered: the rules of every logsource key it serves, one scanner for all. */
interface Plan {
  /** Rules with no necessary literal: always evaluated. */
  always: number[];
  /** The fields whose values are scanned; null = every value (a keyword rule is in the plan). */
  fields: string[] | null;
  lowerFields: string[];
  scanner: LiteralScanner | null;
  /** The scanner's results on long values seen before (when it scans values one by one). */
  memo: ScanMemo | null;
  /** For each literal id, the rules that need it. */
  byLiteral: number[][];
  /** The logsource keys whose rules it holds. */
  keys: string[];
  /** Events that reached it (which rules had anything to look at: rulesWithoutEvents()). */
  events: number;
}

/**
 * Rules grouped by the logsource key an event must serve. An event reaches the rules of several
 * keys (its category, its service, the product alone); one Aho–Corasick pass over its values finds
 * the literals present for all of them, and only the rules that need one of them (plus the few
 * that need none) are evaluated.
 */
export class SigmaEngine {
  private readonly entries: { rule: SigmaRule; meta: Alert['rule'] }[];
  private readonly byKey = new Map<string, number[]>();
  private readonly stamp: Uint32Array;
  private generation = 0;
  private readonly prefilter: boolean;

  private readonly correlation: CorrelationEngine | null;
  /** Shared by the plans' scan memos. */
  private readonly memoBudget = new MemoBudget();
  /** Where built scanners are kept between runs (scanner-cache.ts); none: always built. */
  private readonly scannerCache: ScannerCacheOptions | undefined;
  /** Where matches that feed correlations go instead of this engine's windows (hunting threads). */
  private readonly signalsOut: ((s: CorrelationSignal) => void) | undefined;
  /** Told of each match judged here that feeds correlations (a server keeps them, see restore). */
  private readonly onSignal: ((s: CorrelationSignal) => void) | undefined;

  constructor(
    readonly rules: SigmaRule[],
    options: {
      prefilter?: boolean;
      correlations?: CorrelationRule[];
      scannerCache?: ScannerCacheOptions;
      /** Hand matches that feed correlations to this instead of judging them here. */
      signalsOut?: (s: CorrelationSignal) => void;
      /** Also tell this of each match judged here that feeds correlations. */
      onSignal?: (s: CorrelationSignal) => void;
    } = {},
  ) {
    this.signalsOut = options.signalsOut;
    this.onSignal = options.onSignal;
    this.prefilter = options.prefilter !== false;
    this.scannerCache = options.scannerCache;
    this.correlation = options.correlations?.length ? new CorrelationEngine(options.correlations) : null;
    this.entries = rules.map((rule) => ({ rule, meta: ruleMeta(rule) }));
    this.entries.forEach(({ rule }, i) => {
      const key = keyOf(rule.logsource);
      const list = this.byKey.get(key) ?? [];
      list.push(i);
      this.byKey.set(key, list);
    });
    this.stamp = new Uint32Array(rules.length);
  }

  /** The alerts an event raises. */
  evaluate(view: EventView): Alert[] {
    const plan = this.planOf(view);
    if (plan === null) return [];
    plan.events++;
    const gen = ++this.generation;
    const stamp = this.stamp;
    const candidates = plan.always.slice();
    for (const i of candidates) stamp[i] = gen;
    const scanner = plan.scanner;
    if (scanner) {
      const byLiteral = plan.byLiteral;
      const onLiteral = (lit: number) => {
        for (const i of byLiteral[lit]) {
          if (stamp[i] !== gen) {
            stamp[i] = gen;
            candidates.push(i);
          }
        }
      };
      const memo = plan.memo;
      if (memo) eachValue(view, plan.fields, plan.lowerFields, (value) => memo.scanValue(value, onLiteral));
      else scanner.scan(eventText(view, plan.fields, plan.lowerFields), onLiteral);
    }
    const out: Alert[] = [];
    candidates.sort((a, b) => a - b);
    const corr = this.correlation;
    for (const i of candidates) {
      const { rule, meta } = this.entries[i];
      if (!rule.match(view)) continue;
      const alert = alertFor(view, meta);
      if (corr?.feeds(rule.id, rule.name)) {
        // On a hunting thread the match goes to the main thread, which judges the windows.
        if (this.signalsOut)
          this.signalsOut({
            ruleId: rule.id,
            ruleName: rule.name,
            values: corr.valuesFor(rule.id, rule.name, view),
            alert,
          });
        else {
          out.push(...corr.signal(rule.id, rule.name, view, alert));
          this.onSignal?.({
            ruleId: rule.id,
            ruleName: rule.name,
            values: corr.valuesFor(rule.id, rule.name, view),
            alert,
          });
        }
        // Rules that feed correlations alert on their own only when a correlation generates them.
        if (corr.silenced.has(rule.id) || (rule.name !== undefined && corr.silenced.has(rule.name))) continue;
      }
      out.push(alert);
    }
    return out;
  }

  /**
   * Matches that other threads sent (CorrelationSignal), judged by this engine's correlation
   * rules in time order: the correlation alerts they complete.
   */
  judgeSignals(signals: CorrelationSignal[]): Alert[] {
    return this.correlation?.signalAll(signals) ?? [];
  }

  /**
   * Puts back the correlation windows that kept matches, given again in the order they were
   * judged (a server restarting: the windows open when it stopped); what they complete was
   * raised then, so nothing is raised now. Returns the matches taken: those of correlations this
   * engine has.
   */
  restore(signals: Iterable<CorrelationSignal>): number {
    const corr = this.correlation;
    if (!corr) return 0;
    let n = 0;
    for (const s of signals) {
      if (!corr.feeds(s.ruleId, s.ruleName)) continue;
      corr.signal(s.ruleId, s.ruleName, s.values, s.alert);
      n++;
    }
    return n;
  }

  /** The longest timespan of this engine's correlations, in ms (0: none). */
  correlationSpanMs(): number {
    return Math.max(0, ...(this.correlation?.correlations.map((c) => c.timespanMs) ?? []));
  }

  /**
   * The rules no event reached, by logsource (`product|category|service`, `*` for any): their
   * logs were not among the inputs, so they could not apply. Counted on this thread only (a hunt
   * whose detectors run on the parser threads does not know).
   */
  rulesWithoutEvents(): Map<string, SigmaRule[]> {
    const reached = new Set<string>();
    for (const plan of this.plans.values()) if (plan.events > 0) for (const k of plan.keys) reached.add(k);
    const out = new Map<string, SigmaRule[]>();
    for (const [key, rules] of this.byKey) {
      if (reached.has(key)) continue;
      out.set(
        key,
        rules.map((i) => this.entries[i].rule),
      );
    }
    return out;
  }

  /** End of input: correlation windows still open are judged. */
  flush(): Alert[] {
    return this.correlation ? this.correlation.flush() : [];
  }

  /** What correlation state let go at its bounds (none on ordinary input). */
  limits(): string[] {
    const d = this.correlation?.dropped;
    if (!d || (d.signals === 0 && d.groups === 0)) return [];
    return [
      `correlation state reached its bounds: ${d.signals.toLocaleString('en-US')} oldest signals and ${d.groups.toLocaleString('en-US')} least recent groups let go (see docs/security.md)`,
    ];
  }

  /**
   * Plans by profile and channel, for events whose logsources follow from those two (nearly all):
   * working the logsources out and signing them cost about a microsecond an event.
   */
  private readonly byProfile = new Map<CompiledProfile | null, Map<string | null, Plan | null>>();

  private planOf(view: EventView): Plan | null {
    if (!view.logsourcesFollowProfile()) return this.planFor(view.logsources());
    let byChannel = this.byProfile.get(view.profile);
    if (byChannel === undefined) {
      byChannel = new Map();
      this.byProfile.set(view.profile, byChannel);
    }
    const channel = view.raw.channel;
    let plan = byChannel.get(channel);
    if (plan === undefined) {
      plan = this.planFor(view.logsources());
      // Channel names are few; a source that invents them endlessly is not cached past a bound.
      if (byChannel.size < 1024) byChannel.set(channel, plan);
    }
    return plan;
  }

  /** Logsource lists repeat endlessly: the plan they reach is looked up by a short signature. */
  private readonly bySignature = new Map<string, Plan | null>();
  /** Plans by the rule keys they cover: event kinds reaching the same keys share one scanner. */
  private readonly plans = new Map<string, Plan>();

  private planFor(logsources: LogSource[]): Plan | null {
    let sig = '';
    for (const ls of logsources) sig += `${ls.product}|${ls.category}|${ls.service};`;
    let plan = this.bySignature.get(sig);
    if (plan === undefined) {
      const keys: string[] = [];
      for (const ls of logsources)
        for (const k of keysServed(ls)) if (this.byKey.has(k) && !keys.includes(k)) keys.push(k);
      keys.sort();
      const id = keys.join('\n');
      plan = keys.length === 0 ? null : (this.plans.get(id) ?? this.buildPlan(id, keys));
      this.bySignature.set(sig, plan);
    }
    return plan;
  }

  private buildPlan(id: string, keys: string[]): Plan {
    const always: number[] = [];
    const literalIds = new Map<string, number>();
    const byLiteral: number[][] = [];
    let fields: Set<string> | null = new Set();
    for (const key of keys) {
      for (const i of this.byKey.get(key) ?? []) {
        const rule = this.entries[i].rule;
        const need = this.prefilter ? rule.need : null;
        if (need === null) {
          always.push(i);
          continue;
        }
        if (rule.fields === null) fields = null;
        else if (fields) for (const f of rule.fields) fields.add(f);
        for (const lit of need) {
          let lid = literalIds.get(lit);
          if (lid === undefined) {
            lid = byLiteral.length;
            literalIds.set(lit, lid);
            byLiteral.push([]);
          }
          byLiteral[lid].push(i);
        }
      }
    }
    const scanner = literalIds.size > 0 ? cachedScanner([...literalIds.keys()], this.scannerCache) : null;
    const plan: Plan = {
      always,
      fields: fields ? [...fields] : null,
      lowerFields: fields ? [...fields].map((f) => f.toLowerCase()) : [],
      scanner,
      memo: scanner?.foldsCase ? new ScanMemo(scanner, this.memoBudget) : null,
      byLiteral,
      keys,
      events: 0,
    };
    this.plans.set(id, plan);
    return plan;
  }
}

/**
 * What the plan's rules can look at: the values of the fields they read, under both the source's
 * name and Sigma's (derived values, like 4688's DOMAIN\\user, exist only in the taxonomy) — or
 * every value, when a keyword rule searches them all (plain renames hold the source's values, so
 * only computed Sigma fields add to those).
 */
function eachValue(
  view: EventView,
  fields: string[] | null,
  lowerFields: string[],
  visit: (value: string) => void,
): void {
  const add = (v: unknown) => {
    if (v === null || v === undefined) return;
    if (typeof v === 'string') visit(v);
    else if (Array.isArray(v)) for (const x of v) add(x);
    else if (typeof v !== 'object') visit(String(v));
  };
  if (fields === null) {
    const data = view.raw.data;
    for (const k in data) add(data[k]);
    for (const v of view.derivedSigmaValues()) add(v);
    return;
  }
  for (let i = 0; i < fields.length; i++) {
    const own = view.field(fields[i]);
    add(own);
    if (view.hasAlias(lowerFields[i])) {
      const taxonomy = view.sigmaLower(fields[i], lowerFields[i]);
      if (taxonomy !== own) add(taxonomy);
    }
  }
}

/** The same values folded (as rules fold them) into one text, NUL between values, for scanners that cannot fold case. */
function eventText(view: EventView, fields: string[] | null, lowerFields: string[]): string {
  let text = '';
  eachValue(view, fields, lowerFields, (value) => {
    text += `${foldCase(value)}\u0000`;
  });
  return text;
}

export function keyOf(ls: { product?: string; category?: string; service?: string }): string {
  return `${ls.product ?? '*'}|${ls.category ?? '*'}|${ls.service ?? '*'}`;
}

/** The rule keys an event logsource serves: exact, and with product / category / service left open. */
export function keysServed(ls: LogSource): string[] {
  const p = ls.product ?? '*';
  const keys = [keyOf(ls)];
  if (ls.category) keys.push(`*|${ls.category}|*`, `${p}|${ls.category}|*`);
  if (ls.service) keys.push(`*|*|${ls.service}`, `${p}|*|${ls.service}`);
  if (ls.product) keys.push(`${p}|*|*`);
  return keys;
}
