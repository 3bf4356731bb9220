#!/usr/bin/env node
/**
 * Store benchmark (issue 17): all SigmaHQ rules over N events (default 10,000,000), three ways,
 * end to end under GNU time (wall, peak RSS):
 *   - streamed: `lotl hunt FILE` (the rules' own matchers);
 *   - DuckDB: `lotl ingest FILE --db` then `lotl hunt --db` (the rules as SQL);
 *   - ClickHouse: a clickhouse-server started on loopback, `lotl ingest --clickhouse` then
 *     `lotl hunt --clickhouse`.
 * (Those hunts with --no-correlate: the rules alone.) Then the answers, the built-in pack with its
 * indicators and the correlate stage: `lotl report FILE` against `lotl report --db` and
 * `--clickhouse` (Sigma as SQL, then one read of every stored event in time order).
 * The input is the 250,000-event Security-Datasets JSONL bench/read.mjs builds, its lines repeated
 * (or cut) to N events. The three alert counts are printed side by side (they must agree).
 * Usage: node bench/store.mjs [--events N] [--stores streamed,duckdb,clickhouse]
 *   (npm run build first; LOTL_DATA: the shared data; --stores: some of the three, default all)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const data = path.resolve(root, process.env.LOTL_DATA ?? '../shared/data');
const at = process.argv.indexOf('--events');
const want = at > 0 ? Number(process.argv[at + 1]) : 10_000_000;
if (!Number.isInteger(want) || want <= 0) throw new Error('--events takes a whole number');
const storesAt = process.argv.indexOf('--stores');
const stores = new Set(
  storesAt > 0 ? process.argv[storesAt + 1].split(',') : ['streamed', 'duckdb', 'clickhouse'],
);
const cli = path.join(root, 'dist', 'cli', 'main.js');
const { startClickHouse } = await import(path.join(root, 'dist', 'store', 'local-clickhouse.js'));
const sigma = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].flatMap((d) => [
  '--sigma',
  path.join(data, 'sigma', d),
]);

const base = path.join(root, 'bench', 'out', 'security-datasets-250000.jsonl');
if (!existsSync(base))
  execFileSync(process.execPath, [path.join(root, 'bench', 'read.mjs')], { stdio: 'inherit' });
const input = path.join(root, 'bench', 'out', `security-datasets-${want}.jsonl`);
if (!existsSync(input)) {
  const out = createWriteStream(input);
  let written = 0;
  while (written < want) {
    for await (const line of createInterface({ input: createReadStream(base) })) {
      if (written >= want) break;
      if (!out.write(`${line}\n`)) await new Promise((r) => out.once('drain', r));
      written++;
    }
  }
  await new Promise((r) => out.end(r));
}

/** Newlines in a file, read a megabyte at a time (the alerts of 10M events pass 500 MB). */
function lineCount(file) {
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  let n = 0;
  for (let got = readSync(fd, buf); got > 0; got = readSync(fd, buf))
    for (let i = 0; i < got; i++) if (buf[i] === 10) n++;
  closeSync(fd);
  return n;
}

/** A report's incidents and accounts to reset, from its JSON on stdout. */
const incidents = (run) => `${run.report.incidents.length} incidents, ${run.report.accounts.length} accounts`;

/** One timed run of the CLI: wall seconds, peak RSS (MB), its last stderr line, stdout lines. */
function timed(args) {
  const out = path.join(tmpdir(), `lotl-bench-store-${process.pid}.out`);
  const fd = openSync(out, 'w');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, cli, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', fd, 'pipe'],
    maxBuffer: 1 << 28,
  });
  closeSync(fd);
  const stdoutLines = lineCount(out);
  // `lotl report` writes one JSON document (small: the answers, not the alerts).
  const report = args[0] === 'report' ? JSON.parse(readFileSync(out, 'utf8')) : null;
  rmSync(out, { force: true });
  const lines = r.stderr.trim().split('\n');
  const [sec, kb] = lines.pop().split(' ').map(Number);
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`lotl ${args[0]} failed: ${lines.slice(-3).join('\n')}`);
  return { sec, rssMb: kb / 1024, said: lines.at(-1) ?? '', stdoutLines, report };
}
const hunt = ['--no-builtin', '--include-noisy', '--format', 'jsonl', ...sigma];
const rows = [];
const rate = (n, sec) => `${Math.round(n / sec).toLocaleString('en-US')} events/s`;

if (stores.has('streamed')) {
  const streamed = timed(['hunt', '--no-progress', '--no-correlate', ...hunt, input]);
  rows.push(['streamed hunt', streamed.sec, streamed.rssMb, rate(want, streamed.sec), streamed.stdoutLines]);
  const report = timed(['report', '--no-progress', input]);
  rows.push(['streamed report (pack)', report.sec, report.rssMb, rate(want, report.sec), incidents(report)]);
}

if (stores.has('duckdb')) {
  const dir = mkdtempSync(path.join(tmpdir(), 'lotl-bench-store-'));
  try {
    const db = path.join(dir, 'events.duckdb');
    const ingest = timed(['ingest', '--no-progress', input, '--db', db]);
    rows.push(['DuckDB ingest', ingest.sec, ingest.rssMb, rate(want, ingest.sec), '']);
    const onDuck = timed(['hunt', '--no-correlate', '--db', db, ...hunt]);
    rows.push([
      'DuckDB hunt (rules as SQL)',
      onDuck.sec,
      onDuck.rssMb,
      rate(want, onDuck.sec),
      onDuck.stdoutLines,
    ]);
    const report = timed(['report', '--no-progress', '--db', db]);
    rows.push(['DuckDB report (pack)', report.sec, report.rssMb, rate(want, report.sec), incidents(report)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (stores.has('clickhouse')) {
  const server = await startClickHouse();
  try {
    const ingest = timed(['ingest', '--no-progress', input, '--clickhouse', server.url]);
    rows.push(['ClickHouse ingest', ingest.sec, ingest.rssMb, rate(want, ingest.sec), '']);
    const onClick = timed(['hunt', '--no-correlate', '--clickhouse', server.url, ...hunt]);
    rows.push([
      'ClickHouse hunt (rules as SQL)',
      onClick.sec,
      onClick.rssMb,
      rate(want, onClick.sec),
      onClick.stdoutLines,
    ]);
    const report = timed(['report', '--no-progress', '--clickhouse', server.url]);
    rows.push([
      'ClickHouse report (pack)',
      report.sec,
      report.rssMb,
      rate(want, report.sec),
      incidents(report),
    ]);
  } finally {
    await server.stop();
  }
}

const head = ['step', 'wall s', 'peak RSS MB (lotl)', 'rate', 'alerts / answers'];
const table = [head, ...rows.map(([a, s, m, r, n]) => [a, s.toFixed(1), m.toFixed(0), r, String(n)])];
const widths = head.map((_, i) => Math.max(...table.map((r) => r[i].length)));
process.stdout.write(
  `${want.toLocaleString('en-US')} events: all SigmaHQ rules (hunts), the pack (reports)\n${table
    .map((r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`)
    .join('\n')}\n`,
);
