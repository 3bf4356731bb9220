/**
 * `lotl ingest --db` and `lotl hunt --db`: the examples into a DuckDB file (twice: the second adds
 * nothing), then the pack's Sigma rules as SQL over it — the same Sigma alerts as the streamed
 * hunt, written the same way. Usage errors are said, with exit status 2.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACK_RULES, runCli, sigmaAlertKeys, streamedExampleKeys } from '../helpers.js';

describe('lotl ingest --db and lotl hunt --db', () => {
  it("ingests once, hunts with SQL, and finds the streamed hunt's Sigma alerts", async () => {
    const db = path.join(mkdtempSync(path.join(tmpdir(), 'lotl-db-')), 'events.duckdb');
    const first = await runCli(['ingest', '--no-progress', 'examples/', '--db', db]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('297 events from 8 files');
    const again = await runCli(['ingest', '--no-progress', 'examples/', '--db', db]);
    expect(again.stderr).toContain('0 events from 0 files');
    expect(again.stderr).toContain('8 files already stored, not read again');
    expect(again.stderr).toContain('holds 297 events from 8 files');
    const fromDb = await runCli(['hunt', '--db', db, '--format', 'jsonl']);
    expect(fromDb.code, fromDb.stderr).toBe(0);
    expect(fromDb.stderr).toMatch(
      new RegExp(`${PACK_RULES} rules ran as SQL \\(\\d+ queries\\) over 297 events`),
    );
    expect(sigmaAlertKeys(fromDb.stdout)).toEqual(await streamedExampleKeys());
    expect(sigmaAlertKeys(fromDb.stdout).length).toBeGreaterThan(30);
  });

  it('PATHS and --db together, a missing database, no inputs: usage errors', async () => {
    const both = await runCli(['hunt', '--db', 'x.duckdb', 'examples/']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give either PATHS or a store');
    const missing = await runCli(['hunt', '--db', path.join(tmpdir(), 'lotl-no-such.duckdb')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('lotl ingest PATHS --db FILE makes it');
    const none = await runCli(['hunt']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no inputs');
  });
});
