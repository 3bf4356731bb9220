/**
 * `lotl rules convert`: the pack's Sigma rules as DuckDB SQL, ClickHouse SQL and KQL. The printed
 * SQL runs as it is — on DuckDB, and on a clickhouse-server started on loopback — over a table of
 * the examples' events (a column per Sigma field), and selects exactly the events the rule's own
 * matcher accepts; the KQL binds with Microsoft's parser. Rules the IR cannot express are listed
 * with the reason.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindKql } from '../../src/detect/kql/frontend.js';
import { getter } from '../../src/detect/sigma/compile.js';
import { type Converted, convertRules } from '../../src/detect/sigma/convert.js';
import { loadRules } from '../../src/detect/sigma/load.js';
import { normalize } from '../../src/normalize/normalize.js';
import { registerKqlFunctions } from '../../src/store/udfs.js';
import { EXAMPLES, PACK_CORRELATIONS, PACK_RULES, ROOT, readAllItems, runCli } from '../helpers.js';
import { type ClickHouse, HAS_CLICKHOUSE, startClickHouse } from '../support/clickhouse.js';

const PACK = path.join(ROOT, 'rules', 'sigma');

/** The examples as rows: id, then each field's text as a category rule reads it (null: absent, a list or a map). */
async function exampleRows(fields: string[]) {
  const { events } = await readAllItems([EXAMPLES]);
  const views = events.map((e) => normalize(e));
  const getters = fields.map((f) => getter(f, { scope: 'category' }));
  const rows = views.map((view, id) => {
    const row: Record<string, string | number | null> = { id };
    fields.forEach((f, i) => {
      const v = getters[i](view);
      row[f] = v === undefined || v === null || typeof v === 'object' ? null : String(v);
    });
    return row;
  });
  return { views, rows };
}

let clickhouse: ClickHouse | null = null;
beforeAll(async () => {
  if (HAS_CLICKHOUSE) clickhouse = await startClickHouse();
});
afterAll(async () => {
  await clickhouse?.stop();
});

describe('lotl rules convert', () => {
  it('prints one query a rule, says how many converted and why the others did not; bad --to is a usage error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lotl-convert-'));
    writeFileSync(
      path.join(dir, 'keywords.yml'),
      'title: Keyword Rule\nid: 0f0e0d0c-0b0a-4909-8807-060504030201\nlogsource: {product: windows}\ndetection: {keywords: [mimikatz], condition: keywords}\nlevel: high\n',
    );
    const r = await runCli(['rules', 'convert', '--to', 'duckdb', PACK, dir]);
    expect(r.code, r.stderr).toBe(0);
    // The pack's rules convert; its correlation rules and the keyword rule are said with why not.
    expect(r.stderr).toContain(
      `lotl rules convert: ${PACK_RULES} of ${PACK_RULES + PACK_CORRELATIONS + 1} rules converted to duckdb\n`,
    );
    expect(r.stderr).toMatch(/\n +1 +a keyword search over every value/);
    expect(r.stderr).toMatch(new RegExp(`\\n +${PACK_CORRELATIONS} +a correlation rule is no one query`));
    expect(r.stdout.match(/^SELECT \* FROM "events" WHERE /gm)).toHaveLength(PACK_RULES);
    expect(r.stdout).toContain(
      '-- Keyword Rule (0f0e0d0c-0b0a-4909-8807-060504030201) logsource windows/*/*\n-- not converted:',
    );
    const kql = await runCli(['rules', 'convert', '--to', 'kql', '--table', 'DeviceEvents', PACK]);
    expect(kql.stdout.match(/^DeviceEvents\n\| where /gm)).toHaveLength(PACK_RULES);
    const bad = await runCli(['rules', 'convert', '--to', 'splunk', PACK]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--to must be one of duckdb, clickhouse, kql');
  });

  it('the DuckDB SQL selects the events the rule accepts, on the examples', async () => {
    const { converted } = convertRules([PACK], 'duckdb');
    const fields = [...new Set(converted.flatMap((c) => c.fields))].sort();
    const { views, rows } = await exampleRows(fields);
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      registerKqlFunctions(db);
      await db.run(`CREATE TABLE events (id INTEGER, ${fields.map((f) => `"${f}" VARCHAR`).join(', ')})`);
      for (const row of rows)
        await db.run(`INSERT INTO events VALUES (?, ${fields.map(() => '?').join(', ')})`, [
          row.id,
          ...fields.map((f) => row[f]),
        ]);
      const matched = await agreeWithRules(converted, views, async (sql) =>
        (await db.runAndReadAll(sql.replace('SELECT *', 'SELECT id')))
          .getRowObjectsJson()
          .map((r) => Number(r.id)),
      );
      expect(matched).toBeGreaterThan(30);
    } finally {
      db.closeSync();
      instance.closeSync();
    }
  });

  it.skipIf(!HAS_CLICKHOUSE)('the ClickHouse SQL selects the same events on a real server', async () => {
    const { converted } = convertRules([PACK], 'clickhouse');
    const fields = [...new Set(converted.flatMap((c) => c.fields))].sort();
    const { views, rows } = await exampleRows(fields);
    await clickhouse!.query(
      `CREATE TABLE events (id UInt32, ${fields.map((f) => `\`${f}\` Nullable(String)`).join(', ')}) ENGINE = Memory`,
    );
    await clickhouse!.query(
      'INSERT INTO events FORMAT JSONEachRow',
      rows.map((r) => JSON.stringify(r)).join('\n'),
    );
    const matched = await agreeWithRules(converted, views, async (sql) =>
      (await clickhouse!.query(`${sql.replace('SELECT *', 'SELECT id')} FORMAT JSONEachRow`))
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => Number(JSON.parse(l).id)),
    );
    expect(matched).toBeGreaterThan(30);
  });

  it("the KQL binds with Microsoft's parser over a table of the rule's fields", () => {
    const { converted } = convertRules([PACK], 'kql');
    expect(converted.filter((c) => c.query)).toHaveLength(PACK_RULES);
    // (The pack's correlation rules have no query: they are judged over their rules' matches.)
    for (const c of converted.filter((x) => x.query)) {
      const table = { name: 'events', columns: c.fields.map((f) => [f, 'string'] as [string, 'string']) };
      const errors = bindKql(c.query!, [table]).problems.filter((p) => p.severity === 'error');
      expect(errors, `${c.title}\n${c.query}`).toEqual([]);
    }
  });
});

/**
 * Each converted rule's rows against its own matcher on the same events (category rules: they read
 * the taxonomy's names, as the table's columns do). The number of matches seen.
 */
async function agreeWithRules(
  converted: Converted[],
  views: ReturnType<typeof normalize>[],
  run: (sql: string) => Promise<number[]>,
): Promise<number> {
  const { rules } = loadRules([PACK]);
  let matched = 0;
  for (const c of converted) {
    const rule = rules.find((r) => r.id === c.id);
    if (!rule || !c.query || !rule.logsource.category) continue;
    const expected = views.flatMap((v, i) => (rule.match(v) ? [i] : []));
    const got = (await run(`${c.query} ORDER BY id`)).sort((a, b) => a - b);
    matched += expected.length;
    expect(got, `${c.title}\n${c.query}`).toEqual(expected);
  }
  return matched;
}
