import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAll } from '../../src/hunt/read-loop.js';
import { readFile, WholeFileBuffers } from '../../src/ingest/read.js';
import { collect, DATA, EXAMPLES, FIXTURES, HAS_DATA, readAllItems } from '../helpers.js';

/** A few EVTX files of the shared data, a 1 MB one (preallocated, mostly zeros) among small ones. */
function evtxSamples(): string[] {
  const dir = path.join(DATA, 'evtx-to-mitre-attack', 'TA0007-Discovery');
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (e.name.endsWith('.evtx')) out.push(path.join(d, e.name));
    }
  };
  walk(dir);
  return out.slice(0, 12);
}

const tmp = mkdtempSync(path.join(tmpdir(), 'lotl-readers-'));
const SD = path.join(DATA, 'security-datasets/datasets/atomic/windows/credential_access/host');

describe('evtx_dump-style JSON (SigmaHQ regression data)', () => {
  it.runIf(HAS_DATA)('flattens System and EventData, keeps values and origins', async () => {
    const file = path.join(
      DATA,
      'sigma/regression_data/rules/windows/process_creation/proc_creation_win_findstr_recon_everyone/47e4bab7-c626-47dc-967b-255608c9a920.json',
    );
    const { events, problems } = await readAllItems([file]);
    expect(problems).toEqual([]);
    expect(events).toHaveLength(3);
    const e = events[0];
    expect(e.origin).toEqual({ file, format: 'evtx-json', line: 1 });
    expect(events[1].origin.line).toBe(67);
    expect(e.provider).toBe('Microsoft-Windows-Sysmon');
    expect(e.channel).toBe('Microsoft-Windows-Sysmon/Operational');
    expect(e.eventId).toBe(1);
    expect(e.data.Provider_Name).toBe('Microsoft-Windows-Sysmon');
    expect(typeof e.data.TimeCreated_SystemTime).toBe('string');
    expect(e.time).toBe(Date.parse(e.data.TimeCreated_SystemTime as string));
    expect(e.data.Image).toBe('C:\\Windows\\System32\\icacls.exe');
    expect(String(events[1].data.Image).toLowerCase()).toContain('findstr');
  });

  it.runIf(HAS_DATA)('flattens UserData into its fields', async () => {
    const file = path.join(
      DATA,
      'sigma/regression_data/rules/windows/builtin/wmi/win_wmi_activity_nteventlogfile_cleareventlog/d4f1a2b3-7c8e-4d5f-b6a9-1e0c2d3f4e5b.json',
    );
    const { events } = await readAllItems([file]);
    expect(events[0].eventId).toBe(5858);
    expect(events[0].data.ClientProcessId).toBe(25920);
    expect(String(events[0].data.Operation)).toContain('cleareventlog');
  });
});

describe('flat JSON lines (Security-Datasets)', () => {
  it.runIf(HAS_DATA)(
    'reads header fields from SourceName, Channel, Hostname and a zone-less TimeCreated',
    async () => {
      const file = path.join(SD, 'psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json');
      const { events, problems } = await readAllItems([file]);
      expect(problems).toEqual([]);
      expect(events).toHaveLength(184);
      const first = events[0];
      expect(first.origin).toEqual({ file, format: 'flat-json', line: 1 });
      expect(first.eventId).toBe(4689);
      expect(first.channel).toBe('Security');
      expect(first.provider).toBe('Microsoft-Windows-Security-Auditing');
      expect(first.computer).toBe('WORKSTATION5');
      expect(first.time).toBe(Date.UTC(2020, 9, 18, 7, 50, 6, 220));
    },
  );

  it.runIf(HAS_DATA)('reads through .zip, skipping the __MACOSX member with a report', async () => {
    const file = path.join(
      DATA,
      'security-datasets/datasets/atomic/windows/defense_evasion/host/cmd_wevtutil_modify_security_eventlog_path.zip',
    );
    const { events, problems } = await readAllItems([file]);
    expect(events).toHaveLength(25208);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: 'SKIPPED_MEMBER', rejected: 0 });
    expect(problems[0].file).toContain('!__MACOSX/');
    expect(events[0].origin.file).toBe(`${file}!cmd_wevtutil_modify_security_eventlog_path.json`);
  });

  it.runIf(HAS_DATA)('reads a zip whose end record has a wrong comment length', async () => {
    const { events, problems } = await readAllItems([path.join(SD, 'empire_mimikatz_logonpasswords.zip')]);
    expect(problems).toEqual([]);
    expect(events).toHaveLength(6026);
  });

  it.runIf(HAS_DATA)('reads through .gz, sniffing the content whatever the name', async () => {
    const src = readFileSync(path.join(SD, 'cmd_lsass_memory_dumpert_syscalls_2020-10-1822561997.json'));
    const gz = path.join(tmp, 'renamed.bin');
    writeFileSync(gz, gzipSync(src));
    const { events, problems } = await readAllItems([gz]);
    expect(problems).toEqual([]);
    expect(events).toHaveLength(118);
    expect(events[0].origin.file).toBe(gz);
  });
});

describe('Winlogbeat and ECS', () => {
  it('lifts winlog.event_data to bare field names and reads the header', async () => {
    const { events, problems } = await readAllItems([path.join(FIXTURES, 'winlogbeat.ndjson')]);
    expect(problems).toEqual([]);
    const [sysmon, logon] = events;
    expect(sysmon.origin.format).toBe('winlogbeat');
    expect(sysmon.eventId).toBe(1);
    expect(sysmon.channel).toBe('Microsoft-Windows-Sysmon/Operational');
    expect(sysmon.computer).toBe('FS02.contoso.local');
    expect(sysmon.recordId).toBe(88211);
    expect(sysmon.data.CommandLine).toBe('wmic volume list brief');
    expect(sysmon.data['winlog.event_data.CommandLine']).toBe('wmic volume list brief');
    expect(logon.eventId).toBe(4624);
    expect(logon.data.IpAddress).toBe('203.0.113.77');
  });

  it('reads ECS documents as dotted fields', async () => {
    const { events } = await readAllItems([path.join(FIXTURES, 'ecs-process.ndjson')]);
    expect(events).toHaveLength(2);
    expect(events[0].origin.format).toBe('ecs');
    expect(events[0].data['process.parent.executable']).toBe('C:\\Windows\\System32\\cmd.exe');
    expect(events[0].computer).toBe('fs02');
    expect(events[0].channel).toBe('endpoint.events.process');
  });
});

describe('Defender Advanced Hunting exports', () => {
  it('reads JSON arrays and names the table from the file name', async () => {
    const { events, problems } = await readAllItems([path.join(EXAMPLES, 'defender')]);
    expect(problems).toEqual([]);
    const tables = new Set(events.map((e) => e.channel));
    expect(tables).toEqual(new Set(['DeviceFileEvents', 'DeviceLogonEvents', 'DeviceProcessEvents']));
    for (const e of events) {
      expect(e.origin.format).toBe('defender');
      expect(e.computer).toBe('fs02.contoso.local');
      expect(e.time).not.toBeNull();
    }
  });

  it('infers the table from the columns when the file name does not say, and unwraps streaming-API rows', async () => {
    const rows = [
      {
        Timestamp: '2023-05-16T13:05:12Z',
        DeviceName: 'x',
        ActionType: 'LogonSuccess',
        LogonType: 'Network',
        AccountName: 'a',
      },
      {
        Timestamp: '2023-05-16T13:05:13Z',
        DeviceName: 'x',
        ActionType: 'ProcessCreated',
        ProcessCommandLine: 'whoami',
      },
      {
        time: '2023-05-16T13:05:14Z',
        category: 'AdvancedHunting-DeviceNetworkEvents',
        properties: {
          Timestamp: '2023-05-16T13:05:14Z',
          DeviceName: 'x',
          ActionType: 'ConnectionSuccess',
          RemoteIP: '1.2.3.4',
        },
      },
      {
        TimeGenerated: '2023-05-16T13:05:15Z',
        Type: 'SigninLogs',
        UserPrincipalName: 'a@b.c',
        IPAddress: '203.0.113.77',
      },
    ];
    const file = path.join(tmp, 'export.json');
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
    const { events } = await readAllItems([file]);
    expect(events.map((e) => e.channel)).toEqual([
      'DeviceLogonEvents',
      'DeviceProcessEvents',
      'DeviceNetworkEvents',
      'SigninLogs',
    ]);
    expect(events[2].data.RemoteIP).toBe('1.2.3.4');
  });

  it('reads the portal CSV export with line numbers, empty cells as missing', async () => {
    const file = path.join(EXAMPLES, 'defender-portal-export.csv');
    const { events, problems } = await readAllItems([file]);
    expect(problems).toEqual([]);
    expect(events).toHaveLength(4);
    expect(events[0].origin).toEqual({ file, format: 'csv', line: 2 });
    expect(events[0].channel).toBe('DeviceProcessEvents');
    expect(events[0].data.ProcessCommandLine).toContain('Win32_ComputerSystem');
    expect('SHA256' in events[0].data).toBe(false);
  });
});

describe('Windows XML export', () => {
  it('reads every intact <Event>, reports the broken one with its line', async () => {
    const file = path.join(FIXTURES, 'windows-export.xml');
    const { events, problems } = await readAllItems([file]);
    expect(events.map((e) => e.eventId)).toEqual([1, 4688, 13]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: 'BAD_XML', line: 35, rejected: 1 });
    const [sysmon, proc, reg] = events;
    expect(sysmon.origin).toEqual({ file, format: 'windows-xml', line: 3 });
    expect(sysmon.data.CommandLine).toContain('comsvcs.dll, MiniDump');
    expect(sysmon.data.RuleName).toBe('');
    expect(sysmon.time).toBe(Date.UTC(2019, 2, 19, 23, 37, 52, 541));
    expect(proc.origin.line).toBe(4);
    expect(proc.provider).toBe('Microsoft-Windows-Security-Auditing');
    expect(proc.recordId).toBe(1162393);
    expect(proc.data.EventID_Qualifiers).toBe('');
    expect(proc.data.Message).toBe('A new process has been created.');
    expect(reg.origin.line).toBe(36);
    expect(reg.data.Details).toBe('192.168.1.10/3389');
  });

  it('reads UTF-16 exports (with a BOM) the same way', async () => {
    const text = readFileSync(path.join(FIXTURES, 'windows-export.xml'), 'utf8');
    const file = path.join(tmp, 'utf16.xml');
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const { events } = await readAllItems([file]);
    expect(events.map((e) => e.eventId)).toEqual([1, 4688, 13]);
  });
});

describe('bad input', () => {
  it('accounts for every line of a broken JSON-lines file: events in = read + rejected', async () => {
    const file = path.join(FIXTURES, 'bad.jsonl');
    const { events, problems } = await readAllItems([file]);
    expect(events.map((e) => e.eventId)).toEqual([4688, 4624]);
    expect(problems.map((p) => [p.line, p.code])).toEqual([
      [2, 'BAD_JSON'],
      [3, 'NOT_AN_EVENT'],
      [4, 'NOT_AN_EVENT'],
    ]);
    const nonBlankLines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '').length;
    expect(events.length + problems.reduce((s, p) => s + p.rejected, 0)).toBe(nonBlankLines);
  });

  it.runIf(HAS_DATA)('reports a truncated zip with what was wrong and salvages the member data', async () => {
    const file = path.join(tmp, 'truncated.zip');
    copyFileSync(path.join(SD, 'empire_shell_reg_dump_sam.zip'), file);
    truncateSync(file, 60_000);
    const { events, problems } = await readAllItems([file]);
    expect(problems.some((p) => p.code === 'BAD_ARCHIVE' && p.file.startsWith(file))).toBe(true);
    // The first lines inflate before the cut, and are read.
    expect(events.length).toBeGreaterThan(10);
    expect(events.length).toBeLessThan(738);
  });

  it('reports a truncated gzip and keeps what inflated', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) =>
      JSON.stringify({ EventID: 1, Channel: 'X', n: i, pad: 'x'.repeat(50) }),
    );
    const gz = gzipSync(lines.join('\n'));
    const file = path.join(tmp, 'cut.jsonl.gz');
    writeFileSync(file, gz.subarray(0, Math.floor(gz.length / 2)));
    const { events, problems } = await readAllItems([file]);
    expect(problems.map((p) => p.code)).toContain('BAD_ARCHIVE');
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThan(2000);
  });

  it('walks a directory of mixed junk: reads the logs, reports the rest, never throws', async () => {
    const dir = path.join(tmp, 'mixed');
    mkdirSync(path.join(dir, 'sub'), { recursive: true });
    writeFileSync(path.join(dir, 'notes.md'), '# Notes\nThis is prose, with commas, not a table.\n');
    writeFileSync(path.join(dir, 'blob.bin'), Buffer.from([0, 1, 2, 3, 0, 255, 0, 7]));
    writeFileSync(path.join(dir, 'empty.json'), '');
    writeFileSync(
      path.join(dir, 'fake.zip'),
      Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(20, 7)]),
    );
    writeFileSync(
      path.join(dir, 'sub', 'good.jsonl'),
      '{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"}\n',
    );
    execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    const { events, problems } = await readAllItems([dir]);
    expect(events).toHaveLength(1);
    const byFile = Object.fromEntries(problems.map((p) => [path.basename(p.file.split('!')[0]), p.code]));
    expect(byFile).toMatchObject({
      'notes.md': 'SKIPPED_FILE',
      'blob.bin': 'SKIPPED_FILE',
      'empty.json': 'SKIPPED_FILE',
      'fake.zip': 'BAD_ARCHIVE',
      pipe: 'UNREADABLE',
    });
  });

  it('reads a folder through memory used again from file to file: each file gives what it gives alone', async () => {
    // Larger files first: a later, smaller file lands in memory still holding the end of an earlier one.
    const files = [
      path.join(EXAMPLES, 'sysmon-fs02-ws07.jsonl'),
      path.join(EXAMPLES, 'security-application-dc01.jsonl'),
      path.join(FIXTURES, 'windows-export.xml'),
      path.join(EXAMPLES, 'defender', 'DeviceProcessEvents.json'),
      path.join(EXAMPLES, 'defender-portal-export.csv'),
      path.join(FIXTURES, 'bad.jsonl'),
      path.join(FIXTURES, 'evtx', 'security-4688-tchopper.evtx'),
      path.join(FIXTURES, 'evtx', 'sysmon-1-wmiexec.evtx'),
      ...(HAS_DATA ? evtxSamples() : []),
    ];
    const together: unknown[] = [];
    const problemsTogether: unknown[] = [];
    await readAll(
      files,
      { event: (v) => together.push(v.raw), problem: (p) => problemsTogether.push(p) },
      null,
    );
    const alone: unknown[] = [];
    const problemsAlone: unknown[] = [];
    for (const f of files) {
      const r = await collect(readFile(f));
      alone.push(...r.events);
      problemsAlone.push(...r.problems);
    }
    expect(together.length).toBeGreaterThan(100);
    expect(together).toEqual(alone);
    expect(problemsTogether).toEqual(problemsAlone);
  });

  it('memory given back is handed out again', () => {
    const buffers = new WholeFileBuffers();
    const a = buffers.take(100_000);
    expect(a.length).toBeGreaterThanOrEqual(100_000);
    buffers.give(a);
    expect(buffers.take(70_000)).toBe(a);
    expect(buffers.take(10)).not.toBe(a); // in use: a new piece
  });

  it('names a missing path and an unknown format given explicitly as errors', async () => {
    const junk = path.join(tmp, 'junk.txt');
    writeFileSync(junk, 'hello world\n');
    const { events, problems } = await readAllItems([path.join(tmp, 'nope.json'), junk]);
    expect(events).toEqual([]);
    expect(problems.map((p) => p.code)).toEqual(['UNREADABLE', 'UNKNOWN_FORMAT']);
  });
});

beforeAll(() => {
  mkdirSync(tmp, { recursive: true });
});
