/**
 * The hunt's store stages only the rows some query may read (kql/row-needs.ts). That must never
 * change an answer: each query runs over a store of every row and over a store of the rows its
 * needs keep, on the examples' events and on random variants of them (command lines, share names
 * and event ids drawn from the hunts' own terms, case flipped, non-ASCII letters), and the results
 * must be the same.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bindKql } from '../../src/detect/kql/frontend.js';
import { loadKqlHunts } from '../../src/detect/kql/hunts.js';
import { rowTest } from '../../src/detect/kql/row-needs.js';
import { type CompiledQuery, compileKql } from '../../src/detect/kql/to-sql.js';
import type { RawEvent } from '../../src/ingest/raw-event.js';
import { normalize } from '../../src/normalize/normalize.js';
import { EventStore } from '../../src/store/duckdb.js';
import { EXAMPLES, ROOT, readAllItems } from '../helpers.js';

/** Queries whose filters the reduction must get right or leave alone (each comment says which). */
const TRICKY = [
  // A filter after an extend may name a computed column: the rows are not reduced by it.
  'SecurityEvent | extend CommandLine = strcat(CommandLine, " ntdsutil") | where CommandLine has "ntdsutil"',
  // `or` with a part it cannot reduce keeps everything; `not` is not reduced.
  'SecurityEvent | where CommandLine has "wmic" or strlen(CommandLine) > 40',
  'SecurityEvent | where not(CommandLine has "wmic")',
  'SecurityEvent | where EventID in (4688, 5145) and CommandLine has_any ("netsh", "vssadmin")',
  'SecurityEvent | where EventID == "4688" | where CommandLine =~ "whoami"',
  'SecurityEvent | where "5145" == EventID and ShareName in~ (@"\\\\*\\ADMIN$", @"\\\\*\\C$")',
  'SecurityEvent | where CommandLine startswith "cmd" or CommandLine endswith ".dit"',
  'SecurityEvent | where CommandLine contains_cs "NTDS" | where CommandLine !has "ifm"',
  // A table behind a let and on a join's right side is read whole.
  'let t = SecurityEvent; t | where CommandLine has "ntdsutil"',
  'SecurityEvent | where CommandLine has "ntdsutil" | join kind=inner (SecurityEvent | project Computer) on Computer | take 5',
  'DeviceProcessEvents | where ProcessCommandLine has_all ("create", "full") | union (SecurityEvent | where EventID == 4624)',
];

const TERMS = [
  'ntdsutil',
  '"ac i ntds" ifm',
  'create full',
  'c:\\temp\\pro',
  'rundll32',
  'comsvcs.dll,',
  'MiniDump',
  'procdump -ma lsass',
  'netsh interface portproxy add v4tov4 listenport=50100',
  'wmic process call create',
  'whoami',
  'vssadmin',
  'C:\\Windows\\SYSTEM32\\x.tmp',
  '\\\\*\\ADMIN$',
  'ntdsutİl',
  'ＮＴＤＳＵＴＩＬ',
];

const flipCase = (s: string, mask: number) =>
  [...s].map((c, i) => ((mask >> (i % 30)) & 1 ? c.toUpperCase() : c.toLowerCase())).join('');

async function storeOf(events: RawEvent[], compiled: CompiledQuery | null): Promise<EventStore> {
  const store = await EventStore.open(undefined, {
    rows: compiled ? (table) => rowTest(compiled.rowNeeds, table) : undefined,
  });
  for (const e of events) store.add(normalize(e));
  await store.finish();
  return store;
}

async function sameAnswers(queries: string[], events: RawEvent[]): Promise<number> {
  const all = await storeOf(events, null);
  let rows = 0;
  try {
    for (const text of queries) {
      const compiled = compileKql(bindKql(text));
      const reduced = await storeOf(events, compiled);
      try {
        const key = (r: Record<string, unknown>[]) => r.map((x) => JSON.stringify(x)).sort();
        const expected = await all.kql(compiled);
        rows += expected.length;
        expect(key(await reduced.kql(compiled)), text).toEqual(key(expected));
      } finally {
        reduced.close();
      }
    }
  } finally {
    all.close();
  }
  return rows;
}

describe('the hunt store keeps every row a query may read', () => {
  const pack = loadKqlHunts([`${ROOT}/rules/hunts`]).hunts;
  const hunts = pack.map((h) => h.compiled);

  it('the pack hunts reduce to their terms (4688 command lines, not every Security event)', () => {
    expect(hunts.length).toBe(7);
    const lsass = hunts.find((h) => h.sql.includes('comsvcs'))!;
    const test = rowTest(lsass.rowNeeds, 'SecurityEvent')!;
    const row = (values: Record<string, unknown>) => test((c) => values[c] ?? null);
    expect(
      row({ EventID: 4688, CommandLine: 'rundll32 C:\\windows\\system32\\comsvcs.dll, MiniDump 624 x full' }),
    ).toBe(true);
    expect(row({ EventID: 4688, CommandLine: 'PROCDUMP -ma LSASS.exe' })).toBe(true);
    expect(row({ EventID: 4624, CommandLine: 'procdump -ma lsass.exe' })).toBe(false);
    expect(row({ EventID: 4688, CommandLine: 'whoami /all' })).toBe(false);
    // Text JavaScript and DuckDB may fold differently is kept.
    expect(row({ EventID: 4688, CommandLine: 'procdump lsaſs' })).toBe(true);
    // A query that reads a table whole (behind a let) needs nothing of its rows.
    expect(rowTest(compileKql(bindKql(TRICKY[8])).rowNeeds, 'SecurityEvent')).toBeUndefined();
  });

  it('on the examples and random variants of their events, every query answers the same', async () => {
    const { events } = await readAllItems([EXAMPLES]);
    const queries = [...pack.map((h) => readFileSync(h.file, 'utf8')), ...TRICKY];
    const process = events.filter((e) => e.eventId === 4688 && e.channel === 'Security');
    const share = events.find((e) => e.eventId === 5145) ?? process[0];
    expect(process.length).toBeGreaterThan(10);
    const variants = fc.sample(
      fc.record({
        base: fc.nat(process.length - 1),
        parts: fc.array(fc.nat(TERMS.length - 1), { minLength: 1, maxLength: 4 }),
        mask: fc.nat(),
        eventId: fc.constantFrom(4688, 4688, 5145, 4624),
      }),
      { numRuns: 300, seed: 4688 },
    );
    const made: RawEvent[] = variants.map((v) => {
      const from = v.eventId === 5145 ? share : process[v.base];
      const text = flipCase(v.parts.map((p) => TERMS[p]).join(' '), v.mask);
      return {
        ...from,
        eventId: v.eventId,
        data: { ...from.data, CommandLine: text, ShareName: text, RelativeTargetName: text },
      };
    });
    const rows = await sameAnswers(queries, [...events, ...made]);
    // The comparison saw results (an empty answer everywhere would prove nothing).
    expect(rows).toBeGreaterThan(100);
  }, 120_000);
});
