#!/usr/bin/env node
/**
 * IOC scan benchmark (issue: IOCs). Builds a tree of at least 2 GiB (1,024 files of 2 MiB and
 * 2,048 small files, random content) and hashes it, in the same run, with `sha256sum` (one
 * process, via find | xargs) and with `lotl ioc scan` (SHA-256, both cores). Both read from the
 * page cache (the tree was just written, and each tool runs twice; the faster run counts).
 * Usage: node bench/ioc-scan.mjs [--mb 2048]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const i = process.argv.indexOf('--mb');
const mb = i > 0 ? Number(process.argv[i + 1]) : 2048;
const tree = path.join(root, 'bench', 'out', `scan-tree-${mb}mb`);
const bigFiles = Math.ceil(mb / 2);
if (!existsSync(path.join(tree, 'done'))) {
  for (let d = 0; d < 16; d++) mkdirSync(path.join(tree, `d${d}`, 'sub'), { recursive: true });
  for (let f = 0; f < bigFiles; f++)
    writeFileSync(path.join(tree, `d${f % 16}`, `big-${f}.bin`), randomBytes(2 * 1024 * 1024));
  for (let f = 0; f < 2048; f++)
    writeFileSync(path.join(tree, `d${f % 16}`, 'sub', `small-${f}.dat`), randomBytes(1 + (f % 7) * 1500));
  writeFileSync(path.join(tree, 'done'), '');
}
const iocs = path.join(root, 'bench', 'out', 'scan-iocs.txt');
writeFileSync(iocs, 'sha256\te3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n');
const bytes = Number(execFileSync('du', ['-sb', tree], { encoding: 'utf8' }).split('\t')[0]);
const files = Number(
  execFileSync('bash', ['-c', `find ${JSON.stringify(tree)} -type f | wc -l`], { encoding: 'utf8' }).trim(),
);

function timed(cmd) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', 'bash', '-c', cmd], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const [sec, user, sys, kb] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { sec, cpu: user + sys, rssMb: kb / 1024 };
}
const best = (cmd) => [timed(cmd), timed(cmd)].sort((a, b) => a.sec - b.sec)[0];

const sha = best(`find ${JSON.stringify(tree)} -type f -print0 | xargs -0 sha256sum > /dev/null`);
const lotl = best(
  `${process.execPath} ${path.join(root, 'dist/cli/main.js')} ioc scan --no-progress --format jsonl --iocs ${iocs} ${JSON.stringify(tree)} > /dev/null 2>&1`,
);

console.log(
  `tree: ${files.toLocaleString('en-US')} files, ${(bytes / 1048576).toFixed(0)} MiB; ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores; node ${process.version}`,
);
console.log('');
console.log('| tool | seconds | CPU s | MiB/s | peak RSS (MB) |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [name, m] of [
  ['sha256sum (coreutils, one process)', sha],
  ['lotl ioc scan (SHA-256, worker threads)', lotl],
]) {
  console.log(
    `| ${name} | ${m.sec.toFixed(2)} | ${m.cpu.toFixed(2)} | ${(bytes / 1048576 / m.sec).toFixed(0)} | ${m.rssMb.toFixed(0)} |`,
  );
}
console.log('');
console.log(`lotl ioc scan: ${(sha.sec / lotl.sec).toFixed(2)}x sha256sum's throughput`);
