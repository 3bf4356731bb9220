/**
 * KQL through the SQL tree (detect/kql/to-tree.ts, sql/render-query.ts), written for DuckDB: every
 * query of the portable set and the advisory's hunting queries return exactly the rows of the
 * embedded compiler (to-sql.ts) over the examples; what the subset does not cover is refused at
 * its place in the query; times and timespans survive the trip through ticks.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStore } from '../../src/cli/load-store.js';
import { ticksToIso, ticksToTimespan } from '../../src/detect/kql/rows.js';
import { datetimeTicks, kqlToTree, timespanTicks } from '../../src/detect/kql/to-tree.js';
import type { EventStore } from '../../src/store/duckdb.js';
import { EXAMPLES, ROOT } from '../helpers.js';
import { bound, referenceRows, treeRows, unordered } from '../support/kql-rows.js';
import { NOW, PORTABLE_QUERIES, REFUSED_QUERIES } from '../support/portable-kql.js';

let store: EventStore;
beforeAll(async () => {
  ({ store } = await loadStore([EXAMPLES], { alerts: true }));
});
afterAll(() => store.close());

const HUNTS = path.join(ROOT, 'rules', 'hunts');

describe('KQL compiled to the SQL tree, on DuckDB', () => {
  for (const [name, query] of Object.entries(PORTABLE_QUERIES))
    it(`${name}: the embedded compiler's rows`, async () => {
      const expected = await referenceRows(store, query, NOW);
      const { rows } = await treeRows((q) => store.treeQuery(q), query, NOW);
      expect(rows).toEqual(expected);
    });

  it('the portable set finds rows (a query matching nothing proves little)', async () => {
    for (const [name, query] of Object.entries(PORTABLE_QUERIES))
      expect((await referenceRows(store, query, NOW)).length, name).toBeGreaterThan(0);
  });

  it("the advisory's hunting queries: the same rows; the one using split(…, i)[0] refused at it", async () => {
    let ran = 0;
    for (const file of readdirSync(HUNTS)) {
      const query = readFileSync(path.join(HUNTS, file), 'utf8');
      if (file === 'potential-impacket-execution.kql') {
        const err = (() => {
          try {
            kqlToTree(bound(query), { now: NOW });
          } catch (e) {
            return e as { start: number; length: number };
          }
        })();
        expect(query.slice(err!.start, err!.start + err!.length)).toBe("split(Account, '\\\\', 0)[0]");
        continue;
      }
      const { rows } = await treeRows((q) => store.treeQuery(q), query, NOW);
      // (Their rows come in no particular order.)
      expect(unordered(rows), file).toEqual(unordered(await referenceRows(store, query, NOW)));
      ran++;
    }
    expect(ran).toBe(6);
  });

  for (const { query, at, says } of REFUSED_QUERIES)
    it(`refuses ${JSON.stringify(at)} at its place`, () => {
      let err: (Error & { start: number; length: number }) | undefined;
      try {
        kqlToTree(bound(query), { now: NOW });
      } catch (e) {
        err = e as Error & { start: number; length: number };
      }
      expect(err?.message).toMatch(says);
      expect(query.slice(err!.start, err!.start + err!.length)).toBe(at);
    });

  it('a hostile string literal is a value: quotes, backslashes and control characters come back as written', async () => {
    const hostile = 'x\'); DROP TABLE "SecurityEvent"; --\\\'\u0001\n';
    const query = `SecurityEvent | take 1 | extend S = ${JSON.stringify(hostile)} | project S, Same = S == ${JSON.stringify(hostile)}`;
    const { rows } = await treeRows((q) => store.treeQuery(q), query, NOW);
    expect(rows).toEqual([{ S: hostile, Same: true }]);
    expect((await referenceRows(store, 'SecurityEvent | count', NOW))[0].Count).toBeGreaterThan(0);
  });
});

describe('times as 100 ns ticks', () => {
  it('ISO 8601 with 0 to 7 fraction digits → ticks → the text presentRow writes', () => {
    const cases: [string, string][] = [
      ['2023-05-16T13:10:05Z', '2023-05-16T13:10:05.000Z'],
      ['2023-05-16T13:10:05.01Z', '2023-05-16T13:10:05.01Z'],
      ['2023-05-16T13:10:05.1234567Z', '2023-05-16T13:10:05.1234567Z'],
      ['2023-05-16T13:10:05.1230000Z', '2023-05-16T13:10:05.123Z'],
      ['1969-12-31T23:59:59.9999999Z', '1969-12-31T23:59:59.9999999Z'],
      ['2023-05-16 13:10:05.5', '2023-05-16T13:10:05.5Z'],
    ];
    for (const [text, shown] of cases) expect(ticksToIso(datetimeTicks(text)!)).toBe(shown);
    expect(datetimeTicks('not a time')).toBeNull();
  });

  it('timespans: units and clock text → ticks → Kusto text', () => {
    expect(ticksToTimespan(timespanTicks('90m')!)).toBe('01:30:00');
    expect(ticksToTimespan(timespanTicks('1.02:03:04.5')!)).toBe('1.02:03:04.5000000');
    expect(ticksToTimespan(-timespanTicks('2d')!)).toBe('-2.00:00:00');
    expect(timespanTicks('1tick')).toBe(1n);
    expect(timespanTicks('soon')).toBeNull();
  });
});
