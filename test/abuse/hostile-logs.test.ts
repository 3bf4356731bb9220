/**
 * Abuse suite, hostile logs: one event must never stop a hunt or hide a file. Each case is made
 * here, small, next to a good event that must still be read: a 6,000-deep JSON array, a lone
 * UTF-16 surrogate, a JSON-lines file that starts with 300 KB of blank lines, a gzip'd CSV whose
 * quoted field never ends, and escape sequences in fields and file names.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { csvCell } from '../../src/report/alerts.js';
import { printable } from '../../src/report/terminal-text.js';
import { wellFormedJson } from '../../src/store/duckdb.js';
import { runCli } from '../helpers.js';

const root = mkdtempSync(path.join(tmpdir(), 'lotl-abuse-logs-'));

/** A Security 4688 event as flat JSON; the IFM command line raises the pack's critical rule. */
function event(minute: number, host: string, command: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    EventID: 4688,
    Channel: 'Security',
    Computer: host,
    TimeCreated: `2023-05-16T13:${String(minute).padStart(2, '0')}:00Z`,
    NewProcessName: 'C:\\Windows\\System32\\ntdsutil.exe',
    CommandLine: command,
    ...extra,
  });
}
const IFM = 'ntdsutil "ac i ntds" ifm "create full c:\\temp" q q';

function folder(name: string, files: Record<string, string | Buffer>): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, content] of Object.entries(files)) writeFileSync(path.join(dir, f), content);
  return dir;
}

describe('one hostile event does not stop the hunt', () => {
  const deep = `{"EventID":4688,"Channel":"Security","Computer":"DEEP","TimeCreated":"2023-05-16T13:00:00Z","CommandLine":"x","Nested":${'['.repeat(6000)}${']'.repeat(6000)}}`;
  const dir = folder('deep', { 'a.jsonl': `${deep}\n${event(1, 'GOOD', IFM)}\n` });

  it('a 6,000-deep array is cut and reported at its line; hunt --format jsonl and dump still write every event', async () => {
    const hunt = await runCli(['hunt', '--format', 'jsonl', '--no-kql', dir]);
    expect(hunt.stderr).toContain('a.jsonl:1: CUT_VALUE');
    expect(hunt.stderr).not.toMatch(/RangeError|Maximum call stack/);
    const alerts = hunt.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(alerts.some((a) => a.host === 'GOOD' && a.rule.level === 'critical')).toBe(true);
    const dump = await runCli(['dump', dir]);
    const events = dump.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events).toHaveLength(2);
    expect(JSON.stringify(events[0])).toContain('[cut: nested deeper than 64 levels]');
  });

  it('a lone surrogate does not abort hunt or query (the DuckDB store replaces it with U+FFFD)', async () => {
    const lone = `{"EventID":4688,"Channel":"Security","Computer":"LONE","TimeCreated":"2023-05-16T13:02:00Z","NewProcessName":"C:\\\\x.exe","CommandLine":"whoami \\ud800 /all"}`;
    const d = folder('surrogate', { 'a.jsonl': `${lone}\n${event(3, 'GOOD', IFM)}\n` });
    const query = await runCli([
      'query',
      '--format',
      'jsonl',
      'SecurityEvent | project Computer, CommandLine',
      d,
    ]);
    expect(query.code, query.stderr).toBe(0);
    const rows = query.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => r.Computer)).toEqual(['LONE', 'GOOD']);
    expect(rows[0].CommandLine).toBe('whoami \ufffd /all');
    // The pack's KQL hunts fill the same store.
    const hunt = await runCli(['hunt', '--format', 'jsonl', d]);
    expect(hunt.code, hunt.stderr).toBe(0);
    expect(hunt.stdout).toContain('"host":"GOOD"');
  });

  it('wellFormedJson replaces only lone surrogates, not an escaped backslash before u', () => {
    expect(wellFormedJson(JSON.stringify('a\ud800b'))).toBe('"a\\ufffdb"');
    expect(wellFormedJson(JSON.stringify('\\ud800'))).toBe(JSON.stringify('\\ud800'));
    expect(wellFormedJson(JSON.stringify('\ud83d\ude00'))).toBe(JSON.stringify('\ud83d\ude00'));
    expect(wellFormedJson(JSON.stringify('\\\ud800'))).toBe('"\\\\\\ufffd"');
  });

  it('a JSON-lines file that starts with 300 KB of blank lines is read, with its line numbers', async () => {
    const d = folder('blank-head', { 'late.jsonl': `${'\n'.repeat(300_000)}${event(4, 'LATE', IFM)}\n` });
    const stats = await runCli(['stats', '--format', 'json', d]);
    expect(stats.code, stats.stderr).toBe(0);
    const report = JSON.parse(stats.stdout);
    expect(report.events).toBe(1);
    expect(report.skipped).toHaveLength(0);
    const dump = await runCli(['dump', d]);
    expect(JSON.parse(dump.stdout).origin.line).toBe(300_001);
  });

  it('a .csv.gz whose quoted field never ends stops at 16 MB with a located problem; the next file is read', async () => {
    const head =
      'Timestamp,DeviceName,ProcessCommandLine\n2023-05-16T13:30:00Z,DC01,whoami\n2023-05-16T13:31:00Z,DC01,"';
    const runaway = gzipSync(Buffer.concat([Buffer.from(head), Buffer.alloc(40 * 1024 * 1024, 0x41)]));
    const d = folder('runaway-csv', {
      'DeviceProcessEvents.csv.gz': runaway,
      'z.jsonl': `${event(5, 'AFTER', IFM)}\n`,
    });
    const stats = await runCli(['stats', '--format', 'json', d]);
    expect(stats.code).toBe(2);
    const report = JSON.parse(stats.stdout);
    expect(report.events).toBe(2);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ line: 3, code: 'BAD_CSV' });
    expect(report.problems[0].message).toContain('longer than 16 MB');
  });
});

describe('what lotl prints is safe to print', () => {
  it('escape sequences in fields and file names reach the terminal as visible escapes', async () => {
    const evil = 'cmd /c \u001b]0;owned\u0007\u001b[2J\u202etxt.exe';
    const d = folder('escapes', { 'x\u001b[31m.jsonl': `${event(6, 'H\u001b[8mIDE', `${IFM} ${evil}`)}\n` });
    const hunt = await runCli(['hunt', '--no-progress', '--no-kql', d]);
    const query = await runCli(['query', 'SecurityEvent | project Computer, CommandLine', d]);
    const stats = await runCli(['stats', '--per-file', d]);
    for (const out of [hunt.stdout, hunt.stderr, query.stdout, stats.stdout])
      expect(out).not.toMatch(/[\u001b\u0007\u202e]/);
    expect(hunt.stdout).toContain('H\\x1b[8mIDE');
    expect(query.stdout).toContain('\\x1b');
    expect(stats.stdout).toContain('x\\x1b[31m.jsonl');
    expect(printable('a\u202eb\r\nc\u0085')).toBe('a\\u202eb\\r\\nc\\x85');
  });

  it('CSV output neutralises spreadsheet formulas and keeps numbers', async () => {
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    for (const f of ['+cmd', '-2+3', '@SUM(A1)', '\tx', '\rx'])
      expect(csvCell(f).replace(/^"/, '')[0]).toBe("'");
    expect(csvCell('-5')).toBe('-5');
    expect(csvCell('1e3')).toBe('1e3');
    const d = folder('formula', { 'a.jsonl': `${event(7, '=HYPERLINK("http://evil","click")', IFM)}\n` });
    const hunt = await runCli(['hunt', '--format', 'csv', '--no-kql', d]);
    expect(hunt.stdout).toContain(`"'=HYPERLINK(""http://evil"",""click"")"`);
    const query = await runCli(['query', '--format', 'csv', 'SecurityEvent | project Computer', d]);
    expect(query.stdout).toContain(`"'=HYPERLINK(""http://evil"",""click"")"`);
  });

  it('a 130,000-row result renders as a table', async () => {
    const { code, stdout } = await runCli(['query', 'range x from 1 to 130000 step 1', 'examples/']);
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(130_002);
  });
});
