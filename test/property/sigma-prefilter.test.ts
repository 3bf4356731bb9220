/**
 * The literal prefilter only decides which rules to evaluate; it must never change an answer. All
 * SigmaHQ rules run over real corpus events, and over the same events with their values mutated
 * (case flipped, text cut, literals spliced in), with and without the prefilter: the alerts must be
 * identical.
 */
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SigmaEngine } from '../../src/detect/sigma/engine.js';
import { loadRules } from '../../src/detect/sigma/load.js';
import type { RawEvent } from '../../src/ingest/raw-event.js';
import { normalize } from '../../src/normalize/normalize.js';
import { DATA, EXAMPLES, FIXTURES, HAS_DATA, ROOT, readAllItems } from '../helpers.js';

/** The prefilter against evaluating every rule, on the events of `inputs` and mutations of them. */
async function samePrefilterAnswers(
  rulePaths: string[],
  inputs: string[],
  bounds: { events: number; alerts: number },
): Promise<void> {
  const { rules } = loadRules(rulePaths);
  const fast = new SigmaEngine(rules);
  const slow = new SigmaEngine(rules, { prefilter: false });
  const { events } = await readAllItems(inputs);
  expect(events.length).toBeGreaterThan(bounds.events);
  const ids = (e: RawEvent, engine: SigmaEngine) =>
    engine
      .evaluate(normalize(e))
      .map((a) => a.rule.id)
      .sort();
  let alerts = 0;
  for (const e of events) {
    const expected = ids(e, slow);
    alerts += expected.length;
    expect(ids(e, fast)).toEqual(expected);
  }
  expect(alerts).toBeGreaterThan(bounds.alerts);
  // Mutations: flip case (also to the dotted İ and Σ, which fold to i and σ), cut strings, splice
  // rule literals into values.
  const literals = rules.flatMap((r) => r.need ?? []).slice(0, 2000);
  fc.assert(
    fc.property(
      fc.nat(events.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.constantFrom('upper', 'dotted', 'cut', 'splice'), fc.nat()), {
        minLength: 1,
        maxLength: 4,
      }),
      (which, edits) => {
        const base = events[which];
        const data: Record<string, unknown> = { ...base.data };
        const keys = Object.keys(data).filter((k) => typeof data[k] === 'string');
        for (const [k, op, n] of edits) {
          if (keys.length === 0) break;
          const key = keys[k % keys.length];
          const v = String(data[key]);
          data[key] =
            op === 'upper'
              ? v.toUpperCase()
              : op === 'dotted'
                ? v.toUpperCase().replace(/I/g, '\u0130').replace(/S/g, '\u03a3')
                : op === 'cut'
                  ? v.slice(0, n % (v.length + 1))
                  : `${v.slice(0, n % (v.length + 1))}${literals[n % literals.length]}${v.slice(n % (v.length + 1))}`;
        }
        const e = { ...base, data };
        expect(ids(e, fast)).toEqual(ids(e, slow));
      },
    ),
    { numRuns: 400, seed: 7 },
  );
}

describe('Sigma prefilter', () => {
  it('gives exactly the alerts of evaluating every rule: the built-in pack on the repo scenario and EVTX fixtures', async () => {
    await samePrefilterAnswers([path.join(ROOT, 'rules', 'sigma')], [EXAMPLES, path.join(FIXTURES, 'evtx')], {
      events: 700,
      alerts: 20,
    });
  });

  it.runIf(HAS_DATA)(
    'gives exactly the alerts of evaluating every rule: SigmaHQ on corpus events',
    async () => {
      const sigma = path.join(DATA, 'sigma');
      await samePrefilterAnswers(
        ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].map((d) => path.join(sigma, d)),
        [
          path.join(DATA, 'evtx-attack-samples', 'Credential Access'),
          path.join(DATA, 'evtx-attack-samples', 'Lateral Movement'),
        ],
        { events: 1000, alerts: 100 },
      );
    },
  );
});
