/**
 * The events in ClickHouse (store/clickhouse-table.ts, on a clickhouse-server the test starts on
 * loopback) and a Sigma hunt run there as SQL: the same alerts as the streamed hunt, ingesting a
 * file twice adds nothing. On the examples with the pack and with keyword rules, and on
 * EVTX-ATTACK-SAMPLES with all of SigmaHQ when the shared data is there: every rule runs.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alert, sourceRef } from '../../src/detect/alert.js';
import { rulePredicates } from '../../src/detect/sigma/convert.js';
import { SigmaEngine } from '../../src/detect/sigma/engine.js';
import { loadRules } from '../../src/detect/sigma/load.js';
import { huntTable } from '../../src/hunt/table-hunt.js';
import { normalize } from '../../src/normalize/normalize.js';
import { ClickHouseTable } from '../../src/store/clickhouse-table.js';
import { DATA, EXAMPLES, HAS_DATA, PACK_RULES, ROOT, readAllItems } from '../helpers.js';
import { type ClickHouse, HAS_CLICKHOUSE, startClickHouse } from '../support/clickhouse.js';

const key = (a: Alert) => `${a.rule.id} ${sourceRef(a.source)}`;

let server: ClickHouse | null = null;
beforeAll(async () => {
  if (HAS_CLICKHOUSE) server = await startClickHouse();
});
afterAll(async () => {
  await server?.stop();
});

async function sameAlerts(database: string, rulePaths: string[], inputs: string[]) {
  await server!.query(`CREATE DATABASE IF NOT EXISTS ${database}`);
  const table = await ClickHouseTable.open(`${server!.url}?database=${database}`);
  const first = await table.ingest(inputs);
  const again = await table.ingest(inputs);
  expect(again.files).toBe(0);
  expect(again.known).toBe(first.files + first.known);
  expect((await table.counts()).events).toBe(first.events);
  const { rules } = loadRules(rulePaths);
  const predicates = new Map([...rulePredicates(rulePaths)].map((p) => [`${p.file}\n${p.id}`, p]));
  const fromTable = await huntTable(table, rules, predicates);
  const skipped = new Set(fromTable.skipped.map((s) => s.id));
  const engine = new SigmaEngine(rules.filter((r) => !skipped.has(r.id)));
  const { events } = await readAllItems(await table.files());
  const streamed = events.flatMap((e) => engine.evaluate(normalize(e)));
  expect(fromTable.alerts.map(key).sort()).toEqual(streamed.map(key).sort());
  return { ...fromTable, events: first.events };
}

describe.skipIf(!HAS_CLICKHOUSE)('a Sigma hunt as SQL over events in ClickHouse 18.16', () => {
  it("the pack on the examples: the streamed hunt's alerts, ingest idempotent", async () => {
    const r = await sameAlerts('examples', [path.join(ROOT, 'rules', 'sigma')], [EXAMPLES]);
    expect(r.events).toBe(297);
    expect(r.ran).toBe(PACK_RULES);
    expect(r.alerts.length).toBeGreaterThan(30);
  });

  it('keyword searches (every value of the event) on the examples: the streamed alerts', async () => {
    const r = await sameAlerts(
      'keywords',
      [path.join(ROOT, 'test', 'fixtures', 'sigma-keywords')],
      [EXAMPLES],
    );
    expect(r.ran).toBe(3);
    expect(new Set(r.alerts.map((a) => a.rule.id)).size).toBe(3);
  });

  it.skipIf(!HAS_DATA)(
    'all of SigmaHQ on EVTX-ATTACK-SAMPLES: every rule runs, the same alerts',
    async () => {
      const sigma = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].map((d) =>
        path.join(DATA, 'sigma', d),
      );
      const r = await sameAlerts('attack', sigma, [path.join(DATA, 'evtx-attack-samples')]);
      const reasons = new Set(r.skipped.map((s) => s.reason.replace(/\(.*?\)/, '(…)')));
      process.stdout.write(
        `SigmaHQ as ClickHouse SQL on EVTX-ATTACK-SAMPLES: ${r.ran} rules ran in ${r.queries} queries, ${r.skipped.length} did not (${[...reasons].join('; ')}), ${r.alerts.length} alerts over ${r.events} events\n`,
      );
      expect(r.ran).toBe(3754);
      // Every rule runs on 18.16 (IPv6 ranges too).
      expect(r.skipped).toEqual([]);
      expect(r.alerts.length).toBeGreaterThan(1000);
    },
    900_000,
  );
});
