/**
 * Running loaded rules over events: each event is offered only to the rules whose logsource it
 * serves (rules are grouped by product/category/service once), and a match becomes an alert
 * carrying the rule's author, ATT&CK techniques and tactics.
 */

import type { EventView } from '../../normalize/normalize.js';
import type { LogSource } from '../../normalize/profile.js';
import { type Alert, alertFor, type Level } from '../alert.js';
import { LiteralScanner } from './aho-corasick.js';
import { CorrelationEngine, type CorrelationRule } from './correlation.js';
import type { SigmaRule } from './load.js';

const TACTICS = new Set([
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
]);

export function ruleMeta(rule: SigmaRule): Alert['rule'] {
  const techniques: string[] = [];
  const tactics: string[] = [];
  for (const t of rule.tags) {
    const m = /^attack\.(t\d{4}(?:\.\d{3})?)$/i.exec(t);
    if (m) techniques.push(m[1].toUpperCase());
    else if (t.startsWith('attack.')) {
      const name = t.slice(7).replace(/_/g, '-').toLowerCase();
      if (TACTICS.has(name)) tactics.push(name);
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
  };
}

interface Bucket {
  /** Rules with no necessary literal: always evaluated. */
  always: number[];
  /** The fields whose values are scanned; null = every value (a keyword rule is in the bucket). */
  fields: string[] | null;
  lowerFields: string[];
  scanner: LiteralScanner | null;
  /** For each literal id, the rules that need it. */
  byLiteral: number[][];
}

/**
 * Rules grouped by the logsource key an event must serve; within the rules an event can reach,
 * one Aho–Corasick pass over the event's lower-cased values finds the literals present, and only
 * the rules that need one of them (plus the few that need none) are evaluated.
 */
export class SigmaEngine {
  private readonly entries: { rule: SigmaRule; meta: Alert['rule'] }[];
  private readonly byKey = new Map<string, number[]>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly stamp: Uint32Array;
  private generation = 0;
  private readonly prefilter: boolean;

  private readonly correlation: CorrelationEngine | null;

  constructor(
    readonly rules: SigmaRule[],
    options: { prefilter?: boolean; correlations?: CorrelationRule[] } = {},
  ) {
    this.prefilter = options.prefilter !== false;
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
    const buckets = this.bucketsFor(view.logsources());
    if (buckets.length === 0) return [];
    const gen = ++this.generation;
    const stamp = this.stamp;
    const candidates: number[] = [];
    // Buckets that search every value (keyword rules) share one text.
    let everyValue: string | undefined;
    for (const bucket of buckets) {
      for (const i of bucket.always) {
        stamp[i] = gen;
        candidates.push(i);
      }
      if (!bucket.scanner) continue;
      let text: string;
      if (bucket.fields !== null) text = eventText(view, bucket.fields, bucket.lowerFields);
      else {
        everyValue ??= eventText(view, null, []);
        text = everyValue;
      }
      bucket.scanner.scan(text, (lit) => {
        for (const i of bucket.byLiteral[lit]) {
          if (stamp[i] !== gen) {
            stamp[i] = gen;
            candidates.push(i);
          }
        }
      });
    }
    const out: Alert[] = [];
    candidates.sort((a, b) => a - b);
    const corr = this.correlation;
    for (const i of candidates) {
      const { rule, meta } = this.entries[i];
      if (!rule.match(view)) continue;
      const alert = alertFor(view, meta);
      if (corr?.feeds(rule.id, rule.name)) {
        out.push(...corr.signal(rule.id, rule.name, view, alert));
        // Rules that feed correlations alert on their own only when a correlation generates them.
        if (corr.silenced.has(rule.id) || (rule.name !== undefined && corr.silenced.has(rule.name))) continue;
      }
      out.push(alert);
    }
    return out;
  }

  /** End of input: correlation windows still open are judged. */
  flush(): Alert[] {
    return this.correlation ? this.correlation.flush() : [];
  }

  /** Logsource lists repeat endlessly: the rule groups they reach are looked up by a short signature. */
  private readonly bySignature = new Map<string, Bucket[]>();

  private bucketsFor(logsources: LogSource[]): Bucket[] {
    let sig = '';
    for (const ls of logsources) sig += `${ls.product}|${ls.category}|${ls.service};`;
    let b = this.bySignature.get(sig);
    if (b === undefined) {
      const keys: string[] = [];
      for (const ls of logsources)
        for (const k of keysServed(ls)) if (this.byKey.has(k) && !keys.includes(k)) keys.push(k);
      b = keys.map((k) => this.bucket(k));
      this.bySignature.set(sig, b);
    }
    return b;
  }

  /** One rule group (one logsource key): its scanner is built once and shared by every event type. */
  private bucket(key: string): Bucket {
    let b = this.buckets.get(key);
    if (b) return b;
    const indices = this.byKey.get(key) ?? [];
    const always: number[] = [];
    const literalIds = new Map<string, number>();
    const byLiteral: number[][] = [];
    let fields: Set<string> | null = new Set();
    for (const i of indices) {
      const rule = this.entries[i].rule;
      const need = this.prefilter ? rule.need : null;
      if (need === null) {
        always.push(i);
        continue;
      }
      if (rule.fields === null) fields = null;
      else if (fields) for (const f of rule.fields) fields.add(f);
      for (const lit of need) {
        let id = literalIds.get(lit);
        if (id === undefined) {
          id = byLiteral.length;
          literalIds.set(lit, id);
          byLiteral.push([]);
        }
        byLiteral[id].push(i);
      }
    }
    b = {
      always,
      fields: fields ? [...fields] : null,
      lowerFields: fields ? [...fields].map((f) => f.toLowerCase()) : [],
      scanner: literalIds.size > 0 ? new LiteralScanner([...literalIds.keys()]) : null,
      byLiteral,
    };
    this.buckets.set(key, b);
    return b;
  }
}

/**
 * What the bucket's rules can look at, lower-cased, fields apart: the values of the fields they
 * read, under both the source's name and Sigma's (derived values, like 4688's DOMAIN\\user, exist
 * only in the taxonomy) — or every value, when a keyword rule searches them all.
 */
function eventText(view: EventView, fields: string[] | null, lowerFields: string[]): string {
  let text = '';
  const add = (v: unknown) => {
    if (v === null || v === undefined) return;
    if (Array.isArray(v)) for (const x of v) add(x);
    else if (typeof v !== 'object') text += `${String(v).toLowerCase()}\u0000`;
  };
  if (fields === null) {
    const data = view.raw.data;
    for (const k in data) add(data[k]);
    // Plain renames hold the same values as the source fields: only computed ones add text.
    for (const v of view.derivedSigmaValues()) add(v);
    return text;
  }
  for (let i = 0; i < fields.length; i++) {
    const own = view.field(fields[i]);
    add(own);
    if (view.hasAlias(lowerFields[i])) {
      const taxonomy = view.sigmaLower(fields[i], lowerFields[i]);
      if (taxonomy !== own) add(taxonomy);
    }
  }
  return text;
}

function keyOf(ls: { product?: string; category?: string; service?: string }): string {
  return `${ls.product ?? '*'}|${ls.category ?? '*'}|${ls.service ?? '*'}`;
}

/** The rule keys an event logsource serves: exact, and with product / category / service left open. */
function keysServed(ls: LogSource): string[] {
  const p = ls.product ?? '*';
  const keys = [keyOf(ls)];
  if (ls.category) keys.push(`*|${ls.category}|*`, `${p}|${ls.category}|*`);
  if (ls.service) keys.push(`*|*|${ls.service}`, `${p}|*|${ls.service}`);
  if (ls.product) keys.push(`${p}|*|*`);
  return keys;
}
