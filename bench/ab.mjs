/**
 * Two builds of lotl on the same input, in turns: `lotl hunt` with every SigmaHQ rule, run by each
 * build's dist/ alternately (so a noisy machine slows both alike), the median wall and CPU time,
 * the peak RSS and the alert count of each. How a change is held to "the same speed":
 *
 *   node bench/ab.mjs --old /path/to/old/checkout --new . [--rounds 8] INPUT...
 *
 * Each checkout must be built (npm run build). The rule cache of each build is its own and warm
 * after the first round; the first round of each is left out of the medians.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({
  options: {
    old: { type: 'string' },
    new: { type: 'string', default: root },
    rounds: { type: 'string', default: '8' },
  },
  allowPositionals: true,
});
if (!values.old || positionals.length === 0) {
  process.stderr.write('usage: node bench/ab.mjs --old CHECKOUT [--new CHECKOUT] [--rounds N] INPUT...\n');
  process.exit(2);
}
const data = path.resolve(root, process.env.LOTL_DATA ?? '../shared/data');
const sigma = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].flatMap((d) => [
  '--sigma',
  path.join(data, 'sigma', d),
]);
const builds = { old: path.resolve(values.old), new: path.resolve(values.new) };
const caches = {
  old: mkdtempSync(path.join(tmpdir(), 'lotl-ab-old-')),
  new: mkdtempSync(path.join(tmpdir(), 'lotl-ab-new-')),
};
const rounds = Math.max(2, Number(values.rounds));
const runs = { old: [], new: [] };

for (let r = 0; r < rounds; r++)
  for (const which of r % 2 ? ['new', 'old'] : ['old', 'new']) {
    const cli = path.join(builds[which], 'dist', 'cli', 'main.js');
    const args = [
      'hunt',
      '--no-builtin',
      '--no-correlate',
      '--no-progress',
      '--include-noisy',
      '--format',
      'jsonl',
      ...sigma,
      ...positionals,
    ];
    const t = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, cli, ...args], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      env: { ...process.env, LOTL_CACHE_DIR: caches[which] },
    });
    const [wall, user, sys, kb] = t.stderr.trim().split('\n').pop().split(' ').map(Number);
    if (r > 0)
      runs[which].push({ wall, cpu: user + sys, mb: kb / 1024, alerts: t.stdout.split('\n').length - 1 });
  }
for (const dir of Object.values(caches)) rmSync(dir, { recursive: true, force: true });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const row = (which) => {
  const r = runs[which];
  return {
    wall: median(r.map((x) => x.wall)),
    cpu: median(r.map((x) => x.cpu)),
    mb: Math.max(...r.map((x) => x.mb)),
    alerts: [...new Set(r.map((x) => x.alerts))].join(' / '),
  };
};
const o = row('old');
const n = row('new');
process.stdout.write(
  `${positionals.join(' ')}; ${rounds - 1} runs each in turns (first left out); node ${process.versions.node}\n\n` +
    '| build | median wall s | median CPU s | peak RSS (MB) | alerts |\n| --- | ---: | ---: | ---: | ---: |\n' +
    `| old (${builds.old}) | ${o.wall.toFixed(2)} | ${o.cpu.toFixed(2)} | ${o.mb.toFixed(0)} | ${o.alerts} |\n` +
    `| new (${builds.new}) | ${n.wall.toFixed(2)} | ${n.cpu.toFixed(2)} | ${n.mb.toFixed(0)} | ${n.alerts} |\n\n` +
    `new / old: ${(n.wall / o.wall).toFixed(3)}x wall, ${(n.cpu / o.cpu).toFixed(3)}x CPU\n`,
);
