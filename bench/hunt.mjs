#!/usr/bin/env node
/**
 * Hunt benchmark (issue: Sigma). All SigmaHQ rules (rules/, rules-emerging-threats/,
 * rules-threat-hunting/) run by `lotl hunt --sigma`, end to end under GNU time:
 *   - over every EVTX file of the shared data (the two corpora, the Sigma regression cases, chainsaw's);
 *   - over the 250,000-event JSONL that bench/read.mjs builds from Security-Datasets (its 2,074
 *     recorded events repeated, so values repeat more than in any real log);
 *   - over both in one hunt.
 * Each row is the median of three runs; "cold" rows start with an empty parsed-rule cache, the
 * others with a warm one (as every hunt after the first with the same rules).
 * Then, in-process, the rule load time and the cost of the 10 slowest rules (each rule's match
 * timed on every event it is offered, over the JSONL's first 50,000 events).
 * Usage: node bench/hunt.mjs (run bench/read.mjs first if the JSONL is missing)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const data = path.resolve(root, process.env.LOTL_DATA ?? '../shared/data');
const sigma = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].map((d) =>
  path.join(data, 'sigma', d),
);
const jsonl = path.join(root, 'bench', 'out', 'security-datasets-250000.jsonl');
if (!existsSync(jsonl))
  execFileSync(process.execPath, [path.join(root, 'bench', 'read.mjs')], { stdio: 'inherit' });
const cli = path.join(root, 'dist', 'cli', 'main.js');

const cacheDir = mkdtempSync(path.join(tmpdir(), 'lotl-bench-cache-'));

/** One timed run of `lotl hunt` under GNU time; `cold` empties the parsed-rule cache first. */
function once(inputs, extra, cold, correlate = false, pack = false) {
  if (cold) rmSync(cacheDir, { recursive: true, force: true });
  const args = [
    cli,
    'hunt',
    // SigmaHQ alone, as the issue measures it; or `lotl hunt` as it comes (the pack and its hunts).
    ...(pack ? [] : ['--no-builtin']),
    // The hunt alone, but in the rows that measure the correlate stage too.
    ...(correlate ? [] : ['--no-correlate']),
    '--no-progress',
    // Every rule, as the peers run them (the noisy list would change the work measured).
    '--include-noisy',
    '--format',
    'jsonl',
    ...extra,
    ...(pack ? [] : sigma.flatMap((s) => ['--sigma', s])),
    ...inputs,
  ];
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    env: { ...process.env, LOTL_CACHE_DIR: cacheDir },
  });
  const lines = r.stderr.trim().split('\n');
  const [sec, user, sys, kb] = lines.pop().split(' ').map(Number);
  const summary = lines.find((l) => l.includes('events read')) ?? '';
  const loadLine = lines.find((l) => l.includes('loaded from')) ?? '';
  const events = Number((/([\d,]+) events read/.exec(summary)?.[1] ?? '0').replace(/,/g, ''));
  const loopSec = Number(/read in ([\d.]+) s/.exec(summary)?.[1] ?? '0');
  const alerts = Number(/(\d+) alerts/.exec(summary)?.[1] ?? '0');
  const loadSec = Number(/in ([\d.]+) s$/.exec(loadLine)?.[1] ?? '0');
  return { events, sec, cpu: user + sys, rssMb: kb / 1024, alerts, loopSec, loadSec };
}

/** The median of `REPEAT` runs by wall time (this VM is noisy); peak RSS is the largest seen. */
const REPEAT = Number(process.env.REPEAT ?? 3);
function run(label, inputs, { extra = [], cold = false, correlate = false } = {}) {
  if (!cold) once(inputs, extra, false, correlate); // fill the cache
  const runs = Array.from({ length: REPEAT }, () => once(inputs, extra, cold, correlate)).sort(
    (a, b) => a.sec - b.sec,
  );
  const mid = runs[Math.floor(runs.length / 2)];
  return { label, ...mid, rssMb: Math.max(...runs.map((r) => r.rssMb)) };
}

/** Every .evtx file under the shared data folder (the corpora, the Sigma regression cases, chainsaw's sample). */
function evtxFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...evtxFiles(p));
    else if (/\.evtx$/i.test(e.name)) out.push(p);
  }
  return out.sort();
}
const evtx = evtxFiles(data);
const rows = [
  run(`every EVTX of the shared data (${evtx.length} files), rule cache cold`, evtx, { cold: true }),
  run(`every EVTX of the shared data (${evtx.length} files)`, evtx),
  run('250,000-event JSONL, rule cache cold', [jsonl], { cold: true }),
  run('250,000-event JSONL (default: one thread on 2 cores)', [jsonl]),
  run('250,000-event JSONL, --threads 2', [jsonl], { extra: ['--threads', '2'] }),
  // The correlate stage (incidents, sign-ins, the reset list) on the same hunt (issue 15: within 1.15x).
  run('250,000-event JSONL, hunt + correlate', [jsonl], { correlate: true }),
  // The workload in one hunt: every EVTX of the shared data and the JSONL together.
  run(`every EVTX (${evtx.length} files) and the 250,000-event JSONL, one hunt`, [...evtx, jsonl]),
];
// The 1 GiB EVTX of repeated corpus chunks that bench/evtx.mjs makes: one run (it takes a while).
const bigEvtx = path.join(root, 'bench', 'out', 'repeated-1024mb.evtx');
if (existsSync(bigEvtx))
  rows.push(
    { label: '1 GiB EVTX of repeated corpus chunks (one run)', ...once([bigEvtx], [], false) },
    { label: '1 GiB EVTX, hunt + correlate (one run)', ...once([bigEvtx], [], false, true) },
    // `lotl hunt` as it comes: the built-in pack, its KQL hunts (a DuckDB store) and the
    // correlate stage; then without the store, then without either (issue 15: memory by entities).
    {
      label: '1 GiB EVTX, built-in pack + KQL hunts + correlate (one run)',
      ...once([bigEvtx], [], false, true, true),
    },
    {
      label: '1 GiB EVTX, built-in pack + correlate, --no-kql (one run)',
      ...once([bigEvtx], ['--no-kql'], false, true, true),
    },
    {
      label: '1 GiB EVTX, built-in pack alone, --no-kql --no-correlate (one run)',
      ...once([bigEvtx], ['--no-kql'], false, false, true),
    },
  );
else console.log('(no bench/out/repeated-1024mb.evtx: run node bench/evtx.mjs to add the 1 GiB EVTX row)');
rmSync(cacheDir, { recursive: true, force: true });
console.log(
  `${sigma.length} rule folders; node ${process.version}; ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores; median of ${REPEAT} runs`,
);
console.log('');
console.log(
  '| input | events | alerts | rule load s | hunt loop s | events/s (loop) | total s | events/s (total) | CPU s | peak RSS (MB) |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(
    `| ${r.label} | ${r.events.toLocaleString('en-US')} | ${r.alerts} | ${r.loadSec.toFixed(1)} | ${r.loopSec.toFixed(1)} | ${Math.round(r.events / r.loopSec).toLocaleString('en-US')} | ${r.sec.toFixed(1)} | ${Math.round(r.events / r.sec).toLocaleString('en-US')} | ${r.cpu.toFixed(1)} | ${r.rssMb.toFixed(0)} |`,
  );
}
// The correlate stage's cost, hunt alone and hunt + correlate run in turns (this VM drifts over
// minutes; pairs taken together compare like with like): medians of PAIRS runs each.
const PAIRS = Number(process.env.PAIRS ?? 5);
const pairs = Array.from({ length: PAIRS }, () => [once([jsonl], [], false), once([jsonl], [], false, true)]);
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const aloneSec = median(pairs.map((p) => p[0].sec));
const togetherSec = median(pairs.map((p) => p[1].sec));
const aloneCpu = median(pairs.map((p) => p[0].cpu));
const togetherCpu = median(pairs.map((p) => p[1].cpu));
console.log(
  `\nhunt + correlate / hunt alone on the JSONL, ${PAIRS} runs each in turns: ${(togetherSec / aloneSec).toFixed(2)}x wall (${togetherSec.toFixed(2)} vs ${aloneSec.toFixed(2)} s), ${(togetherCpu / aloneCpu).toFixed(2)}x CPU, ${Math.max(...pairs.map((p) => p[1].rssMb)).toFixed(0)} vs ${Math.max(...pairs.map((p) => p[0].rssMb)).toFixed(0)} MB peak`,
);

// The slowest rules, measured in-process.
const { loadRules } = await import('../dist/detect/sigma/load.js');
const { SigmaEngine } = await import('../dist/detect/sigma/engine.js');
const { readFile } = await import('../dist/ingest/read.js');
const { normalize } = await import('../dist/normalize/normalize.js');
const t0 = performance.now();
const report = loadRules(sigma);
const loadMs = performance.now() - t0;
const cost = new Map();
for (const rule of report.rules) {
  const match = rule.match;
  rule.match = (v) => {
    const t = process.hrtime.bigint();
    const r = match(v);
    const c = cost.get(rule) ?? { ns: 0n, calls: 0 };
    c.ns += process.hrtime.bigint() - t;
    c.calls++;
    cost.set(rule, c);
    return r;
  };
}
const engine = new SigmaEngine(report.rules);
let n = 0;
outer: for await (const batch of readFile(jsonl)) {
  for (const it of batch) {
    if (it.kind !== 'event') continue;
    engine.evaluate(normalize(it.event));
    if (++n >= 50_000) break outer;
  }
}
console.log('');
console.log(`rule load (in-process): ${report.rules.length} rules in ${(loadMs / 1000).toFixed(2)} s`);
console.log('');
console.log('| slowest rules over 50,000 events | calls | total ms | µs per call |');
console.log('| --- | ---: | ---: | ---: |');
for (const [rule, c] of [...cost].sort((a, b) => Number(b[1].ns - a[1].ns)).slice(0, 10)) {
  console.log(
    `| ${rule.title} | ${c.calls.toLocaleString('en-US')} | ${(Number(c.ns) / 1e6).toFixed(1)} | ${(Number(c.ns) / 1e3 / c.calls).toFixed(2)} |`,
  );
}
