#!/usr/bin/env node
/**
 * Every SigmaHQ rule as SQL over all of the shared samples (docs/sigma-sql-status.csv): the
 * samples' events streamed through the rules' own matchers, then stored in DuckDB and in a
 * ClickHouse server started on loopback and hunted with the rules as SQL. A row per rule: how many
 * alerts the streamed hunt raised, and on each store whether the rule ran (and raised the same
 * alerts — same rule, same event) or why it did not. Differences are listed on stdout.
 * Usage: npm run build && node scripts/sql-status.mjs   (LOTL_DATA: the shared data folder)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const data = path.resolve(root, process.env.LOTL_DATA ?? '../shared/data');
const dist = (m) => import(path.join(root, 'dist', m));
const { sourceRef } = await dist('detect/alert.js');
const { rulePredicates } = await dist('detect/sigma/convert.js');
const { SigmaEngine } = await dist('detect/sigma/engine.js');
const { loadRules } = await dist('detect/sigma/load.js');
const { huntTable } = await dist('hunt/table-hunt.js');
const { readAll } = await dist('hunt/read-loop.js');
const { EventTable } = await dist('store/event-table.js');
const { ClickHouseTable } = await dist('store/clickhouse-table.js');
const { startClickHouse } = await dist('store/local-clickhouse.js');

const samples = [
  'evtx-attack-samples',
  'evtx-to-mitre-attack',
  'security-datasets',
  'sigma/regression_data',
  'chainsaw',
].map((d) => path.join(data, d));
const sigma = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].map((d) =>
  path.join(data, 'sigma', d),
);
const { rules } = loadRules(sigma);
const predicates = new Map([...rulePredicates(sigma)].map((p) => [`${p.file}\n${p.id}`, p]));
const key = (a) => `${a.rule.id} ${sourceRef(a.source)}`;

// The streamed hunt: each rule's own matcher on every event.
const engine = new SigmaEngine(rules);
const streamed = new Map();
/** Alert key → the file of its event. */
const fileOf = new Map();
let dropped = 0;
let events = 0;
await readAll(
  samples,
  {
    event: (view) => {
      events++;
      for (const a of engine.evaluate(view)) {
        const set = streamed.get(a.rule.id) ?? new Set();
        set.add(key(a));
        fileOf.set(key(a), a.source.file);
        streamed.set(a.rule.id, set);
      }
    },
    problem: () => {},
  },
  null,
);
process.stdout.write(`${events} events streamed through ${rules.length} rules\n`);

/** A store's alerts per rule id, and the rules it did not run, with the reason. */
async function overStore(store) {
  const started = performance.now();
  await store.ingest(samples);
  const ingested = (performance.now() - started) / 1000;
  const t = performance.now();
  const r = await huntTable(store, rules, predicates);
  const hunted = (performance.now() - t) / 1000;
  const byRule = new Map();
  for (const a of r.alerts) {
    const set = byRule.get(a.rule.id) ?? new Set();
    set.add(key(a));
    byRule.set(a.rule.id, set);
  }
  const skipped = new Map(r.skipped.map((s) => [s.id, s.reason]));
  return { byRule, skipped, ran: r.ran, queries: r.queries, ingested, hunted };
}

const dir = mkdtempSync(path.join(tmpdir(), 'lotl-sql-status-'));
const duck = await EventTable.open(path.join(dir, 'events.duckdb'));
const onDuck = await overStore(duck);
// A store keeps a file once by content: a copy under another name is not read again. The streamed
// alerts compared are those of the files the store holds.
const stored = new Set((await duck.query('SELECT path FROM lotl_files', [])).map((r) => String(r.path)));
duck.close();
for (const [id, keys] of streamed) {
  // (An archive's member is named archive.zip!member; the store names the archive.)
  const kept = new Set([...keys].filter((k) => stored.has(fileOf.get(k).split('!')[0])));
  dropped += keys.size - kept.size;
  streamed.set(id, kept);
}
const server = await startClickHouse();
let onClick;
try {
  onClick = await overStore(await ClickHouseTable.open(server.url));
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

const csv = (s) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const rows = ['file,id,title,streamed_alerts,duckdb,duckdb_alerts,clickhouse,clickhouse_alerts'];
const differences = [];
const status = (on, rule, want) => {
  if (on.skipped.has(rule.id)) return [`unsupported: ${on.skipped.get(rule.id)}`, ''];
  const got = on.byRule.get(rule.id) ?? new Set();
  const same = got.size === want.size && [...got].every((k) => want.has(k));
  return [same ? 'ran, same alerts' : 'ran, DIFFERENT alerts', String(got.size)];
};
const tally = { duckdb: new Map(), clickhouse: new Map() };
for (const rule of rules) {
  const want = streamed.get(rule.id) ?? new Set();
  const d = status(onDuck, rule, want);
  const c = status(onClick, rule, want);
  for (const [name, s] of [
    ['duckdb', d[0]],
    ['clickhouse', c[0]],
  ]) {
    const k = s.startsWith('unsupported') ? s.replace(/\(.*?\)/, '(…)') : s;
    tally[name].set(k, (tally[name].get(k) ?? 0) + 1);
    if (s.includes('DIFFERENT')) differences.push(`${name}: ${rule.title} (${rule.id})`);
  }
  rows.push(
    [path.relative(data, rule.file), rule.id ?? '', rule.title, String(want.size), d[0], d[1], c[0], c[1]]
      .map(csv)
      .join(','),
  );
}
writeFileSync(path.join(root, 'docs', 'sigma-sql-status.csv'), `${rows.join('\n')}\n`);
const alerts = (m) => [...m.values()].reduce((n, s) => n + s.size, 0);
process.stdout.write(
  `streamed: ${alerts(streamed)} alerts (${dropped} more on copies of stored files, which stores keep once)\n${[
    ['duckdb', onDuck],
    ['clickhouse', onClick],
  ]
    .map(
      ([name, on]) =>
        `${name}: ${alerts(on.byRule)} alerts; ${on.ran} rules ran in ${on.queries} queries; ingest ${on.ingested.toFixed(1)} s, hunt ${on.hunted.toFixed(1)} s\n${[
          ...tally[name],
        ]
          .map(([s, n]) => `  ${n}  ${s}`)
          .join('\n')}`,
    )
    .join('\n')}\ndifferences: ${differences.length}\n${differences.join('\n')}\n`,
);
