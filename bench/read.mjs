#!/usr/bin/env node
/**
 * Reader benchmark (issue: foundation). Builds a JSONL file of at least 250,000 events by repeating
 * the Security-Datasets JSON-lines recordings, then measures, each in a fresh process:
 *   - naive:     decode whole chunks to strings, split lines, JSON.parse (the obvious reader, for scale);
 *   - read:      lotl's reader (sniff, split, classify into RawEvents);
 *   - normalize: read + source-profile recognition + the logsources each event serves;
 *   - view:      normalize + resolving every Sigma field the profile names (more than a rule needs);
 *   - stats:     the `lotl stats` command end to end.
 * Prints events/s and peak RSS per row. Usage: node bench/read.mjs [--events N]
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const data = path.resolve(root, process.env.LOTL_DATA ?? '../shared/data');
const argEvents = process.argv.indexOf('--events');
const target = argEvents > 0 ? Number(process.argv[argEvents + 1]) : 250_000;
const out = path.join(root, 'bench', 'out');
mkdirSync(out, { recursive: true });
const file = path.join(out, `security-datasets-${target}.jsonl`);

if (!existsSync(file)) {
  const dir = path.join(data, 'security-datasets/datasets/atomic/windows');
  const sources = [];
  const walk = (d) => {
    for (const n of readdirSync(d)) {
      const p = path.join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.json')) sources.push(p);
    }
  };
  walk(dir);
  if (sources.length === 0) throw new Error(`no Security-Datasets JSON under ${dir} (set LOTL_DATA)`);
  const lines = sources.flatMap((s) =>
    readFileSync(s, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== ''),
  );
  const ws = createWriteStream(file);
  for (let i = 0; i < target; i++) ws.write(`${lines[i % lines.length]}\n`);
  await new Promise((r) => ws.end(r));
}
const size = statSync(file).size;

function run(mode) {
  const outText = execFileSync(process.execPath, [path.join(root, 'bench', 'read-worker.mjs'), mode, file], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  return JSON.parse(outText.trim().split('\n').pop());
}

function runStats() {
  const t0 = process.hrtime.bigint();
  const outText = execFileSync(
    '/usr/bin/env',
    [
      'bash',
      '-c',
      `command time -f '%M' ${process.execPath} ${path.join(root, 'dist/cli/main.js')} stats --format json ${JSON.stringify(file)} 2>&1 >/dev/null`,
    ],
    {
      encoding: 'utf8',
    },
  );
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const rssKb = Number(outText.trim().split('\n').pop());
  return { mode: 'stats (CLI)', events: target, ms, rssMb: rssKb / 1024 };
}

const rows = [run('naive'), run('read'), run('normalize'), run('view')];
try {
  rows.push(runStats());
} catch {
  // GNU time missing: skip the CLI row rather than report a wrong figure.
}
console.log(
  `input: ${file} (${(size / 1048576).toFixed(1)} MB, ${target.toLocaleString('en-US')} events), node ${process.version}, one process (single-threaded reader)`,
);
console.log('');
console.log('| stage | events | seconds | events/s | MB/s | peak RSS (MB) |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const s = r.ms / 1000;
  console.log(
    `| ${r.mode} | ${r.events.toLocaleString('en-US')} | ${s.toFixed(2)} | ${Math.round(r.events / s).toLocaleString('en-US')} | ${(size / 1048576 / s).toFixed(0)} | ${r.rssMb.toFixed(0)} |`,
  );
}
