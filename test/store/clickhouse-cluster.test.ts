/**
 * A sharded ClickHouse store: two clickhouse-server processes on loopback, each a shard of one
 * cluster (test/support/clickhouse.ts), the events written through a Distributed table sharded by
 * host. Both shards hold some of them, and a hunt over the cluster gives exactly the alerts a
 * single server gives for the same files: the pack on the examples, and (with the shared data) a
 * third of SigmaHQ's process-creation rules on EVTX-ATTACK-SAMPLES.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alert, sourceRef } from '../../src/detect/alert.js';
import { rulePredicates } from '../../src/detect/sigma/convert.js';
import { loadRules } from '../../src/detect/sigma/load.js';
import { huntTable } from '../../src/hunt/table-hunt.js';
import { ClickHouseTable } from '../../src/store/clickhouse-table.js';
import { DATA, EXAMPLES, HAS_DATA, ROOT } from '../helpers.js';
import { CLUSTER, type ClickHouse, HAS_CLICKHOUSE, startClickHouseCluster } from '../support/clickhouse.js';

const key = (a: Alert) => `${a.rule.id} ${sourceRef(a.source)}`;

let cluster: { shards: ClickHouse[]; stop(): Promise<void> } | null = null;
beforeAll(async () => {
  if (HAS_CLICKHOUSE) cluster = await startClickHouseCluster();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

/** The same files and rules on the cluster (database `db` on both shards) and on one server. */
async function clusterAndSingle(db: string, rulePaths: string[], inputs: string[]) {
  const [one, two] = cluster!.shards;
  for (const s of [one, two]) await s.query(`CREATE DATABASE IF NOT EXISTS ${db}`);
  await one.query(`CREATE DATABASE IF NOT EXISTS ${db}_single`);
  // Each shard's local table, made by opening it once; then the cluster through the first.
  await ClickHouseTable.open(`${two.url}?database=${db}`);
  const sharded = await ClickHouseTable.open(`${one.url}?database=${db}&cluster=${CLUSTER}`);
  const single = await ClickHouseTable.open(`${one.url}?database=${db}_single`);
  const ingested = await sharded.ingest(inputs);
  expect((await sharded.ingest(inputs)).files).toBe(0);
  await single.ingest(inputs);
  const perShard = await Promise.all(
    [one, two].map(async (s) => Number((await s.query(`SELECT count() FROM ${db}.lotl_events`)).trim())),
  );
  const { rules } = loadRules(rulePaths);
  const predicates = new Map([...rulePredicates(rulePaths)].map((p) => [`${p.file}\n${p.id}`, p]));
  const fromCluster = await huntTable(sharded, rules, predicates);
  const fromSingle = await huntTable(single, rules, predicates);
  return { ingested, perShard, fromCluster, fromSingle, counts: await sharded.counts() };
}

describe.skipIf(!HAS_CLICKHOUSE)('two ClickHouse shards: the same answers as one server', () => {
  it('the pack on the examples', async () => {
    const r = await clusterAndSingle('examples', [path.join(ROOT, 'rules', 'sigma')], [EXAMPLES]);
    expect(r.counts.events).toBe(297);
    expect(r.perShard[0] + r.perShard[1]).toBe(297);
    // Sharded by host: both hold some (the examples come from several hosts).
    expect(Math.min(...r.perShard)).toBeGreaterThan(0);
    expect(r.fromCluster.alerts.length).toBeGreaterThan(30);
    expect(r.fromCluster.alerts.map(key).sort()).toEqual(r.fromSingle.alerts.map(key).sort());
  }, 120_000);

  it.skipIf(!HAS_DATA)(
    "a third of SigmaHQ's process-creation rules on EVTX-ATTACK-SAMPLES",
    async () => {
      const dir = path.join(DATA, 'sigma', 'rules', 'windows', 'process_creation');
      const sigma = readdirSync(dir)
        .sort()
        .filter((_, i) => i % 3 === 1)
        .map((f) => path.join(dir, f));
      const r = await clusterAndSingle('attack', sigma, [path.join(DATA, 'evtx-attack-samples')]);
      process.stdout.write(
        `Two shards: ${r.perShard.join(' + ')} events; ${r.fromCluster.ran} rules, ${r.fromCluster.alerts.length} alerts (one server: ${r.fromSingle.alerts.length})\n`,
      );
      expect(Math.min(...r.perShard)).toBeGreaterThan(0);
      expect(r.fromCluster.alerts.length).toBeGreaterThan(50);
      expect(r.fromCluster.alerts.map(key).sort()).toEqual(r.fromSingle.alerts.map(key).sort());
    },
    600_000,
  );
});
