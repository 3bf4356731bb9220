/**
 * Correlation windows outlive a restart: the server keeps the matches that fed them with their
 * batch, and opens the windows again when it starts. The pack's "Registry Hives Saved, Then Moved"
 * (a hive saved, then on the same host within an hour moved) is fed its first step, the server is
 * SIGKILLed and started again on the same store, then fed the second step: the correlation fires.
 * On a second host the second step comes two hours after the first: the restored window has let
 * it go, and nothing fires. (The windows opened again are those of the longest timespan among the
 * correlations: the pack's port-proxy one, a day.) On the DuckDB file and on a ClickHouse server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { type ClickHouse, HAS_CLICKHOUSE, startClickHouse } from '../support/clickhouse.js';
import { type RunningServer, startServer } from './server-process.js';

const CORRELATION = '3c1b9f0e-6a2d-5e41-8f7c-2d9e4b1a6c02';
const dir = mkdtempSync(path.join(tmpdir(), 'lotl-serve-corr-'));
let clickhouse: ClickHouse | undefined;

afterAll(async () => {
  await clickhouse?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let record = 0;
/** A Sysmon process creation on `host` at `time`. */
function sysmon1(host: string, time: string, image: string, commandLine: string): string {
  return JSON.stringify({
    Event: {
      System: {
        Provider: { '#attributes': { Name: 'Microsoft-Windows-Sysmon' } },
        EventID: 1,
        EventRecordID: ++record,
        Channel: 'Microsoft-Windows-Sysmon/Operational',
        Computer: host,
        TimeCreated: { '#attributes': { SystemTime: time } },
      },
      EventData: { Image: image, CommandLine: commandLine, User: 'CORP\\jdoe' },
    },
  });
}
const REG = 'C:\\Windows\\System32\\reg.exe';
const CMD = 'C:\\Windows\\System32\\cmd.exe';
const save = (host: string, time: string) =>
  sysmon1(host, time, REG, 'reg save hklm\\sam C:\\Windows\\Temp\\sam.save');
const move = (host: string, time: string) =>
  sysmon1(
    host,
    time,
    CMD,
    'cmd.exe /c move C:\\Windows\\Temp\\sam.save \\\\10.0.0.9\\c$\\users\\public\\sam.save',
  );

async function ingest(server: RunningServer, key: string, lines: string[]): Promise<void> {
  const res = await fetch(`${server.url}/api/ingest`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${server.token}`,
      'content-type': 'application/x-ndjson',
      'idempotency-key': key,
    },
    body: lines.join('\n'),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

const STORES = [
  { name: 'DuckDB', available: true, args: async () => ['--db', path.join(dir, 'corr.duckdb')] },
  {
    name: 'ClickHouse',
    available: HAS_CLICKHOUSE,
    args: async () => {
      clickhouse = await startClickHouse();
      return ['--clickhouse', clickhouse.url];
    },
  },
];

describe.each(STORES)('lotl serve correlation windows across a restart, on $name', ({ available, args }) => {
  it.skipIf(!available)(
    'fires on a sequence a SIGKILL cut in two, within its timespan only',
    async () => {
      const storeArgs = await args();
      let server = await startServer([...storeArgs, '--no-kql']);
      await ingest(server, 'first-steps', [
        save('WS1.corp.local', '2024-03-01T10:00:00.000Z'),
        save('WS2.corp.local', '2024-03-01T10:00:00.000Z'),
      ]);
      await server.kill();
      server = await startServer([...storeArgs, '--no-kql']);
      try {
        expect(server.stderr()).toContain('correlation windows opened again from 2 matches of the last 1 d');
        await ingest(server, 'second-steps', [
          move('WS1.corp.local', '2024-03-01T10:05:00.000Z'),
          move('WS2.corp.local', '2024-03-01T12:30:00.000Z'),
        ]);
        const res = await fetch(`${server.url}/api/alerts?rule=${CORRELATION}`);
        const { alerts } = (await res.json()) as { alerts: Alert[] };
        expect(alerts.map((a) => [a.rule.title, a.host?.split('.')[0]])).toEqual([
          ['Registry Hives Saved, Then Moved', 'WS1'],
        ]);
      } finally {
        await server.stop();
      }
    },
    90_000,
  );
});
