/**
 * `lotl ingest --clickhouse` and `lotl hunt --clickhouse` from the command line, on two
 * clickhouse-server shards the test starts on loopback: each shard's tables made by `lotl ingest
 * --clickhouse SHARD` without paths, the examples ingested over the cluster (twice: the second
 * adds nothing), and the pack's rules as SQL over it give the streamed hunt's Sigma alerts, and
 * `lotl report` over it the streamed hunt's answers.
 * Store options that do not go together are usage errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  answersKey,
  kqlAlertKeys,
  PACK_RULES,
  runCli,
  sigmaAlertKeys,
  streamedExamples,
} from '../helpers.js';
import { startServer } from '../server/server-process.js';
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
      expect(hunted.stderr).toMatch(
        new RegExp(`${PACK_RULES} rules and 6 KQL hunts ran as SQL \\(\\d+ queries\\) over 297 events`),
      );
      // The one hunt the SQL tree does not cover is said with its place, not counted as a problem.
      expect(hunted.stderr).toMatch(
        /potential-impacket-execution\.kql: KQL hunt not run on this store: 26:21: the expression ElementExpression/,
      );
      expect(hunted.stderr).toContain(', 0 rule problems');
      const streamed = await streamedExamples();
      expect(sigmaAlertKeys(hunted.stdout)).toEqual(sigmaAlertKeys(streamed));
      expect(sigmaAlertKeys(hunted.stdout).length).toBeGreaterThan(30);
      // The KQL hunts' alerts: the streamed hunt's (the impacket hunt finds nothing in the examples).
      expect(kqlAlertKeys(hunted.stdout)).toEqual(kqlAlertKeys(streamed));
      expect(kqlAlertKeys(hunted.stdout).length).toBeGreaterThanOrEqual(6);
      // The indicators and the correlate stage over the cluster's events, with the KQL hunts'
      // alerts: the streamed hunt's incidents, sign-ins and accounts to reset.
      const report = await runCli(['report', '--clickhouse', one.url, '--cluster', CLUSTER, '--no-progress']);
      expect(report.code, report.stderr).toBe(0);
      const streamedReport = await runCli(['report', '--no-progress', 'examples/']);
      expect(answersKey(report.stdout)).toEqual(answersKey(streamedReport.stdout));
      expect(JSON.parse(report.stdout).accounts.length).toBeGreaterThanOrEqual(3);

      // The advisory's KQL over the cluster's tables: the rows `lotl query` finds in the files.
      // (Two IFM commands; three alerts whose evidence is the FRP file: two hash matches and the
      // pack's proxy-configuration rule.)
      for (const [hunt, rows] of [
        ['volt-typhoon-find-commands-creating-domain-controller-installation-media.kql', 2],
        ['volt-typhoon-find-detections-of-custom-frp-executables.kql', 3],
      ] as const) {
        const file = `rules/hunts/${hunt}`;
        const onCluster = await runCli([
          'query',
          '-f',
          file,
          '--clickhouse',
          one.url,
          '--cluster',
          CLUSTER,
          '--format',
          'jsonl',
        ]);
        expect(onCluster.code, onCluster.stderr).toBe(0);
        const embedded = await runCli([
          'query',
          '-f',
          file,
          'examples/',
          '--format',
          'jsonl',
          '--no-progress',
        ]);
        const lines = (out: string) => out.split('\n').filter(Boolean).sort();
        expect(lines(onCluster.stdout)).toEqual(lines(embedded.stdout));
        expect(lines(onCluster.stdout).length).toBe(rows);
      }
      // What does not map to SQL: an error at its place, exit 2.
      const refused = await runCli([
        'query',
        'DeviceProcessEvents | where FileName =~ "ntdsutil.exe" | mv-expand x = dynamic([1])',
        '--clickhouse',
        one.url,
      ]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(
        'query:1:58: error the operator `mv-expand` is not supported on this store yet',
      );
      expect(refused.stderr).toContain(`${' '.repeat(57)}^^^^`);
    },
    180_000,
  );

  it.skipIf(!HAS_CLICKHOUSE)(
    'lotl serve over the cluster: reads what lotl ingest stored, and shards what it takes in',
    async () => {
      const [one, two] = cluster!.shards;
      const before = await Promise.all(
        [one, two].map(async (s) => Number((await s.query('SELECT count() FROM lotl_events')).trim())),
      );
      const server = await startServer(['--clickhouse', one.url, '--cluster', CLUSTER, '--no-kql']);
      try {
        const status = async () =>
          (await (await fetch(`${server.url}/api/status`)).json()) as { events: number };
        // The 297 events of examples/ the test above ingested, said to be undetected by the server.
        expect((await status()).events).toBe(297);
        expect(server.stderr()).toContain('297 of the stored events came from lotl ingest');
        const body = Array.from({ length: 40 }, (_, i) =>
          JSON.stringify({
            Event: {
              System: {
                Provider: { '#attributes': { Name: 'Microsoft-Windows-Sysmon' } },
                EventID: 1,
                EventRecordID: i,
                Channel: 'Microsoft-Windows-Sysmon/Operational',
                Computer: `HOST${i}`,
                TimeCreated: { '#attributes': { SystemTime: '2024-01-01T00:00:00.000Z' } },
              },
              EventData: {
                Image: 'C:\\Windows\\System32\\ntdsutil.exe',
                CommandLine: 'ntdsutil "ac i ntds" ifm "create full c:\\x" q q',
              },
            },
          }),
        ).join('\n');
        const r = await fetch(`${server.url}/api/ingest`, {
          method: 'POST',
          headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/x-ndjson' },
          body,
        });
        expect(await r.json()).toMatchObject({ committed: true, events: 40 });
        expect((await status()).events).toBe(337);
        // Sharded by host: each shard took some of the 40 hosts.
        const after = await Promise.all(
          [one, two].map(async (s) => Number((await s.query('SELECT count() FROM lotl_events')).trim())),
        );
        expect(after[0]).toBeGreaterThan(before[0]);
        expect(after[1]).toBeGreaterThan(before[1]);
        expect(after[0] + after[1]).toBe(before[0] + before[1] + 40);
        const q = await fetch(`${server.url}/api/query`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            query: 'DeviceProcessEvents | where FileName =~ "ntdsutil.exe" | count',
            limit: 10,
          }),
        });
        // The examples' ntdsutil starts (one as Sysmon, one in Defender's export) and the 40.
        const rows = ((await q.json()) as { rows: { Count: number }[] }).rows;
        expect(rows[0].Count).toBeGreaterThan(40);
      } finally {
        await server.stop();
      }
    },
    120_000,
  );

  it('lotl query --clickhouse: paths, --cluster alone, a syntax error, an unreachable server: said, exit 2', async () => {
    const withPaths = await runCli([
      'query',
      'SecurityEvent',
      'examples/',
      '--clickhouse',
      'http://127.0.0.1:9/',
    ]);
    expect(withPaths.code).toBe(2);
    expect(withPaths.stderr).toContain('lotl ingest --clickhouse URL PATHS');
    const cluster = await runCli(['query', 'SecurityEvent', 'examples/', '--cluster', 'x']);
    expect(cluster.code).toBe(2);
    expect(cluster.stderr).toContain('--cluster goes with --clickhouse');
    const syntax = await runCli(['query', 'SecurityEvent | where', '--clickhouse', 'http://127.0.0.1:9/']);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(/^query:1:\d+: error /m);
    const down = await runCli(['query', 'SecurityEvent | count', '--clickhouse', 'http://127.0.0.1:9/']);
    expect(down.code).toBe(2);
    expect(down.stderr).toContain('lotl query: cannot open http://127.0.0.1:9/');
    const explained = await runCli([
      'query',
      '--explain',
      'SecurityEvent | count',
      '--clickhouse',
      'http://127.0.0.1:9/',
    ]);
    expect(explained.code, explained.stderr).toBe(0);
    expect(explained.stdout).toMatch(/^SELECT .* FROM .*lotl_kql_SecurityEvent WHERE \(sha256, run\) IN/);
  });

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
