/**
 * The events in a DuckDB file (store/event-table.ts) and a Sigma hunt run there as SQL
 * (hunt/table-hunt.ts): the same alerts as the streaming hunt, ingesting a file twice adds nothing.
 * On the examples with the pack, and on real EVTX with all of SigmaHQ when the shared data is there.
 * Lists of texts (EventData's unnamed Data values) are searched element by element, as the stream
 * does. The one difference allowed, and counted: an event whose field the rule reads holds a map
 * (the table keeps texts and lists of texts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Alert, sourceRef } from '../../src/detect/alert.js';
import { fieldsOf } from '../../src/detect/ir/predicate.js';
import { getter } from '../../src/detect/sigma/compile.js';
import { rulePredicates } from '../../src/detect/sigma/convert.js';
import { SigmaEngine } from '../../src/detect/sigma/engine.js';
import { loadRules } from '../../src/detect/sigma/load.js';
import { huntTable } from '../../src/hunt/table-hunt.js';
import { normalize } from '../../src/normalize/normalize.js';
import { EventTable, eventFields } from '../../src/store/event-table.js';
import { DATA, EXAMPLES, HAS_DATA, PACK_CORRELATIONS, PACK_RULES, ROOT, readAllItems } from '../helpers.js';

const key = (a: Alert) => `${a.rule.id} ${sourceRef(a.source)}`;

async function sameAlerts(rulePaths: string[], inputs: string[]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'lotl-db-'));
  const table = await EventTable.open(path.join(dir, 'events.duckdb'));
  try {
    const first = await table.ingest(inputs);
    const again = await table.ingest(inputs);
    expect(again.files).toBe(0);
    expect(again.known).toBe(first.files + first.known);
    expect((await table.counts()).events).toBe(first.events);
    const { rules } = loadRules(rulePaths);
    const predicates = new Map([...rulePredicates(rulePaths)].map((p) => [`${p.file}\n${p.id}`, p]));
    const fromTable = await huntTable(table, rules, predicates);
    const ran = rules.filter((r) => predicates.get(`${r.file}\n${r.id}`)?.node);
    const engine = new SigmaEngine(ran);
    // The stream reads the files the table holds (a file's copy under another name is one file).
    const stored = (await table.query('SELECT path FROM lotl_files ORDER BY path', [])).map((r) =>
      String(r.path),
    );
    const { events } = await readAllItems(stored);
    // Streamed alerts, each with whether its rule reads a list or map value of its event.
    const listy = new Set<string>();
    const streamed: Alert[] = [];
    for (const e of events) {
      const view = normalize(e);
      for (const a of engine.evaluate(view)) {
        streamed.push(a);
        const rule = ran.find((r) => r.id === a.rule.id)!;
        const scope = rule.logsource.category ? 'category' : 'service';
        const node = predicates.get(`${rule.file}\n${rule.id}`)!.node!;
        if (
          [...fieldsOf(node)].some((f) => {
            const v = getter(f, { scope })(view);
            return v !== null && typeof v === 'object' && !Array.isArray(v);
          })
        )
          listy.add(key(a));
      }
    }
    const got = new Set(fromTable.alerts.map(key));
    // Every alert of the table is one the stream raised; the stream's others all read maps.
    const streamedKeys = new Set(streamed.map(key));
    expect([...got].filter((k) => !streamedKeys.has(k))).toEqual([]);
    const missing = streamed.map(key).filter((k) => !got.has(k));
    expect(missing.filter((k) => !listy.has(k))).toEqual([]);
    expect(fromTable.alerts.length + missing.length).toBe(streamed.length);
    return { ...fromTable, events: first.events, streamed: streamed.length, missing: missing.length };
  } finally {
    table.close();
  }
}

describe('a Sigma hunt as SQL over stored events', () => {
  it("the pack on the examples: the streaming hunt's alerts, ingest idempotent", async () => {
    const r = await sameAlerts([path.join(ROOT, 'rules', 'sigma')], [EXAMPLES]);
    expect(r.events).toBe(297);
    expect(r.ran).toBe(PACK_RULES);
    expect(r.alerts.length).toBeGreaterThan(30);
    // The ESENT rule reads EventData's list of Data values: found element by element.
    expect(r.missing).toBe(0);
  });

  it("correlation rules over the rules' SQL matches on the examples: the streamed alerts", async () => {
    const paths = [
      path.join(ROOT, 'rules', 'sigma'),
      path.join(ROOT, 'test', 'fixtures', 'sigma-correlation'),
    ];
    const dir = mkdtempSync(path.join(tmpdir(), 'lotl-db-'));
    const table = await EventTable.open(path.join(dir, 'events.duckdb'));
    try {
      await table.ingest([EXAMPLES]);
      const { rules, correlations } = loadRules(paths);
      // The fixture's three and the pack's own.
      expect(correlations.length).toBe(3 + PACK_CORRELATIONS);
      const predicates = new Map([...rulePredicates(paths)].map((p) => [`${p.file}\n${p.id}`, p]));
      const fromTable = await huntTable(table, rules, predicates, {}, correlations);
      // The stream reads the stored files in path order, as the store orders their events.
      const stored = (await table.query('SELECT path FROM lotl_files ORDER BY path', [])).map((r) =>
        String(r.path),
      );
      const engine = new SigmaEngine(rules, { correlations });
      const { events } = await readAllItems(stored);
      const streamed = [...events.flatMap((e) => engine.evaluate(normalize(e))), ...engine.flush()];
      const full = (a: Alert) => `${key(a)} ${JSON.stringify(a.event.correlation ? a.event : '')}`;
      expect(fromTable.alerts.map(full).sort()).toEqual(streamed.map(full).sort());
      const fired = new Set(
        fromTable.alerts.filter((a) => a.rule.kind === 'correlation').map((a) => a.rule.id),
      );
      // The fixture's three fire on the scenario (and the pack's port proxy sequence), and the
      // silenced base rule's own alerts are left out.
      expect(fired.size).toBe(4);
      expect(fromTable.alerts.some((a) => a.rule.id === '0c5d7a10-2b7e-4f5e-9a3c-1d2e3f405001')).toBe(false);
    } finally {
      table.close();
    }
  });

  it('a rule the store refuses is listed and the others of its batch still run; a failing store is said', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lotl-db-'));
    const table = await EventTable.open(path.join(dir, 'events.duckdb'));
    const rulesDir = mkdtempSync(path.join(tmpdir(), 'lotl-refused-'));
    // A rule whose query this wrapped store refuses (as an engine refuses what it cannot run).
    writeFileSync(
      path.join(rulesDir, 'refused.yml'),
      'title: Refused\nid: 9d0e1f2a-3b4c-4d5e-8f60-718293a4b5c6\nlogsource: {category: process_creation, product: windows}\ndetection: {s: {CommandLine|contains: lotl-refuse-me}, condition: s}\nlevel: low\n',
    );
    try {
      await table.ingest([EXAMPLES]);
      const paths = [path.join(ROOT, 'rules', 'sigma'), rulesDir];
      const { rules } = loadRules(paths);
      const predicates = new Map([...rulePredicates(paths)].map((p) => [`${p.file}\n${p.id}`, p]));
      const picky: typeof table = Object.create(table);
      let calls = 0;
      picky.selectMatching = (key, conditions, params) => {
        calls++;
        if (params.includes('lotl-refuse-me')) return Promise.reject(new Error('Binder Error: refused'));
        return table.selectMatching(key, conditions, params);
      };
      const r = await huntTable(picky, rules, predicates);
      expect(r.skipped).toEqual([
        {
          title: 'Refused',
          id: '9d0e1f2a-3b4c-4d5e-8f60-718293a4b5c6',
          reason: 'the store refused its query: Binder Error: refused',
        },
      ]);
      const pack = await huntTable(table, loadRules([paths[0]]).rules, predicates);
      expect(r.alerts.map(key).sort()).toEqual(pack.alerts.map(key).sort());
      expect(calls).toBeGreaterThan(pack.queries);
      const down: typeof table = Object.create(table);
      down.selectMatching = () => Promise.reject(new Error('connection refused'));
      await expect(huntTable(down, rules, predicates)).rejects.toThrow(/connection refused/);
    } finally {
      table.close();
    }
  });

  // (The stream tries a name's exact spelling first; the store keeps lower-cased names, so two keys
  // differing only in case or spaces can differ: the names asked here are not keys as spelt.)
  it('a stored event answers a field name as the stream reads it (case, spaces stripped, first key wins)', () => {
    const data = {
      'New Value': 'HKLM\\Exclusions\\Paths\\C:\\tools = 0x0',
      'new value': 'a later key with the same name',
      Detail: { nested: 'a map' },
      detail: 'text after a map of the same name',
      'Threat Name': 'Tool:Win32/EICAR_Test_File',
      Data: ['a', 'b'],
    };
    const view = normalize({
      time: null,
      provider: null,
      channel: 'Microsoft-Windows-Windows Defender/Operational',
      eventId: 5007,
      computer: 'host',
      recordId: null,
      data,
      origin: { file: 'inline', format: 'json', line: 1 },
    });
    const f = eventFields(view);
    for (const name of ['NewValue', 'NEW VALUE', 'DETAIL', 'ThreatName', 'threat name', 'data']) {
      const streamed = view.field(name);
      const lower = name.toLowerCase();
      const stored = f.source.get(lower) ?? f.lists.get(lower);
      expect(stored, name).toEqual(
        typeof streamed === 'object' && !Array.isArray(streamed) ? undefined : streamed,
      );
    }
  });

  it('keyword searches (every value of the event) on the examples: the streamed alerts', async () => {
    const r = await sameAlerts([path.join(ROOT, 'test', 'fixtures', 'sigma-keywords')], [EXAMPLES]);
    expect(r.ran).toBe(3);
    // Each of the three rules fires on the scenario (ntdsutil, comsvcs MiniDump, portproxy).
    expect(new Set(r.alerts.map((a) => a.rule.id)).size).toBe(3);
    expect(r.missing).toBe(0);
  });

  it.skipIf(!HAS_DATA)(
    'all of SigmaHQ on EVTX-ATTACK-SAMPLES: the same alerts, rules that cannot run listed',
    async () => {
      const sigma = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].map((d) =>
        path.join(DATA, 'sigma', d),
      );
      const r = await sameAlerts(sigma, [path.join(DATA, 'evtx-attack-samples')]);
      process.stdout.write(
        `SigmaHQ as SQL on EVTX-ATTACK-SAMPLES: ${r.ran} rules ran, ${r.skipped.length} did not, ${r.alerts.length} alerts (${r.streamed} streamed, ${r.missing} on map values) over ${r.events} events\n`,
      );
      expect(r.ran).toBeGreaterThan(3500);
      expect(r.alerts.length).toBeGreaterThan(500);
    },
    600_000,
  );
});
