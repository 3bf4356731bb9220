/**
 * `lotl hunt` as a responder uses it on the bundled scenario: the built-in pack by default, the
 * alert filters, the summary on stderr, and clear usage errors.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers.js';

const alertsOf = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map(
      (l) =>
        JSON.parse(l) as { time: string; host: string; rule: { level: string; title: string; id: string } },
    );

describe('lotl hunt', () => {
  it('filters alerts by level, host, rule and time, and summarises the hunt', async () => {
    const all = await runCli(['hunt', '--format', 'jsonl', 'examples/']);
    const every = alertsOf(all.stdout);
    expect(every.length).toBeGreaterThan(15);
    expect(all.stderr).toMatch(/top hosts: fs02\.contoso\.local \d+/);
    expect(all.stderr).toMatch(/top rules: /);
    expect(all.stderr).toMatch(
      /\d+ of 50 events raised alerts \(data reduction [\d.]+%\); peak memory \d+ MB/,
    );

    const critical = alertsOf(
      (await runCli(['hunt', '--format', 'jsonl', '--min-level', 'critical', 'examples/'])).stdout,
    );
    expect(critical.length).toBeGreaterThan(0);
    expect(critical.every((a) => a.rule.level === 'critical')).toBe(true);
    expect(critical.length).toBe(every.filter((a) => a.rule.level === 'critical').length);

    const dc = alertsOf((await runCli(['hunt', '--format', 'jsonl', '--host', 'dc01', 'examples/'])).stdout);
    expect(dc.length).toBeGreaterThan(0);
    expect(dc.every((a) => a.host.toLowerCase().startsWith('dc01.'))).toBe(true);

    const ntds = alertsOf(
      (await runCli(['hunt', '--format', 'jsonl', '--rule', 'NTDSUTIL', 'examples/'])).stdout,
    );
    expect(ntds.length).toBeGreaterThan(0);
    expect(ntds.every((a) => /ntdsutil/i.test(a.rule.title))).toBe(true);

    const window = alertsOf(
      (
        await runCli([
          'hunt',
          '--format',
          'jsonl',
          '--from',
          '2023-05-16T13:30:00Z',
          '--to',
          '2023-05-16T13:45:00Z',
          'examples/',
        ])
      ).stdout,
    );
    expect(window.length).toBeGreaterThan(0);
    expect(
      window.every((a) => a.time >= '2023-05-16T13:30:00.000Z' && a.time < '2023-05-16T13:45:00.000Z'),
    ).toBe(true);
    expect(window.length).toBe(
      every.filter((a) => a.time >= '2023-05-16T13:30:00.000Z' && a.time < '2023-05-16T13:45:00.000Z').length,
    );
  });

  it('rejects a bad filter value as a usage error', async () => {
    const level = await runCli(['hunt', '--min-level', 'severe', 'examples/']);
    expect(level.code).toBe(2);
    expect(level.stderr).toContain('--min-level must be one of');
    const time = await runCli(['hunt', '--from', 'yesterday', 'examples/']);
    expect(time.code).toBe(2);
    expect(time.stderr).toContain('--from needs an ISO 8601 time');
  });
  it("runs the pack's KQL hunting queries over the store it fills: one alert per result row", async () => {
    const lines = (out: string) =>
      out
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    const all = lines((await runCli(['hunt', '--format', 'jsonl', 'examples/'])).stdout);
    const kql = all.filter((a) => a.rule.kind === 'kql');
    const byRule = (id: string) => kql.filter((a) => a.rule.id === id).map((a) => a.host);
    // The advisory's three queries find the scenario's IFM commands, wmic portproxy and FRP hashes.
    expect(
      byRule('kql:volt-typhoon-find-commands-creating-domain-controller-installation-media'),
    ).toHaveLength(2);
    expect(byRule('kql:volt-typhoon-find-commands-establishing-internal-proxies').length).toBeGreaterThan(0);
    expect(byRule('kql:volt-typhoon-find-detections-of-custom-frp-executables')).toHaveLength(2);
    for (const a of kql) {
      expect(a.source.format).toBe('kql');
      expect(a.source.file).toMatch(/rules[\\/]hunts[\\/].*\.kql$/);
      expect(a.event).toBeTypeOf('object');
    }
    // --no-kql leaves them out; --kql runs a hunt of one's own.
    const none = lines((await runCli(['hunt', '--format', 'jsonl', '--no-kql', 'examples/'])).stdout);
    expect(none.filter((a) => a.rule.kind === 'kql')).toEqual([]);
    expect(none.length).toBe(all.length - kql.length);
    const dir = mkdtempSync(path.join(tmpdir(), 'lotl-kql-'));
    const own = path.join(dir, 'ntdsutil.kql');
    writeFileSync(
      own,
      '// title: Any ntdsutil\n// level: low\nDeviceProcessEvents | where FileName =~ "ntdsutil.exe"\n',
    );
    const mine = lines(
      (await runCli(['hunt', '--format', 'jsonl', '--no-builtin', '--kql', own, 'examples/'])).stdout,
    );
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((a) => a.rule.title === 'Any ntdsutil' && a.rule.level === 'low')).toBe(true);
  });
});
