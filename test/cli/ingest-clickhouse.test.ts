/**
 * `lotl ingest --clickhouse` and `lotl hunt --clickhouse` from the command line, on two
 * clickhouse-server shards the test starts on loopback: each shard's tables made by `lotl ingest
 * --clickhouse SHARD` without paths, the examples ingested over the cluster (twice: the second
 * adds nothing), and the pack's rules as SQL over it give the streamed hunt's Sigma alerts.
 * Store options that do not go together are usage errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, sigmaAlertKeys, streamedExampleKeys } from '../helpers.js';
import { CLUSTER, type ClickHouse, HAS_CLICKHOUSE, startClickHouseCluster } from '../support/clickhouse.js';

let cluster: { shards: ClickHouse[]; stop(): Promise<void> } | null = null;
beforeAll(async () => {
  if (HAS_CLICKHOUSE) cluster = await startClickHouseCluster();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('lotl ingest and hunt --clickhouse', () => {
  it.skipIf(!HAS_CLICKHOUSE)(
    "over two shards: ingests once, and finds the streamed hunt's alerts",
    async () => {
      const [one, two] = cluster!.shards;
      const made = await runCli(['ingest', '--clickhouse', two.url]);
      expect(made.code, made.stderr).toBe(0);
      expect(made.stderr).toContain('0 events from 0 files');
      const first = await runCli([
        'ingest',
        '--no-progress',
        'examples/',
        '--clickhouse',
        one.url,
        '--cluster',
        CLUSTER,
      ]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toContain('297 events from 8 files');
      expect(first.stderr).toContain(`(cluster ${CLUSTER})`);
      const again = await runCli([
        'ingest',
        '--no-progress',
        'examples/',
        '--clickhouse',
        one.url,
        '--cluster',
        CLUSTER,
      ]);
      expect(again.stderr).toContain('8 files already stored, not read again');
      expect(again.stderr).toContain('holds 297 events from 8 files');
      const local = await Promise.all(
        [one, two].map(async (s) => Number((await s.query('SELECT count() FROM lotl_events')).trim())),
      );
      expect(Math.min(...local)).toBeGreaterThan(0);
      const hunted = await runCli([
        'hunt',
        '--clickhouse',
        one.url,
        '--cluster',
        CLUSTER,
        '--format',
        'jsonl',
      ]);
      expect(hunted.code, hunted.stderr).toBe(0);
      expect(hunted.stderr).toMatch(/25 rules ran as SQL \(\d+ queries\) over 297 events/);
      expect(sigmaAlertKeys(hunted.stdout)).toEqual(await streamedExampleKeys());
      expect(sigmaAlertKeys(hunted.stdout).length).toBeGreaterThan(30);
    },
    180_000,
  );

  it('store options that do not go together, and an unreachable server: said, exit 2', async () => {
    const both = await runCli([
      'ingest',
      'examples/',
      '--db',
      'x.duckdb',
      '--clickhouse',
      'http://127.0.0.1:9/',
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give one store');
    const lone = await runCli(['hunt', '--cluster', 'c', '--db', 'x.duckdb']);
    expect(lone.code).toBe(2);
    expect(lone.stderr).toContain('--cluster goes with --clickhouse');
    const down = await runCli(['ingest', 'examples/', '--clickhouse', 'http://127.0.0.1:9/']);
    expect(down.code).toBe(2);
    expect(down.stderr).toContain('cannot open http://127.0.0.1:9/');
    const notHttp = await runCli(['hunt', '--clickhouse', 'ftp://x/']);
    expect(notHttp.code).toBe(2);
    expect(notHttp.stderr).toContain('not an HTTP URL');
  });
});
