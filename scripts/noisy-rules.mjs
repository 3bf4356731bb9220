#!/usr/bin/env node
/**
 * Evidence for rules/noisy-rules.txt: every SigmaHQ rule over OTRF Security-Datasets' 24
 * recordings (22 of one technique each, 2 LSASS-dump campaigns; SOURCE.md labels them), with the
 * noisy list kept in. A rule
 * that fires in recordings of techniques other than its own is firing on their background; the
 * rules doing so in 4 or more are printed with the events they fire on most, for a person to judge
 * (attack tooling common to many recordings, such as Empire's launcher, fires off-topic too).
 * Usage: npm run build && node scripts/noisy-rules.mjs   (LOTL_DATA: the shared data folder)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const data = path.resolve(root, process.env.LOTL_DATA ?? '../shared/data');
const sd = path.join(data, 'security-datasets');
const labels = new Map();
for (const m of readFileSync(path.join(sd, 'SOURCE.md'), 'utf8').matchAll(
  /^\| (SDWIN-\d+|LSASS_campaign_\d+) \| [^|]+ \| (T[\d.]+)[^|]* \| `([^`]+)`/gm,
))
  labels.set(path.basename(m[3]).replace(/\.(zip|json)$/, ''), m[2]);
const sigma = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].flatMap((d) => [
  '--sigma',
  path.join(data, 'sigma', d),
]);
const out = execFileSync(
  process.execPath,
  [
    path.join(root, 'dist', 'cli', 'main.js'),
    'hunt',
    '--no-builtin',
    '--no-correlate',
    '--include-noisy',
    '--no-progress',
    '--format',
    'jsonl',
    ...sigma,
    path.join(sd, 'datasets'),
  ],
  { maxBuffer: 1 << 30, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
);
const base = (t) => t.split('.')[0];
const rules = new Map();
for (const line of out.split('\n')) {
  if (!line) continue;
  const a = JSON.parse(line);
  const recording = [...labels.keys()].find((k) => a.source.file.includes(k));
  if (!recording) continue;
  const own = a.rule.techniques.some((t) => base(t) === base(labels.get(recording)));
  let r = rules.get(a.rule.id);
  if (!r) {
    r = { title: a.rule.title, level: a.rule.level, off: new Set(), alerts: 0, events: new Map() };
    rules.set(a.rule.id, r);
  }
  if (!own) r.off.add(recording);
  r.alerts++;
  const e = a.event;
  const what = [
    e.Image ?? e.Application ?? e.NewProcessName,
    e.CommandLine ?? e.TargetObject ?? e.TargetFilename ?? e.TargetUserName,
  ]
    .filter(Boolean)
    .join(' | ')
    .slice(0, 140);
  r.events.set(what, (r.events.get(what) ?? 0) + 1);
}
const listed = new Set(
  readFileSync(path.join(root, 'rules', 'noisy-rules.txt'), 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean),
);
for (const [id, r] of [...rules]
  .filter(([, r]) => r.off.size >= 4)
  .sort((a, b) => b[1].off.size - a[1].off.size)) {
  console.log(
    `${listed.has(id) ? 'LISTED ' : '       '}${id}  ${r.title} (${r.level}): ${r.off.size} other techniques' recordings, ${r.alerts} alerts`,
  );
  for (const [what, n] of [...r.events].sort((a, b) => b[1] - a[1]).slice(0, 3))
    console.log(`           ${n} × ${what}`);
}
