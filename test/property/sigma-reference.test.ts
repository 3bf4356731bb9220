/**
 * Random rules against a plain reference evaluator. fast-check builds batches of Sigma rules
 * (selections of fields with exact / contains / startswith / endswith values, wildcards and
 * escapes, |all, |cased, |re, |exists, null, numeric comparisons, keywords; conditions as trees of
 * and / or / not / 1 of / all of) and events over a small alphabet so that values often collide.
 * Each batch is rendered to YAML, loaded and compiled by the engine (with its literal prefilter),
 * and must raise exactly the alerts that this file's evaluator — written from the specification,
 * working on the generated trees, sharing no code with the engine — says it should.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SigmaEngine } from '../../src/detect/sigma/engine.js';
import { loadRuleText } from '../../src/detect/sigma/load.js';
import type { RawEvent } from '../../src/ingest/raw-event.js';
import { normalize } from '../../src/normalize/normalize.js';

const FIELDS = ['CommandLine', 'Image', 'ParentImage', 'User'] as const;
/** Event text is made of these; rule values also of `*`, `?` and backslash escapes. */
const TOKENS = ['a', 'B', 'cmd', '.EXE', '\\', ' ', '-x', '/x', 'ntds', '*', '?'];

type Mode = 'exact' | 'contains' | 'startswith' | 'endswith';
type Item =
  | { kind: 'string'; field: string | null; mode: Mode; all: boolean; cased: boolean; values: string[] }
  | { kind: 're'; field: string; ignoreCase: boolean; source: string }
  | { kind: 'exists'; field: string; want: boolean }
  | { kind: 'null'; field: string }
  | { kind: 'number'; op: 'gt' | 'lt'; value: number };
/** A selection: a map (AND of items) or a list of maps (OR of maps). */
type Selection = { maps: Item[][] };
type Cond =
  | { op: 'id'; name: string }
  | { op: 'not'; a: Cond }
  | { op: 'and' | 'or'; a: Cond; b: Cond }
  | { op: 'oneOf' | 'allOf'; prefix: string }
  | { op: 'allOfThem' | 'oneOfThem' };
interface Rule {
  selections: Record<string, Selection>;
  condition: Cond;
}

const text = (max: number) => fc.array(fc.constantFrom(...TOKENS), { maxLength: max }).map((t) => t.join(''));
const field = fc.constantFrom(...FIELDS);
const pattern = text(4);
// Regexes from a small safe grammar over the same alphabet.
const regex = fc
  .array(fc.constantFrom('a', 'b', 'cmd', '\\.exe', '.*', '[ab]', 'x?', '\\\\', ' ', '-'), {
    minLength: 1,
    maxLength: 4,
  })
  .chain((parts) =>
    fc
      .tuple(fc.boolean(), fc.boolean())
      .map(([start, end]) => `${start ? '^' : ''}${parts.join('')}${end ? '$' : ''}`),
  );

const item: fc.Arbitrary<Item> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('string' as const),
      field,
      mode: fc.constantFrom<Mode>('exact', 'contains', 'startswith', 'endswith'),
      all: fc.boolean(),
      cased: fc.boolean(),
      values: fc.array(pattern, { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('string' as const),
      field: fc.constant(null),
      mode: fc.constant<Mode>('contains'),
      all: fc.boolean(),
      cased: fc.constant(false),
      values: fc.array(
        text(3).filter((s) => s.length > 0),
        { minLength: 1, maxLength: 3 },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('re' as const),
      field,
      ignoreCase: fc.boolean(),
      source: regex,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('exists' as const), field, want: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('null' as const), field }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('number' as const),
      op: fc.constantFrom<'gt' | 'lt'>('gt', 'lt'),
      value: fc.integer({ min: 0, max: 20 }),
    }),
  },
);

/** Keyword items stand alone (a selection of keywords is a plain list). */
const selection: fc.Arbitrary<Selection> = fc
  .array(fc.array(item, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 2 })
  .map((maps) => ({
    maps: maps.map((m) => {
      const keyword = m.find((i) => i.kind === 'string' && i.field === null);
      // One item per key in a YAML map; a keyword list is its own selection.
      if (keyword) return [keyword];
      const seen = new Set<string>();
      return m.filter((i) => {
        const k = keyOf(i);
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    }),
  }));

const NAMES = ['sel_a', 'sel_b', 'filter_a', 'filter_b'];

function condition(names: string[]): fc.Arbitrary<Cond> {
  const leaf = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...names).map((name): Cond => ({ op: 'id', name })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('sel_', 'filter_').map((prefix): Cond => ({ op: 'oneOf', prefix })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('sel_', 'filter_').map((prefix): Cond => ({ op: 'allOf', prefix })),
    },
    { weight: 1, arbitrary: fc.constantFrom<Cond>({ op: 'allOfThem' }, { op: 'oneOfThem' }) },
  );
  const tree = fc.letrec<{ c: Cond }>((tie) => ({
    c: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.record({ op: fc.constant('not' as const), a: tie('c') }) as fc.Arbitrary<Cond>,
      fc.record({
        op: fc.constantFrom('and' as const, 'or' as const),
        a: tie('c'),
        b: tie('c'),
      }) as fc.Arbitrary<Cond>,
    ),
  }));
  return tree.c;
}

const rule: fc.Arbitrary<Rule> = fc.subarray(NAMES, { minLength: 1 }).chain((names) =>
  fc.record({
    selections: fc
      .tuple(...names.map(() => selection))
      .map((sels) => Object.fromEntries(names.map((n, i) => [n, sels[i]]))),
    condition: condition(names).filter((c) => prefixesUsedExist(c, names)),
  }),
);

/** `1 of filter_*` needs at least one filter_ selection (an empty pattern is a rule error). */
function prefixesUsedExist(c: Cond, names: string[]): boolean {
  switch (c.op) {
    case 'oneOf':
    case 'allOf':
      return names.some((n) => n.startsWith(c.prefix));
    case 'not':
      return prefixesUsedExist(c.a, names);
    case 'and':
    case 'or':
      return prefixesUsedExist(c.a, names) && prefixesUsedExist(c.b, names);
    default:
      return true;
  }
}

const event: fc.Arbitrary<Record<string, unknown>> = fc
  .record(
    {
      CommandLine: text(6),
      Image: text(4),
      ParentImage: text(4),
      User: text(3),
      ProcessId: fc.integer({ min: 0, max: 20 }),
    },
    { requiredKeys: [] },
  )
  .map((data) => data as Record<string, unknown>);

// ---- Rendering to YAML (values as JSON strings, which YAML reads as double-quoted scalars) ----

function keyOf(i: Item): string {
  switch (i.kind) {
    case 'string': {
      const mods = [i.mode === 'exact' ? null : i.mode, i.all ? 'all' : null, i.cased ? 'cased' : null];
      return [i.field ?? '', ...mods.filter((m) => m !== null)].join('|');
    }
    case 're':
      return `${i.field}|re${i.ignoreCase ? '|i' : ''}`;
    case 'exists':
      return `${i.field}|exists`;
    case 'null':
      return i.field;
    case 'number':
      return `ProcessId|${i.op}`;
  }
}

function valueYaml(i: Item): string {
  switch (i.kind) {
    case 'string':
      return `[${i.values.map((v) => JSON.stringify(v)).join(', ')}]`;
    case 're':
      return JSON.stringify(i.source);
    case 'exists':
      return String(i.want);
    case 'null':
      return 'null';
    case 'number':
      return String(i.value);
  }
}

function conditionText(c: Cond): string {
  switch (c.op) {
    case 'id':
      return c.name;
    case 'not':
      return `not (${conditionText(c.a)})`;
    case 'and':
    case 'or':
      return `(${conditionText(c.a)}) ${c.op} (${conditionText(c.b)})`;
    case 'oneOf':
      return `1 of ${c.prefix}*`;
    case 'allOf':
      return `all of ${c.prefix}*`;
    case 'allOfThem':
      return 'all of them';
    case 'oneOfThem':
      return '1 of them';
  }
}

function ruleYaml(r: Rule, n: number): string {
  const lines = [
    `title: random rule ${n}`,
    `id: random-${n}`,
    'level: high',
    'logsource:',
    '  category: process_creation',
    '  product: windows',
    'detection:',
  ];
  for (const [name, sel] of Object.entries(r.selections)) {
    lines.push(`  ${name}:`);
    const keyword =
      sel.maps.length === 1 && sel.maps[0][0].kind === 'string' && sel.maps[0][0].field === null;
    if (keyword) {
      // A keyword selection: a plain list (OR), or `'|all':` for AND.
      const k = sel.maps[0][0] as Extract<Item, { kind: 'string' }>;
      if (k.all) lines.push(`    '|all': ${valueYaml(k)}`);
      else for (const v of k.values) lines.push(`    - ${JSON.stringify(v)}`);
      continue;
    }
    for (const map of sel.maps) {
      map.forEach((i, j) => {
        const indent = sel.maps.length > 1 ? (j === 0 ? '    - ' : '      ') : '    ';
        lines.push(`${indent}${JSON.stringify(keyOf(i))}: ${valueYaml(i)}`);
      });
    }
  }
  lines.push(`  condition: ${JSON.stringify(conditionText(r.condition))}`);
  return `${lines.join('\n')}\n`;
}

// ---- The reference evaluator ----

/** A Sigma string as a RegExp source: `\*` `\?` `\\` escapes, `*` and `?` wildcards, the rest literal. */
function sigmaRegex(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    const next = value[i + 1];
    if (c === '\\' && (next === '*' || next === '?' || next === '\\')) {
      out += `\\${next}`;
      i++;
    } else if (c === '*') out += '[\\s\\S]*';
    else if (c === '?') out += '[\\s\\S]';
    else out += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return out;
}

function stringMatches(actual: string, pattern: string, mode: Mode, cased: boolean): boolean {
  let source = sigmaRegex(pattern);
  if (mode === 'contains' || mode === 'endswith') source = `[\\s\\S]*${source}`;
  if (mode === 'contains' || mode === 'startswith') source = `${source}[\\s\\S]*`;
  // The alphabet is ASCII: the i flag is the specification's case-insensitive comparison.
  return new RegExp(`^${source}$`, cased ? '' : 'i').test(actual);
}

function itemHolds(i: Item, data: Record<string, unknown>): boolean {
  switch (i.kind) {
    case 'string': {
      const candidates =
        i.field === null ? Object.values(data).map(String) : i.field in data ? [String(data[i.field])] : [];
      const one = (v: string) => candidates.some((a) => stringMatches(a, v, i.mode, i.cased));
      return i.all ? i.values.every(one) : i.values.some(one);
    }
    case 're':
      return i.field in data && new RegExp(i.source, i.ignoreCase ? 'i' : '').test(String(data[i.field]));
    case 'exists':
      return i.field in data === i.want;
    case 'null':
      return !(i.field in data);
    case 'number':
      return (
        'ProcessId' in data &&
        (i.op === 'gt' ? Number(data.ProcessId) > i.value : Number(data.ProcessId) < i.value)
      );
  }
}

function selectionHolds(s: Selection, data: Record<string, unknown>): boolean {
  return s.maps.some((map) => map.every((i) => itemHolds(i, data)));
}

function conditionHolds(c: Cond, r: Rule, data: Record<string, unknown>): boolean {
  const names = Object.keys(r.selections);
  const sel = (n: string) => selectionHolds(r.selections[n], data);
  switch (c.op) {
    case 'id':
      return sel(c.name);
    case 'not':
      return !conditionHolds(c.a, r, data);
    case 'and':
      return conditionHolds(c.a, r, data) && conditionHolds(c.b, r, data);
    case 'or':
      return conditionHolds(c.a, r, data) || conditionHolds(c.b, r, data);
    case 'oneOf':
      return names.filter((n) => n.startsWith(c.prefix)).some(sel);
    case 'allOf':
      return names.filter((n) => n.startsWith(c.prefix)).every(sel);
    case 'allOfThem':
      return names.every(sel);
    case 'oneOfThem':
      return names.some(sel);
  }
}

function sysmon1(data: Record<string, unknown>): RawEvent {
  return {
    time: Date.UTC(2023, 4, 16),
    provider: 'Microsoft-Windows-Sysmon',
    channel: 'Microsoft-Windows-Sysmon/Operational',
    eventId: 1,
    computer: 'host',
    recordId: 1,
    origin: { file: 'random', format: 'json' },
    data,
  };
}

describe('Sigma engine against a reference evaluator', () => {
  it('agrees on random rules and events', () => {
    let fired = 0;
    let checks = 0;
    fc.assert(
      fc.property(
        fc.array(rule, { minLength: 1, maxLength: 12 }),
        fc.array(event, { minLength: 1, maxLength: 25 }),
        (rules, events) => {
          const yaml = rules.map(ruleYaml).join('---\n');
          const loaded = loadRuleText(yaml, 'random.yml');
          const errors = loaded.problems.filter((p) => p.severity === 'error');
          expect(errors, yaml).toEqual([]);
          expect(loaded.rules.length).toBe(rules.length);
          const engine = new SigmaEngine(loaded.rules);
          for (const data of events) {
            const got = engine
              .evaluate(normalize(sysmon1(data)))
              .map((a) => a.rule.id)
              .sort();
            const want = rules
              .map((r, n) => (conditionHolds(r.condition, r, data) ? `random-${n}` : null))
              .filter((x) => x !== null)
              .sort();
            checks++;
            fired += want.length;
            expect(got, `${yaml}\nevent ${JSON.stringify(data)}`).toEqual(want);
          }
        },
      ),
      { numRuns: 300, seed: 11 },
    );
    // The generators must produce both outcomes often, or the agreement says little.
    expect(fired).toBeGreaterThan(checks / 10);
  });
});
