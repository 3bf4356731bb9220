/**
 * Abuse suite, hostile files and long runs: an alert spool of thousands of runs merges with a
 * bounded number of open files; an interrupted hunt leaves no temporary files; nested gzip and
 * overlapping zip members are refused; links out of a scanned or hunted folder are not followed;
 * link-heavy HTML is extracted in linear time.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { failureText } from '../../src/cli/failure.js';
import { type Alert, compareAlerts, LEVELS } from '../../src/detect/alert.js';
import { extractIndicators } from '../../src/detect/ioc/extract.js';
import { withoutOverlaps, type ZipMember } from '../../src/ingest/zip.js';
import { AlertSpool, FAN_IN } from '../../src/report/alert-spool.js';
import { CLI, ROOT, runCli, TEST_CACHE } from '../helpers.js';

const root = mkdtempSync(path.join(tmpdir(), 'lotl-abuse-files-'));

function alert(i: number): Alert {
  return {
    time: new Date(Date.UTC(2023, 4, 16) + ((i * 7919) % 5000) * 1000).toISOString(),
    rule: {
      id: `r-${i % 3}`,
      title: 'r',
      level: LEVELS[i % 5],
      kind: 'sigma',
      author: '',
      techniques: [],
      tactics: [],
    },
    host: 'h',
    user: null,
    source: { file: 'f', format: 'json', channel: null, eventId: null, record: i % 7 },
    event: { i },
  };
}

const openFiles = () => readdirSync('/proc/self/fd').length;

describe('alert spool', () => {
  it('merges 2,500 spilled runs with at most FAN_IN run files open, in the in-memory order', async () => {
    const spool = new AlertSpool(2);
    const all: Alert[] = [];
    let most = 0;
    for (let i = 0; i < 5000; i++) {
      const a = alert(i);
      all.push(a);
      spool.add(a);
      most = Math.max(most, spool.runFiles);
    }
    expect(most).toBeLessThanOrEqual(3 * FAN_IN);
    const before = openFiles();
    let peak = 0;
    const out: unknown[] = [];
    for await (const a of spool.sorted()) {
      peak = Math.max(peak, openFiles() - before);
      out.push(a.event.i);
    }
    expect(peak).toBeLessThanOrEqual(FAN_IN + 1);
    expect(out).toEqual([...all].sort(compareAlerts).map((a) => a.event.i));
  });
});

describe('interrupted runs', () => {
  it('SIGINT and SIGTERM remove the temporary folders and exit 130 / 143', async () => {
    // A folder big enough for the store and the spool to be at work when the signal comes.
    const dir = path.join(root, 'big');
    mkdirSync(dir);
    const line = (i: number) =>
      JSON.stringify({
        EventID: 4688,
        Channel: 'Security',
        Computer: `H${i % 50}`,
        TimeCreated: new Date(Date.UTC(2023, 4, 16) + i * 1000).toISOString(),
        NewProcessName: 'C:\\Windows\\System32\\ntdsutil.exe',
        CommandLine: `ntdsutil "ac i ntds" ifm "create full c:\\temp\\${i}" q q`,
      });
    writeFileSync(
      path.join(dir, 'a.jsonl'),
      `${Array.from({ length: 200_000 }, (_, i) => line(i)).join('\n')}\n`,
    );
    const tmp = mkdtempSync(path.join(tmpdir(), 'lotl-abuse-tmp-'));
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      const child = spawn(process.execPath, [CLI, 'hunt', '--format', 'jsonl', dir], {
        cwd: ROOT,
        env: { ...process.env, TMPDIR: tmp, LOTL_CACHE_DIR: TEST_CACHE },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      // Wait until the run has made its temporary folders, then interrupt it.
      const deadline = Date.now() + 60_000;
      while (readdirSync(tmp).filter((f) => f.startsWith('lotl-')).length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(readdirSync(tmp).some((f) => f.startsWith('lotl-'))).toBe(true);
      child.kill(signal);
      const exit = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      expect(exit, stderr).toBe(code);
      expect(stderr).toContain(`interrupted (${signal})`);
      expect(readdirSync(tmp).filter((f) => f.startsWith('lotl-'))).toEqual([]);
    }
  });
});

describe('a full disk', () => {
  it('output to a full device (/dev/full) ends with a clear message and exit 2, not a stack trace', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'hunt', '--format', 'jsonl', 'examples/'], {
        cwd: ROOT,
        env: { ...process.env, LOTL_CACHE_DIR: TEST_CACHE },
        stdio: ['ignore', openSync('/dev/full', 'w'), 'pipe'],
      });
      let stderr = '';
      child.stderr?.on('data', (d) => {
        stderr += d;
      });
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot write the output: no space left on the device');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('system errors read as sentences; other errors keep their stack for a bug report', () => {
    const err = (code: string) =>
      Object.assign(new Error(`${code}: x`), { code, path: '/tmp/lotl-alerts-1/run-3.jsonl' });
    expect(failureText(err('ENOSPC'))).toBe(
      'no space left on the device (/tmp/lotl-alerts-1/run-3.jsonl): free some, or point TMPDIR (temporary files) or the output at a larger disk',
    );
    expect(failureText(err('EMFILE'))).toContain('too many open files');
    expect(failureText(new TypeError('bug'))).toContain('TypeError: bug\n    at ');
  });
});

describe('archives', () => {
  it('gzip nested more than three deep is not opened; three deep is read', async () => {
    const event = `${JSON.stringify({ EventID: 1, Computer: 'GZ', TimeCreated: '2023-05-16T00:00:00Z' })}\n`;
    let data = Buffer.from(event);
    for (let i = 0; i < 3; i++) data = gzipSync(data);
    writeFileSync(path.join(root, 'three.json.gz'), data);
    writeFileSync(path.join(root, 'four.json.gz'), gzipSync(data));
    const ok = await runCli(['stats', '--format', 'json', path.join(root, 'three.json.gz')]);
    expect(JSON.parse(ok.stdout).events).toBe(1);
    const deep = await runCli(['stats', '--format', 'json', path.join(root, 'four.json.gz')]);
    expect(deep.code).toBe(2);
    expect(JSON.parse(deep.stdout).problems[0]).toMatchObject({ code: 'BAD_ARCHIVE' });
    expect(JSON.parse(deep.stdout).problems[0].message).toContain('nested more than 3 deep');
  });

  it('zip members that overlap other members are left out (each byte range read once)', async () => {
    const m = (name: string, headerOffset: number, compressedSize: number): ZipMember => ({
      name,
      method: 8,
      headerOffset,
      compressedSize,
      sizeUnknown: false,
    });
    const members = [
      m('a', 0, 100),
      m('b', 130, 50),
      ...Array.from({ length: 2000 }, (_, i) => m(`bomb${i}`, 0, 100)),
    ];
    expect(withoutOverlaps(members).map((x) => x.name)).toEqual(['a', 'b']);
    // A real archive whose central directory lists one member 2,000 times.
    const zip = path.join(root, 'overlap.zip');
    writeFileSync(zip, overlappingZip(2000));
    const r = await runCli(['stats', '--format', 'json', zip]);
    const report = JSON.parse(r.stdout);
    expect(report.events).toBe(1);
    expect(report.problems.map((p: { message: string }) => p.message).join()).toContain(
      '1999 members overlap others',
    );
  });
});

describe('links out of the tree', () => {
  it('hunt and stats do not follow links out of the folder (into /proc, to /etc/passwd)', async () => {
    const dir = path.join(root, 'linked');
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, 'a.jsonl'),
      `${JSON.stringify({ EventID: 1, Computer: 'IN', TimeCreated: '2023-05-16T00:00:00Z' })}\n`,
    );
    symlinkSync('/proc', path.join(dir, 'proc'));
    symlinkSync('/etc/passwd', path.join(dir, 'passwd.json'));
    mkdirSync(path.join(dir, 'sub'));
    symlinkSync('../a.jsonl', path.join(dir, 'sub', 'again.jsonl'));
    const r = await runCli(['stats', '--format', 'json', dir]);
    const report = JSON.parse(r.stdout);
    expect(report.events).toBe(2); // a.jsonl, and the link to it inside the folder
    const skipped = report.skipped.map(
      (p: { file: string; message: string }) => `${path.basename(p.file)}: ${p.message}`,
    );
    expect(skipped).toEqual([
      'passwd.json: a link out of the folder (to /etc/passwd): not followed',
      'proc: a link out of the folder (to /proc): not followed',
    ]);
  });

  it('ioc scan does not report files reached through links out of the scanned folder', async () => {
    const dir = path.join(root, 'image');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'tool.exe'), 'MZ not really');
    symlinkSync('/etc/passwd', path.join(dir, 'passwd'));
    const iocs = path.join(root, 'iocs.txt');
    // sha256 of /etc/passwd as it is on this machine: the link would be a match if followed.
    const { createHash } = await import('node:crypto');
    const { readFileSync } = await import('node:fs');
    writeFileSync(iocs, `${createHash('sha256').update(readFileSync('/etc/passwd')).digest('hex')}\n`);
    const r = await runCli(['ioc', 'scan', '--iocs', iocs, '--format', 'jsonl', dir]);
    expect(r.stdout.trim()).toBe('');
    expect(r.stderr).toContain('symbolic link out of the scanned folder (to /etc/passwd)');
  });
});

describe('ioc extract', () => {
  it('link-heavy and unclosed HTML is read in linear time (the test timeout is the bound)', () => {
    const unclosed = `<html>${'<a href="http://evil.example/x" '.repeat(50_000)}`;
    const links = `<html>${'<a href="http://c2.example/p">x</a><script>'.repeat(50_000)}`;
    expect(extractIndicators(unclosed, 'x').indicators.map((i) => i.value)).toContain(
      'http://evil.example/x',
    );
    expect(extractIndicators(links, 'x').indicators.map((i) => i.value)).toContain('http://c2.example/p');
    expect(existsSync(root)).toBe(true);
  });
});

/** A zip with one stored member whose central directory lists it `copies` times. */
function overlappingZip(copies: number): Buffer {
  const name = Buffer.from('e.json');
  const data = Buffer.from(
    `${JSON.stringify({ EventID: 1, Computer: 'Z', TimeCreated: '2023-05-16T00:00:00Z' })}\n`,
  );
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(name.length, 26);
  const central: Buffer[] = [];
  for (let i = 0; i < copies; i++) {
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(data.length, 20);
    c.writeUInt32LE(data.length, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(0, 42);
    central.push(c, name);
  }
  const cd = Buffer.concat(central);
  const body = Buffer.concat([local, name, data]);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(copies, 8);
  end.writeUInt16LE(copies, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(body.length, 16);
  return Buffer.concat([body, cd, end]);
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
