/**
 * The server's correlate stage, fed batch by batch as the scenario's files are uploaded, answers
 * as `lotl report` does over the same files; started again on the same database, it is given the
 * stored events at once and answers the same. On a DuckDB file (the store's replay is by time, the
 * uploads' order is the user's: the answers do not depend on it).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { answersKey, EXAMPLES, runCli } from '../helpers.js';
import { SCENARIO_FILES, serverAnswers, startServer } from './server-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lotl-serve-answers-'));
const db = path.join(dir, 'answers.duckdb');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lotl serve answers, fed batch by batch and after a restart', () => {
  it('equal lotl report’s over the same files, before and after a restart', async () => {
    let server = await startServer(['--db', db, '--no-kql']);
    try {
      for (const f of SCENARIO_FILES) {
        const res = await fetch(`${server.url}/api/uploads?name=${encodeURIComponent(path.basename(f))}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/octet-stream' },
          body: new Uint8Array(readFileSync(path.join(EXAMPLES, f))),
        });
        expect(res.status).toBe(202);
      }
      for (let i = 0; i < 400; i++) {
        const jobs = (await (await fetch(`${server.url}/api/jobs`)).json()) as { state: string }[];
        if (jobs.length === SCENARIO_FILES.length && jobs.every((j) => j.state === 'done')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const live = await serverAnswers(server);
      const report = await runCli(['report', '--no-kql', '--no-progress', 'examples/']);
      expect(report.code, report.stderr).toBe(0);
      // The server knows each file by the name it was uploaded under, `lotl report` by its path.
      const byName = (text: string) => text.replace(/examples\/(defender\/)?/g, '');
      expect(live).toEqual(byName(answersKey(report.stdout)));
      await server.stop();
      server = await startServer(['--db', db, '--no-kql']);
      expect(server.stderr()).toMatch(/297 stored events correlated in [\d.]+ s/);
      expect(await serverAnswers(server)).toEqual(live);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
