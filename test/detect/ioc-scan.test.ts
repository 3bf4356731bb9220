import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IndicatorSet } from '../../src/detect/ioc/indicator.js';
import { scanPaths } from '../../src/detect/ioc/scan.js';
import { runCli } from '../helpers.js';

/**
 * A tree with planted files (their hashes and one name are indicators), files that cannot be read,
 * a symbolic-link loop, a link back up the tree and a FIFO. Root ignores permission bits, so the
 * unreadable file is a dangling link (and, when not root, also a mode-000 file).
 */
function buildTree(): { root: string; planted: Map<string, string>; iocFile: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'lotl-scan-'));
  const planted = new Map<string, string>();
  mkdirSync(path.join(root, 'a', 'deep', 'er'), { recursive: true });
  const put = (rel: string, bytes: Buffer, algo?: string) => {
    writeFileSync(path.join(root, rel), bytes);
    if (algo) planted.set(path.join(root, rel), createHash(algo).update(bytes).digest('hex'));
  };
  put('a/implant.bin', randomBytes(3 * 1024 * 1024 + 17), 'sha256');
  put('a/deep/er/loader.dll', randomBytes(4096), 'md5');
  put('a/deep/tool.exe', randomBytes(1000), 'sha1');
  put('a/empty.dat', Buffer.alloc(0), 'sha256');
  for (let i = 0; i < 40; i++) put(`a/noise-${i}.txt`, randomBytes(2048));
  put('a/deep/frpc.exe', randomBytes(64));
  symlinkSync('/nonexistent/target', path.join(root, 'a', 'dangling'));
  symlinkSync('self', path.join(root, 'a', 'self')); // a link to itself: ELOOP
  symlinkSync('..', path.join(root, 'a', 'deep', 'up')); // a link back up the tree
  execFileSync('mkfifo', [path.join(root, 'a', 'pipe')]);
  if (process.getuid?.() !== 0) {
    writeFileSync(path.join(root, 'a', 'secret.bin'), 'x');
    chmodSync(path.join(root, 'a', 'secret.bin'), 0);
  }
  const iocFile = path.join(root, 'iocs.txt');
  writeFileSync(iocFile, `${[...planted.values()].join('\n')}\nfilename\tfrpc.exe\n`);
  return { root, planted, iocFile };
}

describe('ioc scan', () => {
  it('finds every planted file, reports every skip, and never hangs', async () => {
    const { root, planted } = buildTree();
    const set = new IndicatorSet();
    for (const [, hash] of planted) {
      const type = hash.length === 64 ? 'sha256' : hash.length === 40 ? 'sha1' : 'md5';
      set.add({ type, value: hash, source: 't' });
    }
    set.add({ type: 'filename', value: 'frpc.exe', source: 't' });
    const result = await scanPaths([path.join(root, 'a')], set, { threads: 2 });
    const byPath = new Map(result.matches.map((m) => [m.path, m]));
    for (const [file, hash] of planted) {
      expect(byPath.get(file)?.indicator.value, file).toBe(hash);
    }
    expect(byPath.get(path.join(root, 'a', 'deep', 'frpc.exe'))?.on).toBe('filename');
    const skipped = Object.fromEntries(result.skipped.map((s) => [path.relative(root, s.path), s.reason]));
    expect(skipped['a/dangling']).toMatch(/broken symbolic link/);
    expect(skipped['a/self']).toMatch(/symbolic link loop/);
    expect(skipped['a/deep/up']).toMatch(/not followed/);
    expect(skipped['a/pipe']).toMatch(/FIFO/);
    if (process.getuid?.() !== 0) expect(skipped['a/secret.bin']).toMatch(/cannot be read/);
    expect(result.files).toBe(planted.size + 41 + (process.getuid?.() !== 0 ? 1 : 0));
  });

  it('honours extension and size filters, and the CLI writes matches as ioc alerts', async () => {
    const { root, iocFile } = buildTree();
    const onlyDll = await runCli([
      'ioc',
      'scan',
      '--iocs',
      iocFile,
      '--ext',
      'dll',
      '--format',
      'jsonl',
      path.join(root, 'a'),
    ]);
    expect(onlyDll.code).toBe(0);
    const alerts = onlyDll.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      rule: { kind: 'ioc', level: 'high' },
      source: { format: 'file' },
      match: { field: 'md5' },
    });
    expect(alerts[0].event.path).toMatch(/loader\.dll$/);
    const small = await runCli([
      'ioc',
      'scan',
      '--iocs',
      iocFile,
      '--max-size',
      '1000000',
      '--format',
      'json',
      path.join(root, 'a'),
    ]);
    expect(
      JSON.parse(small.stdout).some((a: { event: { path: string } }) => a.event.path.endsWith('implant.bin')),
    ).toBe(false);
    expect(small.stderr).toMatch(/skipped .*implant\.bin: larger than --max-size/);
  });
});
