/**
 * Running loaded rules over events: each event is offered only to the rules whose logsource it
 * serves (rules are grouped by product/category/service once), and a match becomes an alert
 * carrying the rule's author, ATT&CK techniques and tactics.
 */

import type { EventView } from '../../normalize/normalize.js';
import type { LogSource } from '../../normalize/profile.js';
import { type Alert, alertFor, type Level } from '../alert.js';
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

/** Rules grouped by the logsource key an event must serve. */
export class SigmaEngine {
  private readonly byKey = new Map<string, { rule: SigmaRule; meta: Alert['rule'] }[]>();

  constructor(readonly rules: SigmaRule[]) {
    for (const rule of rules) {
      const key = keyOf(rule.logsource);
      const list = this.byKey.get(key) ?? [];
      list.push({ rule, meta: ruleMeta(rule) });
      this.byKey.set(key, list);
    }
  }

  /** The alerts an event raises. */
  evaluate(view: EventView): Alert[] {
    const out: Alert[] = [];
    const seen = new Set<string>();
    for (const ls of view.logsources()) {
      for (const key of keysServed(ls)) {
        if (seen.has(key)) continue;
        seen.add(key);
        const rules = this.byKey.get(key);
        if (!rules) continue;
        for (const { rule, meta } of rules) if (rule.match(view)) out.push(alertFor(view, meta));
      }
    }
    return out;
  }
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
