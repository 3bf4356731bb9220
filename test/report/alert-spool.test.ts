/**
 * The alert spool must give exactly the order of sorting everything in memory (a stable sort by
 * time, rule, file, record), however many runs it spilled to disk, and leave no files behind.
 */
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Alert, alertHead, compareAlerts, LEVELS } from '../../src/detect/alert.js';
import { AlertSpool } from '../../src/report/alert-spool.js';

function alert(n: number, t: number, rule: number, record: number): Alert {
  return {
    time: t < 0 ? null : new Date(Date.UTC(2023, 4, 16, 0, 0, t)).toISOString(),
    rule: {
      id: `r-${rule}`,
      title: `rule ${rule}`,
      level: LEVELS[rule % LEVELS.length],
      kind: 'sigma',
      author: 'lotl tests',
      techniques: [],
      tactics: [],
    },
    host: 'h',
    user: null,
    source: { file: 'f', format: 'json', channel: null, eventId: null, record },
    // `n` tells equal-ranking alerts apart, so the test sees whether ties keep their arrival order.
    event: { n, text: 'é\n"quoted"' },
  };
}

const spilled = () => readdirSync(tmpdir()).filter((f) => f.startsWith('lotl-alerts-')).length;

describe('AlertSpool', () => {
  it('merges spilled runs into the in-memory order, ties in arrival order, and cleans up', async () => {
    const before = spilled();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: -1, max: 5 }), fc.nat(3), fc.nat(3)), { maxLength: 120 }),
        fc.integer({ min: 1, max: 17 }),
        async (specs, runSize) => {
          const alerts = specs.map(([t, r, rec], n) => alert(n, t, r, rec));
          const spool = new AlertSpool(runSize);
          for (const a of alerts) spool.add(a);
          expect(spool.count).toBe(alerts.length);
          const got: Alert[] = [];
          for await (const a of spool.sorted()) got.push(a);
          expect(got).toEqual([...alerts].sort(compareAlerts));
          expect(spool.hasAtLeast('critical')).toBe(alerts.some((a) => a.rule.level === 'critical'));
        },
      ),
      { numRuns: 150, seed: 3 },
    );
    expect(spilled()).toBe(before);
  });

  it('keeps alerts given as head and JSON text as that text, in the same order as objects', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: -1, max: 5 }), fc.nat(3), fc.nat(3), fc.boolean()), {
          maxLength: 80,
        }),
        fc.integer({ min: 1, max: 9 }),
        async (specs, runSize) => {
          const alerts = specs.map(([t, r, rec], n) => alert(n, t, r, rec));
          // Objects and texts mixed (as a hunt's own and its parser threads' alerts arrive).
          const filled = () => {
            const spool = new AlertSpool(runSize);
            specs.forEach(([, , , asText], n) => {
              if (asText) spool.add(alertHead(alerts[n]), JSON.stringify(alerts[n]));
              else spool.add(alerts[n]);
            });
            return spool;
          };
          const mixed = filled();
          const texts: string[] = [];
          for await (const t of mixed.sortedText()) texts.push(t);
          expect(texts).toEqual([...alerts].sort(compareAlerts).map((a) => JSON.stringify(a)));
          const again = filled();
          const objects: Alert[] = [];
          for await (const a of again.sorted()) objects.push(a);
          expect(objects).toEqual([...alerts].sort(compareAlerts));
        },
      ),
      { numRuns: 100, seed: 5 },
    );
  });

  it('reads back runs whose lines span its 64 KB read blocks (long events, multi-byte characters at the seams)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(5), fc.integer({ min: 0, max: 150_000 })), { minLength: 1, maxLength: 12 }),
        async (specs) => {
          const alerts = specs.map(([t, size], n) => {
            const a = alert(n, t, n % 3, n);
            a.event = { n, text: 'é€'.repeat(size >> 2) + 'x'.repeat(size & 3) };
            return a;
          });
          const spool = new AlertSpool(2);
          for (const a of alerts) spool.add(a);
          const got: Alert[] = [];
          for await (const a of spool.sorted()) got.push(a);
          expect(got).toEqual([...alerts].sort(compareAlerts));
        },
      ),
      { numRuns: 25, seed: 9 },
    );
  });

  it('removes its runs when output stops early', async () => {
    const spool = new AlertSpool(2);
    for (let i = 0; i < 9; i++) spool.add(alert(i, i, 0, i));
    const dirs = readdirSync(tmpdir()).filter((f) => f.startsWith('lotl-alerts-'));
    expect(dirs.length).toBeGreaterThan(0);
    for await (const _ of spool.sorted()) break;
    for (const d of dirs) expect(existsSync(`${tmpdir()}/${d}`)).toBe(false);
  });
});
