/**
 * The predicate IR means the same in JavaScript and in SQL: random predicates (every kind of node,
 * nested and negated) over random rows (non-ASCII text, quotes and LIKE wildcards, numbers with
 * spaces and signs, addresses of both families, absent values) select the same rows through
 * toMatcher(), through the DuckDB SQL of src/sql/ run on a real DuckDB with its values as
 * parameters, and through the ClickHouse SQL run on a real clickhouse-server (Debian's 18.16,
 * started on loopback), whose values are literals, its IP ranges spelt in 18.16's functions.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  and,
  cidr,
  compare,
  constant,
  exists,
  type FieldValue,
  fieldref,
  glob,
  jsregex,
  type Node,
  not,
  oneOf,
  or,
  PredicateError,
  regex,
  text,
  toMatcher,
} from '../../src/detect/ir/predicate.js';
import { toJs } from '../../src/detect/ir/to-js.js';
import { sigmaToPredicate } from '../../src/detect/sigma/to-predicate.js';
import { CLICKHOUSE, DUCKDB, render } from '../../src/sql/dialects.js';
import {
  ADDRESS_KEY_PREFIX,
  HAS_LIST_PREFIX,
  LIST_PREFIX,
  predicateSql,
} from '../../src/sql/from-predicate.js';
import { value as sqlValue } from '../../src/sql/tree.js';
import { registerKqlFunctions } from '../../src/store/udfs.js';
import { type ClickHouse, HAS_CLICKHOUSE, startClickHouse } from '../support/clickhouse.js';

const FIELDS = ['a', 'b', 'n', 'ip'] as const;
const TEXTS = [
  'cmd.exe /c whoami',
  'CMD.EXE',
  'ntdsutil "ac i ntds" ifm',
  'Straße',
  'STRASSE',
  'Ärger über Öl',
  'İstanbul',
  'ǅemal',
  '\u212Aelvin',
  'fox 🦊 den',
  "it's 100% _done_",
  'C:\\Windows\\System32\\lsass.exe',
  '',
  ' ',
];
const NUMBERS = ['12', ' 7 ', '-3.5', '0x10', '1e3', '', '007', '12.', '4688', '-0', '3.25'];
const ADDRESSES = [
  '10.1.2.3',
  '192.168.0.1',
  '::1',
  'fe80::1',
  '10.0.0.256',
  ' 10.9.8.7',
  '2001:db8::5',
  'host',
  // IPv6 spellings ir/ip.ts reads (mapped IPv4 is IPv4; a zone and brackets are taken off) and
  // ones it refuses (two ::, nine groups, a bad IPv4 tail), each of which 18.16 must read alike.
  '::ffff:10.1.2.3',
  '::FFFF:c0a8:1',
  'FE80::0001',
  '[::1]',
  'fe80::1%eth0',
  '1:2:3:4:5:6:7:8',
  '2001:db8::1.2.3.4',
  '::',
  '1::2::3',
  '1:2:3:4:5:6:7:8:9',
  '::ffff:10.1.2.256',
  '2001:db8:0:0:1::',
];

const RANGES = [
  '10.0.0.0/8',
  '192.168.0.0/16',
  '::1/128',
  'fe80::/10',
  '0.0.0.0/0',
  '2001:db8::/32',
  '::/0',
  '2001:db8::1.2.3.0/120',
  '10.1.2.3/32',
];

const pool = (f: (typeof FIELDS)[number]) => (f === 'n' ? NUMBERS : f === 'ip' ? ADDRESSES : TEXTS);
const value = (f: (typeof FIELDS)[number]) =>
  fc.oneof(
    fc.constantFrom(...pool(f)),
    // Pieces of the pool, so contains/startswith/endswith find something.
    fc
      .tuple(fc.constantFrom(...pool(f)), fc.nat(), fc.nat())
      .map(([s, i, j]) =>
        [...s].slice(Math.min(i, j) % (s.length + 1), (Math.max(i, j) % (s.length + 1)) + 1).join(''),
      ),
  );

const row = fc.record(
  Object.fromEntries(
    FIELDS.map((f) => [f, fc.option(fc.constantFrom(...pool(f)), { nil: null, freq: 4 })]),
  ) as Record<(typeof FIELDS)[number], fc.Arbitrary<string | null>>,
);

const field = fc.constantFrom(...FIELDS);
const leaf: fc.Arbitrary<Node> = fc.oneof(
  fc
    .tuple(field, fc.constantFrom('equals', 'contains', 'startswith', 'endswith' as const), fc.boolean())
    .chain(([f, op, cased]) => value(f).map((v) => text(f, op, v, cased))),
  fc
    .tuple(field, fc.boolean())
    .chain(([f, cased]) => fc.array(value(f), { maxLength: 4 }).map((vs) => oneOf(f, vs, cased))),
  fc
    .tuple(
      field,
      fc.constantFrom(
        '^cmd',
        'exe$',
        'i.e',
        'str(a|o)',
        '[0-9]+',
        '^$',
        'ß',
        '🦊',
        'lsass\\.exe',
        '^ *-?[0-9]',
        '\\bcmd\\b',
        'exe\\s',
        '[\\s\\S]\\S',
        '\\d{2}',
        '\\W\\w',
        '\\"it',
      ),
      fc.boolean(),
    )
    .map(([f, p, i]) => regex(f, p, i)),
  fc
    .tuple(
      field,
      fc.array(
        fc.oneof(
          value('a'),
          fc.constant({ any: true } as const),
          fc.constant({ one: true } as const),
          fc.constant({ oneOf: '-/\u2013]^\\' }),
        ),
        { maxLength: 4 },
      ),
      fc.boolean(),
    )
    .map(([f, parts, cased]) => glob(f, parts, cased)),
  fc
    .tuple(
      fc.constantFrom('a', 'b'),
      fc.constantFrom('a', 'b', 'n'),
      fc.constantFrom('equals', 'contains', 'startswith', 'endswith' as const),
      fc.boolean(),
    )
    .map(([f, o, op, cased]) => fieldref(f, o, op, cased)),
  fc.constantFrom(...RANGES).map((r) => cidr('ip', r)),
  fc
    .tuple(
      fc.constantFrom('lt', 'lte', 'gt', 'gte', 'eq' as const),
      fc.constantFrom(-3.5, 0, 7, 12, 4688, 1000),
    )
    .map(([op, v]) => compare('n', op, v)),
  field.map(exists),
  fc.boolean().map(constant),
  // Many alternatives of one field and test (a rule's value list): SQL writes them as one regex.
  fc
    .tuple(field, fc.constantFrom('contains', 'startswith', 'endswith' as const), fc.boolean())
    .chain(([f, op, cased]) =>
      fc
        .array(fc.oneof(value(f), fc.constantFrom('a.b', '(x|y)', '[', '\\', '^$', '\u0001', '*?+{2}')), {
          minLength: 8,
          maxLength: 14,
        })
        .map((vs) => or(...vs.map((v) => text(f, op, v, cased)))),
    ),
);
const { predicate } = fc.letrec<{ predicate: Node }>((tie) => ({
  predicate: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('predicate'), { maxLength: 3 }).map((of) => and(...of)),
    fc.array(tie('predicate'), { maxLength: 3 }).map((of) => or(...of)),
    tie('predicate').map(not),
  ),
}));

let instance: DuckDBInstance;
let connection: Awaited<ReturnType<DuckDBInstance['connect']>>;
let clickhouse: ClickHouse | null = null;
const rows = fc.sample(row, { numRuns: 160, seed: 17 });
/** Rows whose field a is, every third, a list of texts instead (some empty), as logs' Data lists are. */
const listRows = rows.map((r, i) =>
  i % 3 === 0
    ? { ...r, a: null, al: [r.a ?? '', r.b ?? 'CMD.EXE', ...(i % 2 ? [] : ['Straße'])] }
    : i % 9 === 4
      ? { ...r, a: null, al: [] as string[] }
      : { ...r, al: null as string[] | null },
);
beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
  registerKqlFunctions(connection);
  await connection.run(`CREATE TABLE ev (id INTEGER, ${FIELDS.map((f) => `"${f}" VARCHAR`).join(', ')})`);
  for (const [i, r] of rows.entries())
    await connection.run(
      `INSERT INTO ev VALUES (${i}, ${FIELDS.map(() => '?').join(', ')})`,
      FIELDS.map((f) => r[f]),
    );
  // The same rows with field a sometimes a list of texts (and sometimes an empty list).
  await connection.run(
    `CREATE TABLE evl (id INTEGER, ${FIELDS.map((f) => `"${f}" VARCHAR`).join(', ')}, a_list VARCHAR[])`,
  );
  for (const [i, r] of listRows.entries())
    await connection.run(
      `INSERT INTO evl VALUES (${i}, ${FIELDS.map(() => '?').join(', ')}, ${
        r.al === null ? 'NULL' : `[${r.al.map(() => '?').join(', ')}]::VARCHAR[]`
      })`,
      [...FIELDS.map((f) => r[f]), ...(r.al ?? [])],
    );
  if (HAS_CLICKHOUSE) {
    clickhouse = await startClickHouse();
    await clickhouse.query(
      `CREATE TABLE ev (id UInt32, ${FIELDS.map((f) => `\`${f}\` Nullable(String)`).join(', ')}) ENGINE = Memory`,
    );
    await clickhouse.query(
      'INSERT INTO ev FORMAT JSONEachRow',
      rows.map((r, i) => JSON.stringify({ id: i, ...r })).join('\n'),
    );
  }
});
afterAll(async () => {
  connection.closeSync();
  instance.closeSync();
  await clickhouse?.stop();
});

/** The ids the DuckDB SQL of a predicate selects. */
async function duckdbIds(p: Node): Promise<number[]> {
  const { sql, params } = predicateSql(p, DUCKDB);
  const reader = await connection.runAndReadAll(`SELECT id FROM ev WHERE ${sql} ORDER BY id`, params);
  return reader.getRowObjectsJson().map((r) => Number(r.id));
}

/**
 * The rows a predicate selects in JavaScript: the streaming engine's matcher (ir/to-js.ts), which
 * must select what the IR's plain reading (toMatcher) selects.
 */
function selectedBy<T>(p: Node, data: T[], read: (row: T, field: string) => unknown): number[] {
  const plain = toMatcher(p);
  const engine = toJs<T>(p, (f) => (row) => read(row, f));
  const want = data.flatMap((r, i) => (plain((f) => read(r, f) as FieldValue) ? [i] : []));
  const got = data.flatMap((r, i) => (engine(r) ? [i] : []));
  expect(got, `the engine's matcher of ${JSON.stringify(p)}`).toEqual(want);
  return want;
}
const jsIds = (p: Node) => selectedBy(p, rows, (r, f) => r[f as (typeof FIELDS)[number]]);

describe('the predicate IR in JavaScript and in DuckDB SQL', () => {
  it('refuses what has no common meaning, with the reason', () => {
    expect(() => regex('a', '(?<=x)y')).toThrow(PredicateError);
    expect(() => regex('a', '(a)\\1')).toThrow(/backreferences/);
    expect(() => regex('a', '[a\\S]')).toThrow(/inside a character class/);
    // Folding [Z-a] for a case-insensitive search makes it [z-a], out of order: refused, and a
    // Sigma rule with it stays JavaScript's (a jsregex the stores refuse with this reason).
    expect(() => regex('a', '[Z-a]x', true)).toThrow(/character ranges change when case is folded/);
    expect(regex('a', '[Z-a]x', false).kind).toBe('regex');
    const sigma = sigmaToPredicate({ s: { 'a|re|i': '[Z-a]x' }, condition: 's' });
    expect(sigma.kind).toBe('jsregex');
    expect(toJs<Record<string, string>>(sigma, (f) => (r) => r[f])({ a: 'q_X' })).toBe(true);
    expect(() => cidr('ip', '10.0.0.0/33')).toThrow(/not an IPv4 or IPv6 range/);
    expect(() => compare('n', 'lt', Number.NaN)).toThrow(PredicateError);
    // Frozen: a compiled rule cannot be changed under the engines that run it.
    expect(Object.isFrozen(and(text('a', 'equals', 'x')))).toBe(true);
  });

  it('a value written as a literal (engines without parameters) reads back as itself', async () => {
    const inline = { ...DUCKDB, parameters: false };
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 40 }), async (s) => {
        // Lone surrogates have no UTF-8 form; DuckDB's text is UTF-8.
        const text = s.replace(/[\ud800-\udfff]/g, '\ufffd');
        const { sql, params } = render(sqlValue(text), inline);
        expect(params).toEqual([]);
        const reader = await connection.runAndReadAll(`SELECT ${sql} AS v`);
        expect(reader.getRowObjectsJson()[0].v).toBe(text);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('random predicates over random rows select the same rows', async () => {
    let selected = 0;
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(predicate, async (p) => {
        const fromJs = jsIds(p);
        selected += fromJs.length;
        checked++;
        expect(await duckdbIds(p), `${JSON.stringify(p)}\n${predicateSql(p, DUCKDB).sql}`).toEqual(fromJs);
      }),
      { numRuns: 400, seed: 4688 },
    );
    // The runs selected rows (an answer of no rows everywhere would prove nothing).
    expect(checked).toBe(400);
    expect(selected).toBeGreaterThan(4000);
  });
});

describe("the engine's matcher and the IR's plain reading", () => {
  it('agree on random predicates with regexes only JavaScript runs (lookaround, multiline)', () => {
    const js = fc
      .tuple(
        fc.constantFrom(...FIELDS),
        fc.constantFrom('(?<=cmd)\\.exe', 'ß(?!e)', '(a)\\1', '^exe$', 'I.E', '\\bcmd\\b'),
        fc.constantFrom('', 'i', 'm', 's', 'im'),
      )
      .map(([f, source, flags]) => jsregex(f, source, flags, 'test'));
    const { mixed } = fc.letrec<{ mixed: Node }>((tie) => ({
      mixed: fc.oneof(
        { depthSize: 'small' },
        leaf,
        js,
        fc.array(tie('mixed'), { maxLength: 3 }).map((of) => or(...of)),
        tie('mixed').map(not),
      ),
    }));
    let selected = 0;
    fc.assert(
      fc.property(mixed, (p) => {
        selected += jsIds(p).length;
      }),
      { numRuns: 500, seed: 3001 },
    );
    expect(selected).toBeGreaterThan(4000);
  });
});

describe('IP ranges on DuckDB: through lotl_ip_in_range, or address keys parsed once', () => {
  const pool = () => [
    ...ADDRESSES,
    ' \t::1 ',
    '::ffff:0a01:0203',
    '0:0:0:0:0:ffff:10.9.8.7',
    'fe80::1%',
    '[fe80::1%eth0]',
    '010.1.2.3',
    '10.1.2.3.4',
  ];
  /** The pool's addresses a range test selects on DuckDB, written with or without address keys. */
  async function selected(node: Node, addressKeys: boolean): Promise<string[]> {
    const { sql, params } = predicateSql(node, DUCKDB, {
      addressKeys,
      fieldSql: (name) => (name.startsWith(ADDRESS_KEY_PREFIX) ? 'lotl_ip_key(ip)' : name),
    });
    const values = pool()
      .map((a) => DUCKDB.literal(a))
      .join(', ');
    const reader = await connection.runAndReadAll(
      `SELECT ip FROM (SELECT unnest([${values}]) AS ip) WHERE ${sql}`,
      params,
    );
    return reader
      .getRowObjectsJson()
      .map((r) => String(r.ip))
      .sort();
  }

  it('every address of the pool in every range: as ir/ip.ts reads them, both ways', async () => {
    let inside = 0;
    for (const range of RANGES) {
      const node = cidr('ip', range);
      const match = toMatcher(node);
      const want = pool()
        .filter((a) => match(() => a))
        .sort();
      inside += want.length;
      expect(await selected(node, false), range).toEqual(want);
      expect(await selected(node, true), `${range} (address keys)`).toEqual(want);
    }
    expect(inside).toBeGreaterThan(20);
  });

  it('random predicates with address keys select the rows JavaScript selects', async () => {
    await fc.assert(
      fc.asyncProperty(predicate, async (p) => {
        const { sql, params } = predicateSql(p, DUCKDB, {
          addressKeys: true,
          fieldSql: (name) =>
            name.startsWith(ADDRESS_KEY_PREFIX)
              ? `lotl_ip_key("${name.slice(ADDRESS_KEY_PREFIX.length)}")`
              : `"${name}"`,
        });
        const reader = await connection.runAndReadAll(`SELECT id FROM ev WHERE ${sql} ORDER BY id`, params);
        expect(
          reader.getRowObjectsJson().map((r) => Number(r.id)),
          `${JSON.stringify(p)}\n${sql}`,
        ).toEqual(jsIds(p));
      }),
      { numRuns: 200, seed: 5156 },
    );
  });
});

describe('fields holding lists (DuckDB)', () => {
  it('a test holds when it holds for the text or for any element of the list', async () => {
    let selected = 0;
    await fc.assert(
      fc.asyncProperty(predicate, async (p) => {
        const { sql, params } = predicateSql(p, DUCKDB, {
          lists: true,
          fieldSql: (name) =>
            name.startsWith(HAS_LIST_PREFIX)
              ? name.slice(HAS_LIST_PREFIX.length) === 'a'
                ? '(a_list IS NOT NULL)'
                : 'FALSE'
              : name.startsWith(LIST_PREFIX)
                ? name.slice(LIST_PREFIX.length) === 'a'
                  ? 'a_list'
                  : 'CAST(NULL AS VARCHAR[])'
                : `"${name}"`,
        });
        const reader = await connection.runAndReadAll(`SELECT id FROM evl WHERE ${sql} ORDER BY id`, params);
        const fromSql = reader.getRowObjectsJson().map((r) => Number(r.id));
        const fromJs = selectedBy(p, listRows, (r, f) =>
          f === 'a' ? (r.a ?? r.al ?? null) : r[f as (typeof FIELDS)[number]],
        );
        selected += fromJs.length;
        expect(fromSql, `${JSON.stringify(p)}\n${sql}`).toEqual(fromJs);
      }),
      { numRuns: 400, seed: 99 },
    );
    expect(selected).toBeGreaterThan(4000);
  });
});

describe.skipIf(!HAS_CLICKHOUSE)('the predicate IR in ClickHouse SQL', () => {
  it('random predicates select the rows JavaScript selects', async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(predicate, async (p) => {
        const sql = predicateSql(p, CLICKHOUSE).sql;
        const text = await clickhouse!.query(`SELECT id FROM ev WHERE ${sql} ORDER BY id FORMAT JSONEachRow`);
        const ids = text
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => Number(JSON.parse(l).id));
        compared++;
        expect(ids, `${JSON.stringify(p)}\n${sql}`).toEqual(jsIds(p));
      }),
      { numRuns: 400, seed: 4688 },
    );
    expect(compared).toBe(400);
  });

  it('every address of the pool in every range: as ir/ip.ts reads them (both families, mapped IPv4)', async () => {
    const pool = [
      ...ADDRESSES,
      ' \t::1 ',
      '::ffff:0a01:0203',
      '0:0:0:0:0:ffff:10.9.8.7',
      'fe80::1%',
      '[fe80::1%eth0]',
    ];
    let inside = 0;
    for (const range of RANGES) {
      const node = cidr('ip', range);
      const { sql } = predicateSql(node, CLICKHOUSE);
      const text = await clickhouse!.query(
        `SELECT ip FROM (SELECT arrayJoin([${pool.map((a) => CLICKHOUSE.literal(a)).join(', ')}]) AS ip) WHERE ${sql} FORMAT JSONEachRow`,
      );
      const got = text
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => String(JSON.parse(l).ip))
        .sort();
      const match = toMatcher(node);
      const want = pool.filter((a) => match(() => a)).sort();
      inside += want.length;
      expect(got, range).toEqual(want);
    }
    expect(inside).toBeGreaterThan(20);
  });

  it('a value written as a ClickHouse literal reads back as itself', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 40 }), async (s) => {
        const text = s.replace(/[\ud800-\udfff]/g, '\ufffd');
        const { sql } = render(sqlValue(text), CLICKHOUSE);
        const out = await clickhouse!.query(`SELECT ${sql} AS v FORMAT JSONEachRow`);
        expect(JSON.parse(out).v).toBe(text);
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});
