/**
 * KQL on ClickHouse 18.16 (a clickhouse-server the test starts on loopback): the examples ingested
 * with the pack's alerts, every query of the portable set and the advisory's hunting queries
 * compiled to the SQL tree and run on the server return exactly the embedded compiler's rows on
 * DuckDB; a hostile literal stays a value; the server's row limit stops a query with a clear error.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ruleCache } from '../../src/cli/commands/sigma-options.js';
import { loadStore } from '../../src/cli/load-store.js';
import { builtinDetectors } from '../../src/hunt/builtin.js';
import { ClickHouseTable } from '../../src/store/clickhouse-table.js';
import type { EventStore } from '../../src/store/duckdb.js';
import { EXAMPLES, ROOT } from '../helpers.js';
import { type ClickHouse, HAS_CLICKHOUSE, startClickHouse } from '../support/clickhouse.js';
import { referenceRows, treeRows, unordered } from '../support/kql-rows.js';
import { NOW, PORTABLE_QUERIES } from '../support/portable-kql.js';

let server: ClickHouse | null = null;
let table: ClickHouseTable;
let store: EventStore;
const LIMITS = { maxRows: 10_000, timeoutMs: 60_000 };

beforeAll(async () => {
  if (!HAS_CLICKHOUSE) return;
  server = await startClickHouse();
  table = await ClickHouseTable.open(server.url);
  const detectors = builtinDetectors(ruleCache());
  await table.ingest([EXAMPLES], { alerts: (view) => detectors.flatMap((d) => d.evaluate(view)) });
  ({ store } = await loadStore([EXAMPLES], { alerts: true }));
}, 120_000);
afterAll(async () => {
  store?.close();
  await server?.stop();
});

describe.skipIf(!HAS_CLICKHOUSE)('KQL compiled to the SQL tree, on ClickHouse 18.16', () => {
  for (const [name, query] of Object.entries(PORTABLE_QUERIES))
    it(`${name}: the embedded compiler's rows`, async () => {
      const { rows } = await treeRows((q) => table.kql(q, LIMITS), query, NOW);
      expect(rows).toEqual(await referenceRows(store, query, NOW));
    });

  it("the advisory's hunting queries that map: the same rows", async () => {
    const hunts = path.join(ROOT, 'rules', 'hunts');
    let rows = 0;
    for (const file of readdirSync(hunts).filter((f) => f !== 'potential-impacket-execution.kql')) {
      const query = readFileSync(path.join(hunts, file), 'utf8');
      const got = await treeRows((q) => table.kql(q, LIMITS), query, NOW);
      // (Their rows come in no particular order.)
      expect(unordered(got.rows), file).toEqual(unordered(await referenceRows(store, query, NOW)));
      rows += got.rows.length;
    }
    // ntdsutil (2 queries), the internal proxy, the FRP hashes in AlertEvidence.
    expect(rows).toBeGreaterThanOrEqual(8);
  });

  it('a hostile string literal is a value, and the tables are still there', async () => {
    const hostile = "x'); DROP TABLE lotl_files; --\\'\u0001\n`";
    const query = `SecurityEvent | take 1 | extend S = ${JSON.stringify(hostile)} | project S, Same = S == ${JSON.stringify(hostile)}`;
    const { rows } = await treeRows((q) => table.kql(q, LIMITS), query, NOW);
    expect(rows).toEqual([{ S: hostile, Same: true }]);
    expect((await table.counts()).files).toBe(8);
  });

  it('more rows than the limit: the server stops the query and says so', async () => {
    await expect(
      treeRows((q) => table.kql(q, { maxRows: 5, timeoutMs: 60_000 }), 'SecurityEvent', NOW),
    ).rejects.toThrow(/Limit for result exceeded/);
  });
});
