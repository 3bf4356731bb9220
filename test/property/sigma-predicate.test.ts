/**
 * A Sigma rule has one reading, the predicate IR (sigma/to-predicate.ts), from which the streaming
 * engine's matcher is derived (ir/to-js.ts: values folded once and remembered, a field's
 * alternatives as sets by length and automata, regexes behind gates). That derivation must decide
 * as the IR's plain reading (toMatcher) does: for every rule — the pack's, and all of SigmaHQ when
 * the shared data is there — and every event of the examples (and a slice of the EVTX corpus), the
 * loaded rule's own test and the plain reading agree, reading the same fields. Events whose fields
 * hold maps are left out for the rules that read those fields (the IR reads text and lists of
 * text). The rules only the streaming engine runs (not as SQL) are counted by reason.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type FieldValue, fieldsOf, toMatcher, unportable } from '../../src/detect/ir/predicate.js';
import { getter } from '../../src/detect/sigma/compile.js';
import { loadRules, type SigmaRule } from '../../src/detect/sigma/load.js';
import { sigmaToPredicate } from '../../src/detect/sigma/to-predicate.js';
import { type EventView, normalize } from '../../src/normalize/normalize.js';
import { DATA, EXAMPLES, HAS_DATA, ROOT, readAllItems } from '../helpers.js';

/** A value as the plain reading takes it: text, a list of texts, null; undefined for a map (not compared). */
function irValue(v: unknown): FieldValue | undefined {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) {
    const out: string[] = [];
    for (const x of v) {
      const t = irValue(x);
      if (t === undefined) return undefined;
      if (typeof t === 'string') out.push(t);
      else if (t !== null) out.push(...t);
    }
    return out;
  }
  return typeof v === 'object' ? undefined : String(v);
}

async function agree(rulePaths: string[], inputs: string[], maxEvents: number) {
  const { rules } = loadRules(rulePaths);
  const { events } = await readAllItems(inputs);
  const views: EventView[] = events.slice(0, maxEvents).map((e) => normalize(e));
  const reasons = new Map<string, number>();
  let compared = 0;
  let matched = 0;
  let portable = 0;
  const mismatches: string[] = [];
  const detections = new Map<string, Record<string, unknown>[]>();
  for (const rule of rules as SigmaRule[]) {
    let docs = detections.get(rule.file);
    if (!docs) {
      docs = parseAllDocuments(readFileSync(rule.file, 'utf8'))
        .map((d) => d.toJSON() as { detection?: Record<string, unknown>; id?: string })
        .filter((d) => d?.detection)
        .map((d) => ({ ...d.detection!, __id: d.id }));
      detections.set(rule.file, docs);
    }
    const doc = docs.find((d) => d.__id === rule.id) ?? (docs.length === 1 ? docs[0] : undefined);
    if (!doc) continue;
    const { __id, ...detection } = doc;
    const node = sigmaToPredicate(detection);
    const why = unportable(node);
    if (why) {
      const reason = why.replace(/^regex \/.*\/: /s, 'regex: ').replace(/'[^']*'/g, "'…'");
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    } else portable++;
    const plain = toMatcher(node);
    const scope = rule.logsource.category ? 'category' : 'service';
    const getters = new Map([...fieldsOf(node)].map((f) => [f, getter(f, { scope })]));
    for (const view of views) {
      const values = new Map<string, FieldValue | undefined>();
      for (const [f, g] of getters) values.set(f, irValue(g(view)));
      if ([...values.values()].some((v) => v === undefined)) continue;
      const fromIr = plain((f) => values.get(f) ?? null);
      const fromRule = rule.match(view);
      compared++;
      if (fromRule) matched++;
      if (fromIr !== fromRule && mismatches.length < 20)
        mismatches.push(
          `${rule.title} (${rule.id}) on ${view.raw.origin.file}: engine ${fromRule}, plain reading ${fromIr}`,
        );
    }
  }
  return { rules: rules.length, portable, compared, matched, mismatches, reasons };
}

describe('Sigma rules as the predicate IR', () => {
  it("the pack's rules on the examples: every rule runs as SQL too, and decides as its plain reading", async () => {
    const r = await agree([path.join(ROOT, 'rules', 'sigma')], [EXAMPLES], 10_000);
    expect(r.mismatches).toEqual([]);
    expect(r.portable).toBe(r.rules);
    expect(r.matched).toBeGreaterThan(30);
  });

  it.skipIf(!HAS_DATA)(
    "every SigmaHQ rule's engine matcher decides as its plain reading on real events",
    async () => {
      const sigma = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].map((d) =>
        path.join(DATA, 'sigma', d),
      );
      const r = await agree(sigma, [EXAMPLES, path.join(DATA, 'evtx-attack-samples')], 2500);
      const unsupported = [...r.reasons].sort((a, b) => b[1] - a[1]);
      process.stdout.write(
        `SigmaHQ as IR: ${r.rules} rules, ${r.portable} also runnable as SQL, ${r.compared} rule×event decisions compared, ${r.matched} matches\n${unsupported
          .slice(0, 12)
          .map(([why, n]) => `  ${n}  ${why}`)
          .join('\n')}\n`,
      );
      expect(r.mismatches).toEqual([]);
      expect(r.portable / r.rules).toBeGreaterThan(0.99);
      expect(r.matched).toBeGreaterThan(500);
    },
    300_000,
  );
});
