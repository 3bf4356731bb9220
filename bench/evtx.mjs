#!/usr/bin/env node
/**
 * EVTX benchmark (issue: EVTX parser). Builds a large EVTX file by repeating every non-empty chunk
 * of the shared corpus's EVTX files (chunks are self-contained; the file header gets the right
 * chunk count and checksum), then times, in the same run and on the same file:
 *   - lotl dump (JSON lines, the normalised events), and lotl dump --format xml;
 *   - evtxexport -f xml (libevtx, Debian libevtx-utils);
 *   - evtx_dump.py (python-evtx, Debian python3-evtx) on a small subset, since it is far slower.
 * Prints MB/s, records/s and peak RSS per tool. Usage: node bench/evtx.mjs [--mb 1024]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFileHeader, CHUNK_SIZE, FILE_HEADER_SIZE } from '../dist/ingest/evtx/chunk.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const data = path.resolve(root, process.env.LOTL_DATA ?? '../shared/data');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const targetMb = arg('--mb', 1024);
const smallMb = arg('--small-mb', 16);
const out = path.join(root, 'bench', 'out');
mkdirSync(out, { recursive: true });

/** Files both reference parsers read (INDEX.csv gives their record count): evtxexport stops dead at the others. */
function readableByPeers() {
  const ok = new Set();
  for (const line of readFileSync(path.join(data, 'INDEX.csv'), 'utf8').split('\n')) {
    const m = /^("([^"]*)"|[^,]*),[^,]*,evtx,\d+,[0-9a-f]+,(\d+),/.exec(line);
    if (m) ok.add(m[2] ?? m[1]);
  }
  return ok;
}

function corpusChunks() {
  const chunks = [];
  const readable = readableByPeers();
  const walk = (d) => {
    for (const n of readdirSync(d).sort()) {
      const p = path.join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.evtx') && readable.has(path.relative(data, p))) {
        const b = readFileSync(p);
        for (let o = FILE_HEADER_SIZE; o + CHUNK_SIZE <= b.length; o += CHUNK_SIZE) {
          if (b.toString('latin1', o, o + 8) === 'ElfChnk\0') chunks.push(b.subarray(o, o + CHUNK_SIZE));
        }
      }
    }
  };
  for (const d of ['evtx-attack-samples', 'evtx-to-mitre-attack']) walk(path.join(data, d));
  return chunks;
}

function build(file, mb, chunks) {
  if (existsSync(file)) return;
  const count = Math.ceil((mb * 1048576) / CHUNK_SIZE);
  const fd = openSync(file, 'w');
  writeSync(fd, buildFileHeader(Math.min(count, 0xffff)));
  for (let i = 0; i < count; i++) writeSync(fd, chunks[i % chunks.length]);
  closeSync(fd);
}

/** Runs a command with stdout to /dev/null under GNU time; returns seconds, CPU and peak RSS. */
function measure(cmd, args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [sec, user, sys, kb] = last.split(' ').map(Number);
  if (r.status !== 0) throw new Error(`${cmd} failed (exit ${r.status}): ${r.stderr.slice(0, 500)}`);
  return { seconds: sec, cpu: user + sys, rssMb: kb / 1024, status: r.status };
}

function countRecords(file) {
  const o = execFileSync(
    process.execPath,
    [path.join(root, 'dist/cli/main.js'), 'stats', '--format', 'json', '--no-progress', file],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    },
  );
  return JSON.parse(o).events;
}

const chunks = corpusChunks();
const big = path.join(out, `repeated-${targetMb}mb.evtx`);
const small = path.join(out, `repeated-${smallMb}mb.evtx`);
build(big, targetMb, chunks);
build(small, smallMb, chunks);
const bigMb = statSync(big).size / 1048576;
const smallSizeMb = statSync(small).size / 1048576;
const bigRecords = countRecords(big);
const smallRecords = countRecords(small);
const lotl = path.join(root, 'dist/cli/main.js');

const rows = [
  [
    'lotl dump (jsonl)',
    big,
    bigMb,
    bigRecords,
    measure(process.execPath, [lotl, 'dump', '--no-progress', big]),
  ],
  [
    'lotl dump --format xml',
    big,
    bigMb,
    bigRecords,
    measure(process.execPath, [lotl, 'dump', '--format', 'xml', '--no-progress', big]),
  ],
  ['evtxexport -f xml (libevtx 20181227)', big, bigMb, bigRecords, measure('evtxexport', ['-f', 'xml', big])],
  [
    'lotl dump (jsonl)',
    small,
    smallSizeMb,
    smallRecords,
    measure(process.execPath, [lotl, 'dump', '--no-progress', small]),
  ],
  ['evtx_dump.py (python-evtx 0.6.1)', small, smallSizeMb, smallRecords, measure('evtx_dump.py', [small])],
];

console.log(
  `${chunks.length} distinct corpus chunks repeated; node ${process.version}; ${navigatorCores()} cores`,
);
console.log('');
console.log('| tool | file | MB | records | seconds | CPU s | MB/s | records/s | peak RSS (MB) |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [tool, file, mb, records, m] of rows) {
  console.log(
    `| ${tool} | ${path.basename(file)} | ${mb.toFixed(0)} | ${records.toLocaleString('en-US')} | ${m.seconds.toFixed(2)} | ${m.cpu.toFixed(2)} | ${(mb / m.seconds).toFixed(1)} | ${Math.round(records / m.seconds).toLocaleString('en-US')} | ${m.rssMb.toFixed(0)} |`,
  );
}
const lotlBig = rows[0][4].seconds;
const libevtx = rows[2][4].seconds;
console.log('');
console.log(
  `lotl dump (jsonl) vs evtxexport on the same file: ${(libevtx / lotlBig).toFixed(2)}x the throughput`,
);

function navigatorCores() {
  return execFileSync('nproc', { encoding: 'utf8' }).trim();
}
