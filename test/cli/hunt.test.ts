/**
 * `lotl hunt` as a responder uses it on the bundled scenario: the built-in pack by default, the
 * alert filters, the summary on stderr, and clear usage errors.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFileHeader, CHUNK_SIZE, FILE_HEADER_SIZE } from '../../src/ingest/evtx/chunk.js';
import { DATA, FIXTURES, HAS_DATA, PACK_RULES, runCli } from '../helpers.js';

const alertsOf = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map(
      (l) =>
        JSON.parse(l) as {
          time: string;
          host: string;
          rule: { level: string; title: string; id: string; kind: string };
        },
    );

describe('lotl hunt', () => {
  it('filters alerts by level, host, rule and time, and summarises the hunt', async () => {
    const all = await runCli(['hunt', '--format', 'jsonl', 'examples/']);
    const every = alertsOf(all.stdout);
    expect(every.length).toBeGreaterThan(15);
    expect(all.stderr).toMatch(/top hosts: fs02\.contoso\.local \d+/);
    expect(all.stderr).toMatch(/top rules: /);
    expect(all.stderr).toMatch(
      /\d+ of 297 events raised alerts \(data reduction [\d.]+%\); peak memory \d+ MB/,
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

  it('--no-kql --kql FILE runs that hunt only; --kql FILE adds it to the pack', async () => {
    const file = 'rules/hunts/suspected-lsass-dump.kql';
    const only = await runCli(['hunt', '--no-progress', '--no-kql', '--kql', file, 'examples/']);
    expect(only.code, only.stderr).toBe(0);
    expect(only.stderr).toContain('lotl hunt: 1 KQL hunting queries');
    const added = await runCli(['hunt', '--no-progress', '--kql', file, 'examples/']);
    expect(added.stderr).toContain('lotl hunt: 8 KQL hunting queries');
  });

  it('--exclude-rule leaves rules out of the output and of the incidents, and says how many alerts', async () => {
    const all = await runCli(['hunt', '--no-progress', '--format', 'jsonl', 'examples/']);
    const without = await runCli([
      'hunt',
      '--no-progress',
      '--format',
      'jsonl',
      '--exclude-rule',
      'PORT PROXY',
      '--exclude-rule',
      'lotl:discovery-burst',
      'examples/',
    ]);
    expect(without.code, without.stderr).toBe(0);
    const titles = (out: string) =>
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).rule.title as string);
    const gone = titles(all.stdout).filter((t) => /port proxy|burst of discovery/i.test(t));
    expect(gone).toHaveLength(6);
    expect(titles(without.stdout).some((t) => /port proxy|burst of discovery/i.test(t))).toBe(false);
    expect(titles(without.stdout)).toHaveLength(titles(all.stdout).length - 6);
    expect(without.stderr).toContain('6 alerts of excluded rules left out (--exclude-rule)');
    // The incident no longer counts them.
    const count = (err: string) => Number(/INC-1 .*\n.*; (\d+) alerts/.exec(err)?.[1]);
    expect(count(without.stderr)).toBe(count(all.stderr) - 6);
  });

  it('--status keeps only Sigma rules of those statuses (the pack is experimental); a bad status is a usage error', async () => {
    const run = await runCli([
      'hunt',
      '--no-progress',
      '--format',
      'jsonl',
      '--status',
      'stable,test',
      'examples/',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`(${PACK_RULES} left out by --status stable,test)`);
    const kinds = new Set(
      run.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).rule.kind),
    );
    expect([...kinds].sort()).toEqual(['ioc', 'kql']);
    const bad = await runCli(['hunt', '--no-progress', '--status', 'stable,gold', 'examples/']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--status takes stable, test, experimental, deprecated, unsupported');
  });

  it('--tag keeps only Sigma rules with that tag or tag prefix', async () => {
    const run = await runCli([
      'hunt',
      '--no-progress',
      '--no-kql',
      '--format',
      'jsonl',
      '--tag',
      'attack.t1003',
      'examples/',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const sigma = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((a) => a.rule.kind === 'sigma');
    expect(sigma.length).toBeGreaterThan(5);
    // Every Sigma alert left is of a T1003 (OS credential dumping) rule.
    for (const a of sigma)
      expect(
        a.rule.techniques.some((t: string) => t.startsWith('T1003')),
        a.rule.title,
      ).toBe(true);
    expect(run.stderr).toMatch(/\(\d+ left out by --tag attack\.t1003\)/);
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
    // A row per alert whose evidence is the FRP file: the two indicator matches and the pack's
    // proxy-configuration rule on the same process.
    expect(byRule('kql:volt-typhoon-find-detections-of-custom-frp-executables')).toHaveLength(3);
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

describe('lotl hunt on a large EVTX file', () => {
  it('gives the same alerts when the parser threads hunt too (share mode)', async () => {
    // A 5.9 MB file (90 chunks, more than the 64 parsed without threads) of a real Security log's
    // chunks (the CC0 fixture), hunted once with sharing forced on, once off: a fixture rule that
    // matches a third of its events, and SigmaHQ's process_creation rules when the corpus is here.
    const multi = readFileSync(path.join(FIXTURES, 'evtx', 'security-4688-tchopper.evtx'));
    const own: Buffer[] = [];
    for (let o = FILE_HEADER_SIZE; o + CHUNK_SIZE <= multi.length; o += CHUNK_SIZE)
      if (multi.toString('latin1', o, o + 8) === 'ElfChnk\0') own.push(multi.subarray(o, o + CHUNK_SIZE));
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'lotl-share-')), 'big.evtx');
    writeFileSync(
      file,
      Buffer.concat([buildFileHeader(90), ...Array.from({ length: 90 }, (_, i) => own[i % own.length])]),
    );
    const args = [
      'hunt',
      '--no-builtin', // the pack's KQL hunts need every event in one store: no sharing with them
      '--no-correlate', // nor with the answers after the alerts
      '--format',
      'jsonl',
      '--no-progress',
      '--sigma',
      path.join(FIXTURES, 'sigma-share'),
      ...(HAS_DATA ? ['--sigma', path.join(DATA, 'sigma', 'rules', 'windows', 'process_creation')] : []),
      file,
    ];
    const shared = await runCli(args, { LOTL_SHARE_MIN_MB: '0' });
    const alone = await runCli(args, { LOTL_SHARE_MIN_MB: '100000' });
    expect(shared.code).toBe(alone.code);
    expect(alertsOf(shared.stdout).length).toBeGreaterThan(1000);
    // Same alerts in the same (sorted) order, whichever thread raised them.
    expect(shared.stdout).toBe(alone.stdout);
    expect(shared.stderr).toContain('events read');
    // A correlation rule over the fixture rule: its matches are judged on the main thread when the
    // parser threads hunt (in time order), inline when one thread does (in file order, which the
    // file's repeated chunks make differ): the same number of windows close either way.
    const rules = mkdtempSync(path.join(tmpdir(), 'lotl-share-corr-'));
    writeFileSync(
      path.join(rules, 'c.yml'),
      `${readFileSync(path.join(FIXTURES, 'sigma-share', 'powershell-get-service.yml'), 'utf8')}\n---\ntitle: Many service reads\nid: 6b1f0f3e-5d1c-4c55-9a61-3f0a3b1f2d11\ncorrelation:\n  type: event_count\n  rules: [6b1f0f3e-5d1c-4c55-9a61-3f0a3b1f2d10]\n  group-by: [Computer]\n  timespan: 1000d\n  condition:\n    gte: 100\n  generate: true\nlevel: medium\n`,
    );
    const withCorr = [
      'hunt',
      '--no-builtin',
      '--no-correlate',
      '--format',
      'jsonl',
      '--no-progress',
      '--sigma',
      rules,
      file,
    ];
    const corrShared = alertsOf((await runCli(withCorr, { LOTL_SHARE_MIN_MB: '0' })).stdout);
    const corrAlone = alertsOf((await runCli(withCorr, { LOTL_SHARE_MIN_MB: '100000' })).stdout);
    const kinds = (list: { rule: { kind: string } }[], kind: string) =>
      list.filter((a) => a.rule.kind === kind).length;
    expect(kinds(corrShared, 'correlation')).toBeGreaterThan(5);
    expect(kinds(corrShared, 'correlation')).toBe(kinds(corrAlone, 'correlation'));
    expect(kinds(corrShared, 'sigma')).toBe(kinds(corrAlone, 'sigma'));
  });
});
