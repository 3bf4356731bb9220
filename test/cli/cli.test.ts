import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, FIXTURES, runCli } from '../helpers.js';

describe('lotl stats', () => {
  it('summarises the bundled examples: formats, profiles, hosts, time range, no problems', async () => {
    const { code, stdout, stderr } = await runCli(['stats', 'examples/']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/events read\s+297\b/);
    expect(stdout).toMatch(/time range\s+2023-05-09T02:00:07.000Z \.\. 2023-05-16T20:00:11.000Z/);
    expect(stdout).toContain('sysmon-1');
    expect(stdout).toContain('defender-DeviceProcessEvents');
    expect(stdout).toContain('FS02.contoso.local');
    // Piped output: no progress bar, no colour codes.
    expect(stdout).not.toMatch(/\u001b\[/);
  });

  it('reports input problems with file:line, counts rejected events and exits 2', async () => {
    const { code, stdout } = await runCli(['stats', '--format', 'json', path.join(FIXTURES, 'bad.jsonl')]);
    expect(code).toBe(2);
    const report = JSON.parse(stdout);
    expect(report.events).toBe(2);
    expect(report.rejected).toBe(3);
    expect(report.problems[0]).toMatchObject({
      file: path.join(FIXTURES, 'bad.jsonl'),
      line: 2,
      code: 'BAD_JSON',
    });
  });

  it('rejects a bad --format as a usage error', async () => {
    const { code, stderr } = await runCli(['stats', '--format', 'yaml', 'examples/']);
    expect(code).toBe(2);
    expect(stderr).toContain('--format must be table or json');
  });
});

describe('lotl dump', () => {
  it('writes one normalised event per line with its origin, in input order', async () => {
    const { code, stdout } = await runCli(['dump', path.join(EXAMPLES, 'security-application-dc01.jsonl')]);
    expect(code).toBe(0);
    const events = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events).toHaveLength(11);
    expect(events.map((e) => e.origin.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const ifm = events[3];
    expect(ifm).toMatchObject({
      eventId: 4688,
      profile: 'security-4688',
      computer: 'DC01.contoso.local',
      sigma: {
        Image: 'C:\\Windows\\System32\\ntdsutil.exe',
        User: 'CONTOSO\\svc-fortinet',
        IntegrityLevel: 'High',
      },
      defender: { table: 'DeviceProcessEvents' },
      origin: { format: 'evtx-json', line: 4 },
    });
    expect(ifm.data.NewProcessName).toBe('C:\\Windows\\System32\\ntdsutil.exe');
  });

  it('writes a JSON array with --format json and only the asked-for parts', async () => {
    const { code, stdout } = await runCli([
      'dump',
      '--format',
      'json',
      '--parts',
      'sigma',
      path.join(EXAMPLES, 'defender-portal-export.csv'),
    ]);
    expect(code).toBe(0);
    const events = JSON.parse(stdout);
    expect(events).toHaveLength(4);
    expect(events[0].data).toBeUndefined();
    expect(events[0].sigma.CommandLine).toContain('Win32_ComputerSystem');
    expect(events[0].origin).toMatchObject({ format: 'csv', line: 2 });
  });

  it('prints problems to stderr with their location, still dumps the good events, exits 2', async () => {
    const { code, stdout, stderr } = await runCli(['dump', path.join(FIXTURES, 'bad.jsonl')]);
    expect(code).toBe(2);
    expect(stdout.trim().split('\n')).toHaveLength(2);
    expect(stderr).toContain(`${path.join(FIXTURES, 'bad.jsonl')}:2: BAD_JSON`);
  });

  it('stops cleanly when the reader of its output goes away', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lotl-cli-'));
    const big = path.join(dir, 'big.jsonl');
    const line = JSON.stringify({
      EventID: 1,
      Channel: 'Microsoft-Windows-Sysmon/Operational',
      CommandLine: 'x'.repeat(200),
    });
    writeFileSync(big, `${Array.from({ length: 20_000 }, () => line).join('\n')}\n`);
    const { execSync } = await import('node:child_process');
    const errFile = path.join(dir, 'stderr.txt');
    const out = execSync(
      `node dist/cli/main.js dump ${JSON.stringify(big)} 2>${JSON.stringify(errFile)} | head -n 3`,
      {
        encoding: 'utf8',
      },
    );
    expect(out.trim().split('\n')).toHaveLength(3);
    expect(readFileSync(errFile, 'utf8')).toBe('');
  });
});

describe('lotl --help', () => {
  it('documents the commands and exits 0', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('stats');
    expect(stdout).toContain('dump');
  });

  it('exits 2 on an unknown command', async () => {
    const { code, stderr } = await runCli(['frobnicate']);
    expect(code).toBe(2);
    expect(stderr).toContain("unknown command 'frobnicate'");
  });
});
