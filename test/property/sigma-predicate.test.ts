/**
 * Sigma rules as the predicate IR (sigma/to-predicate.ts) decide as the streaming matcher does: for
 * every rule the IR can express — the pack's, and all of SigmaHQ when the shared data is there —
 * and every event of the examples (and a slice of the EVTX corpus), the rule's own predicate and
 * the IR's JavaScript matcher agree, reading the same fields. Events whose fields hold lists or
 * maps are left out for the rules that read those fields (the IR reads text); keywords read every
 * value of the event as a list. The rules the IR
 * cannot express yet are counted by reason.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { EVERY_VALUE, type FieldValue, fieldsOf, toMatcher } from '../../src/detect/ir/predicate.js';
import { getter } from '../../src/detect/sigma/compile.js';
import { loadRules, type SigmaRule } from '../../src/detect/sigma/load.js';
import { PredicateUnsupported, sigmaToPredicate } from '../../src/detect/sigma/to-predicate.js';
import { type EventView, normalize } from '../../src/normalize/normalize.js';
import { DATA, EXAMPLES, HAS_DATA, ROOT, readAllItems } from '../helpers.js';

const textOf = (v: unknown): string | null | undefined =>
  v === undefined || v === null ? null : typeof v === 'object' ? undefined : String(v);
/** A field's value as the IR reads it: text, or (every value, for keywords) a list of texts. */
const irValue = (f: string, v: unknown): FieldValue | undefined =>
  f === EVERY_VALUE ? (v as string[]) : textOf(v);

async function agree(rulePaths: string[], inputs: string[], maxEvents: number) {
  const { rules } = loadRules(rulePaths);
  const { events } = await readAllItems(inputs);
  const views: EventView[] = events.slice(0, maxEvents).map((e) => normalize(e));
  const reasons = new Map<string, number>();
  let converted = 0;
  let compared = 0;
  let matched = 0;
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
    let node: ReturnType<typeof sigmaToPredicate>;
    try {
      node = sigmaToPredicate(detection);
    } catch (err) {
      if (!(err instanceof PredicateUnsupported)) throw err;
      const reason = err.message
        .replace(/^regex \/.*\/: /s, 'regex: ')
        .replace(/^(regex: Invalid regular expression): .*: /s, '$1: ')
        .replace(/'[^']*'/g, "'…'");
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      continue;
    }
    converted++;
    const match = toMatcher(node);
    const scope = rule.logsource.category ? 'category' : 'service';
    const getters = new Map([...fieldsOf(node)].map((f) => [f, getter(f, { scope })]));
    for (const view of views) {
      const values = new Map<string, FieldValue | undefined>();
      for (const [f, g] of getters) values.set(f, irValue(f, g(view)));
      if ([...values.values()].some((v) => v === undefined)) continue;
      const fromIr = match((f) => values.get(f) ?? null);
      const fromRule = rule.match(view);
      compared++;
      if (fromRule) matched++;
      if (fromIr !== fromRule && mismatches.length < 20)
        mismatches.push(
          `${rule.title} (${rule.id}) on ${view.raw.origin.file}: rule ${fromRule}, IR ${fromIr}`,
        );
    }
  }
  return { rules: rules.length, converted, compared, matched, mismatches, reasons };
}

describe('Sigma rules as the predicate IR', () => {
  it("the pack's rules on the examples: every rule converts, and decides as the matcher", async () => {
    const r = await agree([path.join(ROOT, 'rules', 'sigma')], [EXAMPLES], 10_000);
    expect(r.mismatches).toEqual([]);
    expect(r.converted).toBe(r.rules);
    expect(r.matched).toBeGreaterThan(30);
  });

  it.skipIf(!HAS_DATA)(
    'every SigmaHQ rule the IR expresses decides as the matcher on real events',
    async () => {
      const sigma = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].map((d) =>
        path.join(DATA, 'sigma', d),
      );
      const r = await agree(sigma, [EXAMPLES, path.join(DATA, 'evtx-attack-samples')], 2500);
      const unsupported = [...r.reasons].sort((a, b) => b[1] - a[1]);
      process.stdout.write(
        `SigmaHQ as IR: ${r.converted} of ${r.rules} rules converted, ${r.compared} rule×event decisions compared, ${r.matched} matches\n${unsupported
          .slice(0, 12)
          .map(([why, n]) => `  ${n}  ${why}`)
          .join('\n')}\n`,
      );
      expect(r.mismatches).toEqual([]);
      expect(r.converted / r.rules).toBeGreaterThan(0.9);
      expect(r.matched).toBeGreaterThan(500);
    },
    300_000,
  );
});
