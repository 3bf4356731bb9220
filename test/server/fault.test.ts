/**
 * The server killed mid-stream: a client streams NDJSON batches to `lotl serve` for 60 s
 * (LOTL_FAULT_SECONDS), each under its own Idempotency-Key, retrying a batch until it is
 * acknowledged; once, the server is SIGKILLed and started again on the same database. Afterwards
 * every acknowledged batch is stored exactly once: all its events, none twice, nothing else.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { processCreation, type RunningServer, startServer } from './server-process.js';

const SECONDS = Number(process.env.LOTL_FAULT_SECONDS ?? 60);
const BATCH = 200;
const dir = mkdtempSync(path.join(tmpdir(), 'lotl-serve-fault-'));
const db = path.join(dir, 'fault.duckdb');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Batch k: BATCH Security 4688 events, record numbers k*BATCH.., every one different. */
function batch(k: number): string {
  const out: string[] = [];
  for (let i = 0; i < BATCH; i++) out.push(processCreation(k * BATCH + i, `WS${k % 7}.corp.local`));
  return out.join('\n');
}

describe('lotl serve under a SIGKILL', () => {
  it(
    `stores every acknowledged event exactly once (${SECONDS} s of streaming, one kill and restart)`,
    async () => {
      let server: RunningServer = await startServer(['--db', db]);
      const acked = new Set<number>();
      let retries = 0;
      let killed = false;
      const started = Date.now();
      const killAt = started + (SECONDS * 1000) / 3;
      let restarting: Promise<void> | null = null;
      for (let k = 0; Date.now() - started < SECONDS * 1000; k++) {
        const body = batch(k);
        for (;;) {
          if (!killed && Date.now() >= killAt) {
            killed = true;
            // The kill lands while a batch is on its way (not awaited before it is sent).
            const victim = server;
            restarting = (async () => {
              await new Promise((r) => setTimeout(r, 5));
              await victim.kill();
              server = await startServer(['--db', db]);
            })();
          }
          try {
            const res = await fetch(`${server.url}/api/ingest`, {
              method: 'POST',
              headers: {
                authorization: `Bearer ${server.token}`,
                'content-type': 'application/x-ndjson',
                'idempotency-key': `f-${k}`,
              },
              body,
            });
            const json = (await res.json()) as { committed?: boolean; events?: number };
            if (res.status === 200 && json.committed && json.events === BATCH) {
              acked.add(k);
              break;
            }
          } catch {
            // Refused or cut: the server is down; retry the same batch.
          }
          retries++;
          if (restarting) await restarting;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      const seconds = (Date.now() - started) / 1000;
      await server.stop();
      expect(killed).toBe(true);
      expect(retries).toBeGreaterThan(0);

      const instance = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
      const c = await instance.connect();
      const rows = (
        await c.runAndReadAll(
          "SELECT sha256 AS batch, count(*) AS n, count(DISTINCT event->>'$.recordId') AS records FROM lotl_events GROUP BY sha256",
        )
      ).getRowObjectsJson();
      const [totals] = (
        await c.runAndReadAll(
          "SELECT count(*) AS n, count(DISTINCT event->>'$.recordId') AS records FROM lotl_events",
        )
      ).getRowObjectsJson();
      c.closeSync();
      instance.closeSync();
      const stored = new Map(rows.map((r) => [String(r.batch), Number(r.n)]));
      expect([...stored.keys()].sort()).toEqual([...acked].map((k) => `ingest:f-${k}`).sort());
      for (const r of rows)
        expect([r.batch, Number(r.n), Number(r.records)]).toEqual([r.batch, BATCH, BATCH]);
      expect(Number(totals.n)).toBe(acked.size * BATCH);
      expect(Number(totals.records)).toBe(acked.size * BATCH);
      process.stderr.write(
        `\nlotl serve fault test: ${(acked.size * BATCH).toLocaleString('en-US')} events in ${acked.size} batches acknowledged in ${seconds.toFixed(1)} s (${Math.round((acked.size * BATCH) / seconds).toLocaleString('en-US')} events/s with one kill and restart), ${retries} retries; each stored once\n`,
      );
    },
    (SECONDS + 90) * 1000,
  );
});
