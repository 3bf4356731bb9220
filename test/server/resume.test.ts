/**
 * Uploads survive a stop: a server killed (SIGKILL) or stopped (SIGTERM) while it reads an upload
 * resumes the job, and those queued behind it, when it starts again on the same database. Every
 * event of each file ends up stored once: the batches committed before the stop are skipped by
 * their names, the rest read. Only the folders the server made are touched in the uploads folder.
 * The files are made here: Security 4688 events with record numbers that say which file and line.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/server/jobs.js';
import { processCreation, type RunningServer, startServer } from './server-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lotl-serve-resume-'));
const db = path.join(dir, 'resume.duckdb');
const uploads = `${db}.uploads`;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `count` events, record numbers from `first`. */
function jsonl(first: number, count: number): Buffer {
  const out: string[] = [];
  for (let record = first; record < first + count; record++)
    out.push(processCreation(record, 'WS1.corp.local'));
  return Buffer.from(`${out.join('\n')}\n`);
}

async function upload(server: RunningServer, name: string, body: Buffer): Promise<Job> {
  const res = await fetch(`${server.url}/api/uploads?name=${name}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(body),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as Job;
}

const jobsOf = async (server: RunningServer) =>
  (await (await fetch(`${server.url}/api/jobs`)).json()) as Job[];

/** Waits until `until` holds of the server's jobs (bounded). */
async function waitJobs(server: RunningServer, until: (jobs: Job[]) => boolean): Promise<Job[]> {
  for (let i = 0; i < 1_200; i++) {
    const jobs = await jobsOf(server);
    if (until(jobs)) return jobs;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the jobs did not get there: ${JSON.stringify(await jobsOf(server))}`);
}

/** Events stored, and distinct record numbers among them, with record numbers in [from, to). */
async function stored(from: number, to: number): Promise<{ n: number; records: number }> {
  const instance = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
  const c = await instance.connect();
  const [row] = (
    await c.runAndReadAll(
      `SELECT count(*) AS n, count(DISTINCT event->>'$.recordId') AS records FROM lotl_events
       WHERE CAST(event->>'$.recordId' AS BIGINT) >= ${from} AND CAST(event->>'$.recordId' AS BIGINT) < ${to}`,
    )
  ).getRowObjectsJson();
  c.closeSync();
  instance.closeSync();
  return { n: Number(row.n), records: Number(row.records) };
}

describe('lotl serve resumes uploads a stop cut short', () => {
  it.each([
    { stop: 'SIGKILL', base: 0 },
    { stop: 'SIGTERM', base: 1_000_000 },
  ])(
    'after a $stop mid-job: the job and the one queued behind it finish, each event stored once',
    async ({ stop, base }) => {
      const big = jsonl(base, 25_000);
      const small = jsonl(base + 500_000, 3_000);
      let server = await startServer(['--db', db]);
      const a = await upload(server, 'big.jsonl', big);
      const b = await upload(server, 'small.jsonl', small);
      // Stopped once the first batches are in, well before the 5 batches of the big file are.
      await waitJobs(server, (jobs) => {
        const job = jobs.find((j) => j.id === a.id);
        return job?.state === 'running' && job.events >= 5_000;
      });
      if (stop === 'SIGKILL') await server.kill();
      else await server.stop();
      const before = await stored(base, base + 25_000);
      expect(before.n).toBeGreaterThanOrEqual(5_000);
      expect(before.n).toBeLessThan(25_000);
      expect(before.n % 5_000).toBe(0); // whole batches only
      // Left in the uploads folder by the server: both uploads, each with its manifest. Put there
      // by hand: an upload that never arrived whole (no manifest), and a folder of the user's.
      expect(readdirSync(uploads).sort()).toEqual([a.id, `${a.id}.json`, b.id, `${b.id}.json`].sort());
      const partial = path.join(uploads, '0b7c6f0e-1d3a-4c55-9a8e-2f4b6c8d0e1f');
      mkdirSync(partial);
      writeFileSync(path.join(partial, 'half.jsonl'), '{"Event":');
      mkdirSync(path.join(uploads, 'notes'), { recursive: true });
      writeFileSync(path.join(uploads, 'notes', 'keep.txt'), 'mine');

      server = await startServer(['--db', db]);
      try {
        expect(server.stderr()).toMatch(/resuming 2 uploads a stop cut short: big\.jsonl, small\.jsonl/);
        expect(server.stderr()).toContain('never arrived whole');
        const jobs = await waitJobs(server, (js) => js.length === 2 && js.every((j) => j.state === 'done'));
        const resumedA = jobs.find((j) => j.id === a.id);
        const resumedB = jobs.find((j) => j.id === b.id);
        expect(resumedA).toMatchObject({ resumed: true, name: 'big.jsonl', events: 25_000, known: before.n });
        expect(resumedB).toMatchObject({ resumed: true, name: 'small.jsonl', events: 3_000, known: 0 });
      } finally {
        await server.stop();
      }
      expect(await stored(base, base + 25_000)).toEqual({ n: 25_000, records: 25_000 });
      expect(await stored(base + 500_000, base + 503_000)).toEqual({ n: 3_000, records: 3_000 });
      // The finished uploads and the partial one are gone; the user's folder is not.
      expect(readdirSync(uploads)).toEqual(['notes']);
      rmSync(path.join(uploads, 'notes'), { recursive: true });
    },
    120_000,
  );
});
