/**
 * Abuse suite, KQL → SQL: a hostile query must not reach the file system, run a second
 * statement, or run without bounds. Literals are rebuilt from validated parts; the store runs one
 * SELECT with external access off and its configuration locked.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindKql } from '../../src/detect/kql/frontend.js';
import { compileKql } from '../../src/detect/kql/to-sql.js';
import { EventStore, QueryLimitError } from '../../src/store/duckdb.js';
import { runCli } from '../helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lotl-abuse-kql-'));
const secret = path.join(dir, 'secret.csv');
writeFileSync(secret, 'a,b\nTOP-SECRET,2\n');

let store: EventStore;
beforeAll(async () => {
  store = await EventStore.open();
  await store.finish();
});
afterAll(() => store.close());

const compile = (query: string) => compileKql(bindKql(query), { now: new Date('2024-01-01T00:00:00Z') });

describe('KQL literals never carry SQL', () => {
  it('refuses typed literals that are not what their type says, at their position', async () => {
    const out = path.join(dir, 'pwned.csv');
    for (const literal of [
      `long(1; COPY SecurityEvent TO '${out}'; SELECT 1)`,
      `long(a FROM '${secret}')`,
      `int(1 UNION SELECT 2)`,
      `real(1e3) OR 1=1`,
      `bool(true OR 1=1)`,
      `decimal(1/**/)`,
      `guid(x' OR '1)`,
    ]) {
      const { code, stderr, stdout } = await runCli(['query', `print x=${literal}`, 'examples/']);
      expect(code, literal).toBe(2);
      expect(stdout).not.toContain('TOP-SECRET');
      expect(stderr).toMatch(/query:1:\d+: error/);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('the same through hunt --kql FILE', async () => {
    const out = path.join(dir, 'pwned-hunt.csv');
    const hunt = path.join(dir, 'evil.kql');
    writeFileSync(hunt, `// level: high\nprint x=long(1; COPY SecurityEvent TO '${out}'; SELECT 1)\n`);
    const { stderr } = await runCli([
      'hunt',
      '--no-builtin',
      '--kql',
      hunt,
      '--format',
      'jsonl',
      'examples/',
    ]);
    expect(stderr).toContain('not a valid literal');
    expect(existsSync(out)).toBe(false);
  });

  it('keeps the value of valid literals: bool(true), every digit of a long, quoted dynamic keys', async () => {
    const compiled = compile(
      `print a=bool(true), b=bool(0), c=long(9223372036854775807), d=long(-9223372036854775808), e=int(0x10), f=real(-inf), g=dynamic({'a"b': 1, "x'y": [9223372036854775807, "q's"]})`,
    );
    const [row] = await store.kql(compiled);
    expect(row.a).toBe(true);
    expect(row.b).toBe(false);
    expect(String(row.c)).toBe('9223372036854775807');
    expect(String(row.d)).toBe('-9223372036854775808');
    expect(Number(row.e)).toBe(16);
    expect(Number(row.f)).toBe(Number.NEGATIVE_INFINITY);
    const g = typeof row.g === 'string' ? row.g : JSON.stringify(row.g);
    expect(g).toContain('"a\\"b"');
    expect(g).toContain('"x\'y"');
    expect(g).toContain('9223372036854775807');
  });

  it('refuses an out-of-range long instead of rounding it', () => {
    expect(() => compile('print x=long(9223372036854775808)')).toThrow(/not a valid literal/);
    expect(() => compile('print x=int(2147483648)')).toThrow(/not a valid literal/);
  });

  it('lotl query prints a long past 2^53 with every digit', async () => {
    const { code, stdout } = await runCli([
      'query',
      '--format',
      'jsonl',
      'print b=long(9223372036854775807)',
      'examples/',
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('9223372036854775807');
  });
});

describe('the store runs one SELECT, with no file access and a locked configuration', () => {
  it('refuses more than one statement, and statements that are not SELECT', async () => {
    await expect(store.sql('SELECT 1; SELECT 2')).rejects.toThrow(/multiple statements/i);
    await expect(store.sql('CREATE TABLE t AS SELECT 1')).rejects.toThrow(QueryLimitError);
    const out = path.join(dir, 'copied.csv');
    await expect(store.sql(`COPY SecurityEvent TO '${out}'`)).rejects.toThrow();
    expect(existsSync(out)).toBe(false);
  });

  it('has no file access, cannot attach, install or load extensions, and cannot be reconfigured', async () => {
    await expect(store.sql(`SELECT * FROM read_csv('${secret}')`)).rejects.toThrow(
      /disabled by configuration/,
    );
    await expect(store.runOwnSql(`COPY (SELECT 1) TO '${path.join(dir, 'x.csv')}'`)).rejects.toThrow(
      /disabled by configuration/,
    );
    await expect(store.runOwnSql(`ATTACH '${path.join(dir, 'x.db')}'`)).rejects.toThrow();
    await expect(store.runOwnSql('INSTALL httpfs')).rejects.toThrow();
    await expect(store.runOwnSql('LOAD httpfs')).rejects.toThrow();
    await expect(store.runOwnSql('SET enable_external_access = true')).rejects.toThrow(/locked/);
  });
});

describe('queries run within limits (row count, time, memory), with a clear error', () => {
  it('a range past --max-rows stops with the limit named', async () => {
    const { code, stderr } = await runCli([
      'query',
      '--max-rows',
      '1000',
      'range x from 1 to 3000000 step 1',
      'examples/',
    ]);
    expect(code).toBe(2);
    expect(stderr).toContain('more than 1,000 rows (--max-rows)');
  });

  it('a cartesian join past --timeout is interrupted', async () => {
    const { code, stderr } = await runCli([
      'query',
      '--timeout',
      '1',
      'range x from 1 to 400000 step 1 | extend k=1 | join kind=inner (range y from 1 to 400000 step 1 | extend k=1) on k | where x*y % 7 == 99 | count',
      'examples/',
    ]);
    expect(code).toBe(2);
    expect(stderr).toContain('ran longer than 1 s (--timeout)');
  });

  it('a query past --max-memory stops with the limit named', async () => {
    const { code, stderr } = await runCli([
      'query',
      '--max-memory',
      '32MB',
      'range x from 1 to 5000000 step 1 | summarize make_set(strcat("abcdefghijklmnop", tostring(x)))',
      'examples/',
    ]);
    expect(code).toBe(2);
    expect(stderr).toContain('(--max-memory)');
  });

  it('range and make-series past their size are refused at their position, constant or not', async () => {
    expect(() => compile('range x from 1 to 1e10 step 1 | count')).toThrow(
      /range would make more than 100,000,000 values/,
    );
    expect(() =>
      compile(
        'range t from datetime(2000-01-01) to datetime(2000-01-02) step 1h | make-series c=count() on t from datetime(1970-01-01) to datetime(2200-01-01) step 1s',
      ),
    ).toThrow(/make-series would make 7,258,118,400 bins/);
    // Bounds computed from the data are checked when the query runs.
    const computed = compile('print n=10000000000 | mv-expand r=range(1, n, 1)');
    await expect(store.kql(computed)).rejects.toThrow(/range\(\) would make more than 1,000,000 values/);
    const fromData = compile('let big = toscalar(print x=10000000000); range x from 1 to big step 1 | count');
    await expect(store.kql(fromData)).rejects.toThrow(/range would make more than 100,000,000 values/);
  });

  it('limit options take whole numbers and sizes only', async () => {
    for (const args of [
      ['--max-rows', 'abc'],
      ['--timeout', '0'],
      ['--max-memory', 'lots'],
    ]) {
      const { code, stderr } = await runCli(['query', ...args, 'print 1', 'examples/']);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toContain('is invalid');
    }
  });
});
