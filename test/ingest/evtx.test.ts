import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFileHeader, CHUNK_SIZE, FILE_HEADER_SIZE } from '../../src/ingest/evtx/chunk.js';
import { readEvtx } from '../../src/ingest/evtx/reader.js';
import { fileTimeText, guid, sid } from '../../src/ingest/evtx/values.js';
import type { InputProblem, RawEvent } from '../../src/ingest/raw-event.js';
import { normalize } from '../../src/normalize/normalize.js';
import { collect, DATA, FIXTURES, HAS_DATA, readAllItems, runCli } from '../helpers.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'lotl-evtx-'));
const SAMPLES = path.join(DATA, 'evtx-attack-samples');
const COMSVCS = path.join(SAMPLES, 'Credential Access/sysmon_10_1_memdump_comsvcs_minidump.evtx');
// CC0 samples of EVTX-to-MITRE-Attack shipped in the repo (test/fixtures/evtx): these tests run on a
// fresh clone. MULTI has 17 chunks of Security 4688 records; SMALL one Sysmon 1 record.
const MULTI = path.join(FIXTURES, 'evtx', 'security-4688-tchopper.evtx');
const MULTI_EVENTS = 735;
const SMALL = path.join(FIXTURES, 'evtx', 'sysmon-1-wmiexec.evtx');

async function parse(buf: Buffer, options: Parameters<typeof readEvtx>[2] = {}) {
  async function* bytes() {
    yield buf;
  }
  return collect(readEvtx(bytes(), 'mem.evtx', { workers: false, ...options }));
}

describe('value formatting', () => {
  it('renders FILETIME exactly, to the 100 ns tick, also before 1970', () => {
    expect(fileTimeText(132455000000000000n)).toBe('2020-09-25T09:33:20.0000000Z');
    expect(fileTimeText(132455000000000001n)).toBe('2020-09-25T09:33:20.0000001Z');
    expect(fileTimeText(0n)).toBe('1601-01-01T00:00:00.0000000Z');
    expect(fileTimeText(116444735999999999n)).toBe('1969-12-31T23:59:59.9999999Z');
  });

  it('renders any FILETIME as exact BigInt arithmetic does (also in turn, as the last second is kept)', () => {
    // The reference: ticks → whole seconds and the 100 ns remainder, by BigInt.
    const reference = (ticks: bigint) => {
      const second = ticks / 10_000_000n;
      const d = new Date(Number(second - 11_644_473_600n) * 1000);
      if (Number.isNaN(d.getTime())) return '';
      return `${d.toISOString().slice(0, 19)}.${(ticks % 10_000_000n).toString().padStart(7, '0')}Z`;
    };
    fc.assert(
      fc.property(
        fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: 1n << 58n })),
        fc.nat(30_000_000),
        (ticks, step) => {
          expect(fileTimeText(ticks)).toBe(reference(ticks));
          const next = ticks + BigInt(step);
          if (next < 1n << 64n) expect(fileTimeText(next)).toBe(reference(next));
        },
      ),
      { numRuns: 3000, seed: 21 },
    );
  });

  it('renders GUIDs and SIDs as Windows does', () => {
    const g = Buffer.from('9d3df4747f1c695d000000103c231f00', 'hex');
    expect(guid(g, 0)).toBe('{74F43D9D-1C7F-5D69-0000-00103C231F00}');
    // S-1-5-21-1-2-3-1108
    const s = Buffer.from('01050000000000051500000001000000020000000300000054040000', 'hex');
    expect(sid(s, 0, 28)).toBe('S-1-5-21-1-2-3-1108');
  });
});

describe('reading EVTX (repo fixtures)', () => {
  it('reads a Sysmon record with typed values and the System fields flattened', async () => {
    const { events, problems } = await readAllItems([SMALL]);
    expect(problems).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      provider: 'Microsoft-Windows-Sysmon',
      eventId: 1,
      computer: 'fs02.offsec.lan',
      recordId: 191969,
    });
    expect(events[0].data).toMatchObject({
      ProcessId: 3068,
      LogonId: '0x00000000000003e7',
      ProcessGuid: '{7CF65FC7-D629-6086-B80A-000000002000}',
      TimeCreated_SystemTime: '2021-04-26T15:03:05.9922307Z',
      CommandLine: 'C:\\Windows\\system32\\cmd.exe  /Q /c C:\\Windows\\TEMP\\execute.bat ',
    });
  });

  it('gives the same events on worker threads as on the main thread', async () => {
    const buf = readFileSync(MULTI);
    const inline = await parse(buf, { workers: false });
    const pooled = await parse(buf, { workers: true });
    expect(inline.events.length).toBe(MULTI_EVENTS);
    expect(pooled.events).toEqual(inline.events);
  });

  it('shares a large file with the parser threads: every chunk once, the stage where they parse', async () => {
    // 90 chunks (more than the 64 parsed here without threads): MULTI's chunks over and over, one
    // wiped (all zeros) in the middle and one unused at the end, which only the first is damage.
    const multi = readFileSync(MULTI);
    const own: Buffer[] = [];
    for (let o = FILE_HEADER_SIZE; o + CHUNK_SIZE <= multi.length; o += CHUNK_SIZE)
      if (multi.toString('latin1', o, o + 8) === 'ElfChnk\0') own.push(multi.subarray(o, o + CHUNK_SIZE));
    const chunks = Array.from({ length: 89 }, (_, i) =>
      i === 40 ? Buffer.alloc(CHUNK_SIZE) : own[i % own.length],
    );
    const buf = Buffer.concat([buildFileHeader(89), ...chunks, Buffer.alloc(CHUNK_SIZE)]);
    const plain = await parse(buf);
    // The stage: the dump's serialisation, from the build (the parser threads run built code).
    const stage = {
      module: new URL('../../dist/report/dump-record.js', import.meta.url).href,
      name: 'dumpLines',
      options: { parts: ['data'] },
    };
    const { dumpLines } = (await import(stage.module)) as typeof import('../../src/report/dump-record.js');
    async function* bytes() {
      yield buf;
    }
    const here: RawEvent[] = [];
    let staged = '';
    let stagedEvents = 0;
    const problems: InputProblem[] = [];
    for await (const batch of readEvtx(bytes(), 'mem.evtx', { workers: 1, share: stage }))
      for (const item of batch) {
        if (item.kind === 'event') here.push(item.event);
        else if (item.kind === 'problem') problems.push(item.problem);
        else {
          staged += item.value;
          stagedEvents += item.events;
        }
      }
    // Both threads took part, and together they read each event exactly once.
    expect(here.length).toBeGreaterThan(0);
    expect(stagedEvents).toBeGreaterThan(0);
    expect(here.length + stagedEvents).toBe(plain.events.length);
    const lines = (text: string) =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .sort();
    expect(lines(dumpLines(here, stage.options) + staged)).toEqual(
      lines(dumpLines(plain.events, stage.options)),
    );
    expect(problems).toEqual(plain.problems);
    expect(problems.map((p) => p.offset)).toEqual([FILE_HEADER_SIZE + 40 * CHUNK_SIZE]);
  });

  it('reads EVTX inside zip and gzip archives', async () => {
    const gz = path.join(tmp, 'sample.evtx.gz');
    writeFileSync(gz, gzipSync(readFileSync(MULTI)));
    const zip = path.join(tmp, 'sample.zip');
    execFileSync('zip', ['-j', '-q', zip, MULTI]);
    const viaGz = await readAllItems([gz]);
    const viaZip = await readAllItems([zip]);
    const direct = await readAllItems([MULTI]);
    expect(direct.events).toHaveLength(MULTI_EVENTS);
    expect(viaGz.events.map((e) => e.data)).toEqual(direct.events.map((e) => e.data));
    expect(viaZip.events.map((e) => e.data)).toEqual(direct.events.map((e) => e.data));
    expect(viaZip.events[0].origin.file).toBe(`${zip}!${path.basename(MULTI)}`);
  });

  it('reads every chunk of a dirty file whose header counts fewer chunks than it has', async () => {
    const buf = Buffer.from(readFileSync(MULTI));
    buildFileHeader(1, { dirty: true }).copy(buf, 0, 0, 128);
    const { events, problems } = await parse(buf);
    expect(events).toHaveLength(MULTI_EVENTS);
    expect(problems).toEqual([]);
  });

  it('reports a bad file header and still reads the chunks', async () => {
    const buf = Buffer.from(readFileSync(SMALL));
    buf.write('XXXX', 0, 'latin1');
    const { events, problems } = await parse(buf);
    expect(events.length).toBe(1);
    expect(problems[0]).toMatchObject({ code: 'BAD_EVTX', offset: 0 });
    expect(problems[0].message).toContain('bad signature');
  });

  it('reports a file cut at a chunk boundary against the chunk count its header declares', async () => {
    const buf = readFileSync(MULTI).subarray(0, FILE_HEADER_SIZE + 2 * CHUNK_SIZE);
    const { problems } = await parse(Buffer.from(buf));
    expect(problems.some((p) => p.message.includes('header declares'))).toBe(true);
  });

  it('lotl dump --format xml writes the record like evtx_dump / evtxexport', async () => {
    const { code, stdout } = await runCli(['dump', '--format', 'xml', SMALL]);
    expect(code).toBe(0);
    expect(stdout.match(/<Event xmlns=/g)).toHaveLength(1);
    expect(stdout).toContain('<TimeCreated SystemTime="2021-04-26T15:03:05.9922307Z"/>');
    expect(stdout).toContain(
      '<Data Name="ParentCommandLine">C:\\Windows\\system32\\cmd.exe /Q /c echo cd  ^&gt; \\\\127.0.0.1\\C$\\__output',
    );
  });
});

describe.runIf(HAS_DATA)('reading EVTX', () => {
  it('reads records with typed values, the System fields flattened like the JSON readers do', async () => {
    const { events, problems } = await readAllItems([COMSVCS]);
    expect(problems).toEqual([]);
    const first = events[0];
    // origin.record is the record's number in this file; EventRecordID is the one Windows gave it.
    expect(first.origin).toMatchObject({
      file: COMSVCS,
      format: 'evtx',
      offset: FILE_HEADER_SIZE + 512,
      record: 1,
    });
    expect(first).toMatchObject({
      provider: 'Microsoft-Windows-Sysmon',
      eventId: 1,
      computer: 'MSEDGEWIN10',
      recordId: 32151,
    });
    expect(first.data).toMatchObject({
      EventID: 1,
      ProcessId: 2576,
      LogonId: '0x00000000000e81e5',
      ProcessGuid: '{747F3D96-1C6F-5D69-0000-0010323C1F00}',
      TimeCreated_SystemTime: '2019-08-30T12:54:07.8737899Z',
      Security_UserID: 'S-1-5-18',
      RuleName: '',
    });
    expect(first.time).toBe(Date.UTC(2019, 7, 30, 12, 54, 7, 873));
    const view = normalize(events.find((e) => e.eventId === 10)!);
    expect(view.profile?.profile.id).toBe('sysmon-10');
    expect(String(view.sigma('CallTrace')).toLowerCase()).toContain('comsvcs.dll');
  });

  it('reads an ETW trace saved as EVTX (empty Channel, EventID 6)', async () => {
    const { events, problems } = await readAllItems([
      path.join(SAMPLES, 'Credential Access/etw_rpc_zerologon.evtx'),
    ]);
    expect(problems).toEqual([]);
    expect(events).toHaveLength(415);
    expect(new Set(events.map((e) => `${e.channel}:${e.eventId}`))).toEqual(new Set(['null:6']));
  });

  it('recovers records from chunk slack only with --recover, borrowing live templates, marked as recovered', async () => {
    const file = path.join(
      SAMPLES,
      'AutomatedTestingTools/Malware/DE_timestomp_and_dll_sideloading_and_RunPersist.evtx',
    );
    const plain = await parse(readFileSync(file));
    const rec = await parse(readFileSync(file), { recover: true });
    expect(plain.events).toHaveLength(23);
    expect(rec.events).toHaveLength(30); // INDEX.csv: 7 leftover records
    const recovered = rec.events.filter((e) => e.data['lotl.recovered'] === true);
    expect(recovered.map((e) => e.recordId)).toEqual([33, 34, 35, 36, 37, 38, 39]);
    expect(recovered.every((e) => e.eventId !== null && e.computer === 'IEWIN7')).toBe(true);
  });
});

describe.runIf(HAS_DATA)('lotl dump on EVTX', () => {
  it('writes XML like evtx_dump / evtxexport with --format xml', async () => {
    const { code, stdout } = await runCli(['dump', '--format', 'xml', COMSVCS]);
    expect(code).toBe(0);
    expect(stdout.match(/<Event xmlns=/g)).toHaveLength(6);
    expect(stdout).toContain(
      '<Data Name="CommandLine">cscript  c:\\ProgramData\\memdump.vbs notepad.exe</Data>',
    );
    expect(stdout).toContain('<TimeCreated SystemTime="2019-08-30T12:54:07.8737899Z"/>');
    expect(stdout).toContain('<Data Name="RuleName"/>');
  });

  it('rejects --format xml for inputs that are not EVTX', async () => {
    const { code, stderr } = await runCli(['dump', '--format', 'xml', 'examples/defender']);
    expect(code).toBe(2);
    expect(stderr).toContain('not EVTX');
  });
});
