/**
 * `lotl ingest --db` and `lotl hunt --db`: the examples into a DuckDB file (twice: the second adds
 * nothing), then the pack's Sigma rules as SQL over it — the same Sigma alerts as the streamed
 * hunt, written the same way — and the indicators and the correlate stage over its events: the
 * streamed hunt's alerts and answers (`lotl report --db`). Usage errors are said, with exit status 2.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { allAlertKeys, PACK_RULES, runCli, sigmaAlertKeys, streamedExampleKeys } from '../helpers.js';

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
    const layer = path.join(path.dirname(db), 'layer.json');
    const fromDb = await runCli(['hunt', '--db', db, '--format', 'jsonl', '--navigator', layer]);
    expect(fromDb.code, fromDb.stderr).toBe(0);
    expect(fromDb.stderr).toMatch(
      new RegExp(`${PACK_RULES} rules ran as SQL \\(\\d+ queries\\) over 297 events`),
    );
    expect(sigmaAlertKeys(fromDb.stdout)).toEqual(await streamedExampleKeys());
    expect(sigmaAlertKeys(fromDb.stdout).length).toBeGreaterThan(30);
    // The ATT&CK Navigator layer of the store's alerts.
    const techniques = JSON.parse(readFileSync(layer, 'utf8')).techniques as { techniqueID: string }[];
    expect(techniques.map((t) => t.techniqueID)).toContain('T1003.001');

    // The indicators and the correlate stage over the store: the streamed hunt's alerts of every
    // kind (indicators, bursts of discovery), incidents, sign-ins and accounts to reset (the KQL
    // hunts left out of the stream: a DuckDB file keeps no KQL tables).
    expect(fromDb.stderr).toContain('then indicators and the correlate stage over every stored event');
    expect(fromDb.stderr).toContain('lotl hunt: 1 incidents');
    const streamed = await runCli(['hunt', '--no-kql', '--no-progress', '--format', 'jsonl', 'examples/']);
    expect(allAlertKeys(fromDb.stdout)).toEqual(allAlertKeys(streamed.stdout));
    const kinds = new Set(
      fromDb.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).rule.kind),
    );
    expect([...kinds].sort()).toEqual(['correlation', 'ioc', 'sigma']);
    const html = path.join(path.dirname(db), 'report.html');
    const report = await runCli(['report', '--db', db, '--format', 'json', '--html', html]);
    expect(report.code, report.stderr).toBe(0);
    const streamedReport = await runCli(['report', '--no-kql', '--no-progress', 'examples/']);
    // Read in the order they went in (the stream's): the very same document.
    expect(report.stdout).toBe(streamedReport.stdout);
    expect(JSON.parse(report.stdout).incidents).toHaveLength(1);
    expect(readFileSync(html, 'utf8')).toContain('svc-fortinet');

    // The page's rules that could not apply (no event of their log source): a store of the Sysmon
    // file alone lists the stream's.
    const sysmonDb = path.join(path.dirname(db), 'sysmon.duckdb');
    const sysmon = 'examples/sysmon-fs02-ws07.jsonl';
    expect((await runCli(['ingest', '--no-progress', sysmon, '--db', sysmonDb])).code).toBe(0);
    const unreached = (file: string) =>
      /<h4>No event of their log source[\s\S]*?(?=<h3>|<\/section>)/.exec(readFileSync(file, 'utf8'))?.[0];
    const fromStore = path.join(path.dirname(db), 'sysmon-store.html');
    const fromStream = path.join(path.dirname(db), 'sysmon-stream.html');
    await runCli(['report', '--db', sysmonDb, '--html', fromStore]);
    await runCli(['report', '--no-kql', '--no-progress', '--html', fromStream, sysmon]);
    expect(unreached(fromStore)).toMatch(/No event of their log source \([1-9]\d* Sigma rules\)/);
    expect(unreached(fromStore)).toBe(unreached(fromStream));
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
    for (const args of [
      ['report'],
      ['report', '--db', 'x.duckdb', 'examples/'],
      ['report', '--cluster', 'c'],
    ]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(
        /no inputs|either PATHS or a store|--cluster goes with --clickhouse|give one store/,
      );
    }
  });
});
