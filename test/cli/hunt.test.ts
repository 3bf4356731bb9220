/**
 * `lotl hunt` as a responder uses it on the bundled scenario: the built-in pack by default, the
 * alert filters, the summary on stderr, and clear usage errors.
 */
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
});
