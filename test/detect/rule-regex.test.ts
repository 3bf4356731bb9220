/**
 * Rule regexes run with lazy quantifiers: whether a pattern matches must not change. Random small
 * patterns over a small alphabet (anchors, classes, groups, every quantifier) are compared on random
 * text, and, with the shared data, every regex of SigmaHQ on command lines built from its rules'
 * own literals.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lazyQuantifiers } from '../../src/detect/ir/regex.js';
import { DATA, filesUnder, HAS_DATA } from '../helpers.js';

const ATOM = fc.constantFrom('a', 'b', '.', '[ab]', '[^a]', '\\d', '\\+', '(?:ab)', '(a|b)', '(?:a|\\n)');
const QUANT = fc.constantFrom('', '', '*', '+', '?', '{1,2}', '{2}', '{0,}', '*?', '+?');
const PATTERN = fc
  .tuple(fc.boolean(), fc.array(fc.tuple(ATOM, QUANT), { minLength: 1, maxLength: 6 }), fc.boolean())
  .map(
    ([start, parts, end]) => `${start ? '^' : ''}${parts.map(([a, q]) => a + q).join('')}${end ? '$' : ''}`,
  );
const TEXT = fc
  .array(fc.constantFrom('a', 'b', '+', '1', '\n', 'x'), { maxLength: 14 })
  .map((c) => c.join(''));

describe('lazy quantifiers', () => {
  it('rewrites quantifiers only, never classes, escapes or group syntax', () => {
    expect(lazyQuantifiers('\\+.*\\+.*\\+')).toBe('\\+.*?\\+.*?\\+');
    expect(lazyQuantifiers('[.*+?]x?\\d{1,3}(?:ab)+?(?<n>c*)')).toBe('[.*+?]x??\\d{1,3}?(?:ab)+?(?<n>c*?)');
    expect(lazyQuantifiers('x{,2}\\{2}')).toBe('x{,2}\\{2}'); // not quantifiers
  });

  it('matches where the pattern as written matches, and nowhere else', () => {
    fc.assert(
      fc.property(
        PATTERN,
        fc.array(TEXT, { minLength: 1, maxLength: 8 }),
        fc.constantFrom('', 'm', 's'),
        (p, texts, flags) => {
          const greedy = new RegExp(p, flags);
          const lazy = new RegExp(lazyQuantifiers(p), flags);
          for (const t of texts) expect(lazy.test(t)).toBe(greedy.test(t));
        },
      ),
      { numRuns: 3000, seed: 17 },
    );
  });

  it.runIf(HAS_DATA)('agrees on every SigmaHQ regex, over text made of the rules’ own literals', () => {
    const patterns: string[] = [];
    const literals: string[] = [];
    for (const file of filesUnder(path.join(DATA, 'sigma', 'rules'), '.yml')) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\|re[^:]*:\s*'((?:[^']|'')+)'/g))
        patterns.push(m[1].replace(/''/g, "'"));
      for (const m of text.matchAll(/^\s+- '([^']{3,40})'$/gm)) literals.push(m[1]);
    }
    expect(patterns.length).toBeGreaterThan(100);
    const texts = fc.sample(
      fc
        .array(fc.constantFrom(...literals.slice(0, 3000), ' ', '+', '"', '\\', '/c '), { maxLength: 12 })
        .map((p) => p.join('')),
      { numRuns: 150, seed: 4 },
    );
    let compared = 0;
    for (const raw of patterns) {
      const src = raw.replace(/^\(\?[ims]+\)/, '');
      let greedy: RegExp;
      try {
        greedy = new RegExp(src, 'i');
      } catch {
        continue; // not a JavaScript regex (reported by the loader)
      }
      const lazy = new RegExp(lazyQuantifiers(src), 'i');
      for (const t of texts) expect(lazy.test(t), `${src} on ${JSON.stringify(t)}`).toBe(greedy.test(t));
      compared++;
    }
    expect(compared).toBeGreaterThan(100);
  });
});
