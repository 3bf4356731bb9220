/**
 * Golden outputs of the scenario: `lotl hunt --format timesketch` (one Timesketch event per alert)
 * and `--navigator FILE` (an ATT&CK Navigator layer). The golden files are in test/golden/;
 * after an intended change, regenerate them with `UPDATE_GOLDEN=1 npx vitest run test/report/outputs.test.ts`
 * and read the diff. The repository's own path is written `<repo>` (KQL alerts name their .kql file).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers.js';

const GOLDEN = path.join(ROOT, 'test', 'golden');
const portable = (text: string) => text.split(ROOT).join('<repo>');

function golden(name: string, actual: string): void {
  const file = path.join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

describe('alert outputs', () => {
  it('the table: one line per alert with its details, repeats folded, informational signals left out (golden)', async () => {
    const table = await runCli(['hunt', '--no-progress', 'examples/']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain(
      'LSASS Memory Dump Via Comsvcs.dll MiniDump [Defender: Password hashes dumped from LSASS memory]  decoded: cmd.exe /c rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 652',
    );
    // One process seen by Sysmon and by Defender: one line, its count shown.
    expect(table.stdout).toMatch(/Archive Created With A Password {2}\(×2\) {2}cmd: /);
    expect(table.stderr).toContain('5 repeated alerts folded into the table');
    golden('examples.table.txt', portable(table.stdout));
  });

  it('--group-by rule: one row per rule, most severe and most frequent first (golden); other values refused', async () => {
    const grouped = await runCli(['hunt', '--no-progress', '--group-by', 'rule', 'examples/']);
    expect(grouped.code, grouped.stderr).toBe(0);
    const rows = grouped.stdout.trim().split('\n').slice(2);
    expect(rows[0]).toMatch(
      /^critical +2 +1 +2023-05-16T13:30:00\.000Z +2023-05-16T13:35:00\.000Z +Domain Controller Installation Media Created With Ntdsutil/,
    );
    expect(rows.some((r) => r.includes('(Signal)'))).toBe(false);
    golden('examples.by-rule.txt', portable(grouped.stdout));
    const bad = await runCli(['hunt', '--no-progress', '--group-by', 'host', 'examples/']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--group-by must be rule');
  });

  it("--format csv, --format jsonl and the report's JSON answers (golden)", async () => {
    const csv = await runCli(['hunt', '--no-progress', '--format', 'csv', 'examples/']);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout.split('\n')[0]).toMatch(/^time,level,/);
    golden('examples.alerts.csv', portable(csv.stdout));
    const jsonl = await runCli(['hunt', '--no-progress', '--format', 'jsonl', 'examples/']);
    expect(jsonl.code, jsonl.stderr).toBe(0);
    expect(jsonl.stdout.trim().split('\n')).toHaveLength(57);
    golden('examples.alerts.jsonl', portable(jsonl.stdout));
    const report = await runCli(['report', '--no-progress', 'examples/']);
    expect(report.code, report.stderr).toBe(0);
    expect(Object.keys(JSON.parse(report.stdout))).toEqual(['incidents', 'accounts', 'signins', 'coverage']);
    golden('examples.report.json', portable(report.stdout));
  });

  it('--format timesketch: one event per timed alert with message, datetime and timestamp_desc (golden)', async () => {
    const ts = await runCli(['hunt', '--no-progress', '--format', 'timesketch', 'examples/']);
    expect(ts.code, ts.stderr).toBe(0);
    const events = ts.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const jsonl = await runCli(['hunt', '--no-progress', '--format', 'jsonl', 'examples/']);
    expect(events).toHaveLength(jsonl.stdout.trim().split('\n').length);
    for (const e of events) {
      expect(typeof e.message).toBe('string');
      expect(e.datetime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(e.timestamp).toBe(Date.parse(e.datetime) * 1000);
      expect(e.timestamp_desc).toBe('Alert time (lotl)');
    }
    golden('examples.timesketch.jsonl', portable(ts.stdout));
  });

  it('--navigator FILE: techniques scored by alerts, the rules as comments, parents unfolded (golden)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lotl-nav-'));
    const file = path.join(dir, 'layer.json');
    const run = await runCli([
      'hunt',
      '--no-progress',
      '--format',
      'jsonl',
      '--navigator',
      file,
      'examples/',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/ATT&CK Navigator layer of \d+ techniques written to /);
    const text = readFileSync(file, 'utf8');
    const layer = JSON.parse(text);
    expect(layer).toMatchObject({ domain: 'enterprise-attack', versions: { layer: '4.5' } });
    const byId = new Map(layer.techniques.map((t: { techniqueID: string }) => [t.techniqueID, t]));
    // ntdsutil's install media: the pack's rule, the ESENT copies, and the KQL hunts, on DC01.
    expect(byId.get('T1003.003')).toMatchObject({ score: 9 });
    // T1003 itself raised nothing; it is there to unfold its scored sub-techniques.
    expect(byId.get('T1003')).toEqual({ techniqueID: 'T1003', enabled: true, showSubtechniques: true });
    golden('examples.navigator.json', text);
    // The same layer from `lotl report`, which writes no alerts.
    const again = path.join(dir, 'again.json');
    const report = await runCli(['report', '--no-progress', '--navigator', again, 'examples/']);
    expect(report.code, report.stderr).toBe(0);
    expect(readFileSync(again, 'utf8')).toBe(
      text.replace('"lotl hunt"', '"lotl report"').replace('of lotl hunt', 'of lotl report'),
    );
  });

  it('a Navigator file that cannot be written is said, and the hunt exits 2', async () => {
    const run = await runCli([
      'hunt',
      '--no-progress',
      '--format',
      'jsonl',
      '--navigator',
      '/nonexistent-dir/layer.json',
      'examples/',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cannot write the Navigator layer /nonexistent-dir/layer.json');
  });
});
