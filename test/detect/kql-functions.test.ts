/**
 * Every KQL operator and function lotl compiles, one case at least each: the expression and the
 * value Kusto's documentation gives for it (its examples; where the docs give none, the value
 * their definition implies — hashes are checked against Node's crypto). The semantics that need
 * more than one line (has, joins, null rules …) are in kql-semantics.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindKql } from '../../src/detect/kql/frontend.js';
import { compileKql } from '../../src/detect/kql/to-sql.js';
import { EventStore } from '../../src/store/duckdb.js';

let store: EventStore;
beforeAll(async () => {
  store = await EventStore.open();
  await store.finish();
});
afterAll(() => store.close());

async function rows(
  query: string,
  externalData?: (url: string) => string | undefined,
  on: EventStore = store,
) {
  const bound = bindKql(query);
  const errors = bound.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) throw new Error(`${query}: ${errors.map((e) => e.message).join('; ')}`);
  const compiled = compileKql(bound, { now: new Date('2024-01-01T00:00:00Z'), externalData });
  return (await on.kql(compiled)).map((r) => {
    const out: Record<string, unknown> = {};
    for (const { name, type } of compiled.columns) {
      let v = r[name];
      if (v !== null && (type === 'long' || type === 'int' || type === 'real')) v = Number(v);
      if (v !== null && type === 'dynamic' && typeof v === 'string') v = JSON.parse(v);
      if (v !== null && type === 'datetime') v = `${String(v).replace(' ', 'T')}Z`;
      out[name] = v;
    }
    return out;
  });
}

/** `expression` → expected value, through `print v = expression`. */
const SCALARS: [string, unknown][] = [
  // strings
  ['tolower("ABC")', 'abc'],
  ['toupper("abc")', 'ABC'],
  ['strlen("hello")', 5],
  ['reverse("abc")', 'cba'],
  ['strcat("a", "b", 1)', 'ab1'],
  ['strcat_delim("-", "a", "b")', 'a-b'],
  ['substring("ABCD", 1, 2)', 'BC'],
  ['substring("ABCD", 2)', 'CD'],
  ['indexof("abcdefg", "cde")', 2],
  ['indexof_regex("abcabc", "b.")', 1],
  ['countof("aaa", "a")', 3],
  ['trim_start("-", "--x--")', 'x--'],
  ['trim_end("-", "--x--")', '--x'],
  ['trim(@"\\s", "  x  ")', 'x'],
  ['replace_string("A magic trick", "magic", "cool")', 'A cool trick'],
  ['replace_regex("abc123", @"\\d", "#")', 'abc###'],
  ['replace(@"\\d", "#", "a1")', 'a#'],
  ['strrep("ab", 3)', 'ababab'],
  ['strrep("ab", 2, ",")', 'ab,ab'],
  ['extract_all(@"(\\d+)", "a1b22")', ['1', '22']],
  ['extractjson("$.a", @"{""a"":""x""}")', 'x'],
  ['url_encode("a b")', 'a%20b'],
  ['base64_encode_tostring("Kusto")', 'S3VzdG8='],
  ['hash_sha256("Kusto")', createHash('sha256').update('Kusto').digest('hex')],
  ['hash_md5("Kusto")', createHash('md5').update('Kusto').digest('hex')],
  ['parse_command_line(@"cmd.exe /c ""a b"" x", "windows")', ['cmd.exe', '/c', 'a b', 'x']],
  ['parse_version("1.2.10") > parse_version("1.2.3")', true],
  ['make_string(75, 117)', 'Ku'],
  ['unicode_codepoints_from_string("Ab")', [65, 98]],
  ['format_bytes(564)', '564 Bytes'],
  ['format_bytes(10332, 1)', '10.1 KB'],
  ['format_timespan(time(1.01:02:03), "d.hh:mm:ss")', '1.01:02:03'],
  ['parse_csv(@"a,""b,c"",d")', ['a', 'b,c', 'd']],
  // conversions
  ['tobool("true")', true],
  ['toint("123")', 123],
  ['tolong(123.9)', 123],
  ['toreal("1.5")', 1.5],
  ['todouble("2")', 2],
  ['tostring(123)', '123'],
  ['tostring(true)', 'true'],
  ['tostring(dynamic({"a": 1}))', '{"a":1}'],
  ['todynamic("[1]")', [1]],
  ['dynamic_to_json(dynamic([1, "a"]))', '[1,"a"]'],
  // logic
  ['iff(1 > 2, "a", "b")', 'b'],
  ['iif(true, 1, 2)', 1],
  ['case(1 > 2, "a", 2 > 1, "b", "c")', 'b'],
  ['not(1 > 2)', true],
  ['isnotnull(5)', true],
  ['isnotempty("")', false],
  // times
  ['datetime_part("day", datetime(2017-10-30 01:02:03))', 30],
  ['dayofmonth(datetime(2015-12-14))', 14],
  ['dayofyear(datetime(2015-12-14))', 348],
  ['hourofday(datetime(2015-12-14 18:54))', 18],
  ['getmonth(datetime(2015-10-12))', 10],
  ['monthofyear(datetime(2015-12-14))', 12],
  ['getyear(datetime(2015-10-12))', 2015],
  ['week_of_year(datetime(2015-12-14))', 51],
  ['format_datetime(datetime(2015-12-14 02:03:04), "yyyy-MM-dd [HH:mm:ss]")', '2015-12-14 [02:03:04]'],
  ['tostring(unixtime_seconds_todatetime(1546300800))', '2019-01-01T00:00:00Z'],
  ['tostring(unixtime_milliseconds_todatetime(1546300800123))', '2019-01-01T00:00:00.123Z'],
  ['tostring(startofyear(datetime(2017-05-06)))', '2017-01-01T00:00:00Z'],
  ['tostring(endofday(datetime(2017-01-01 10:10:17)))', '2017-01-01T23:59:59.999999Z'],
  ['tostring(endofmonth(datetime(2017-02-10)))', '2017-02-28T23:59:59.999999Z'],
  ['tostring(datetime_add("hour", 2, datetime(2017-01-01)))', '2017-01-01T02:00:00Z'],
  ['tostring(todatetime("2015-12-24"))', '2015-12-24T00:00:00Z'],
  ['tostring(bin_at(datetime(2017-05-15 10:20:00), 1d, datetime(1970-01-01 12:00)))', '2017-05-14T12:00:00Z'],
  ['datetime(2017-01-02) - datetime(2017-01-01) == 1d', true],
  ['1d / 1h', 24],
  ['totimespan("0.00:01:00") == 1m', true],
  // numbers
  ['abs(-5)', 5],
  ['round(2.98765, 3)', 2.988],
  ['ceiling(1.1)', 2],
  ['floor(7.9, 1)', 7],
  ['sqrt(4)', 2],
  ['pow(2, 3)', 8],
  ['log10(100)', 2],
  ['log2(8)', 3],
  ['exp(0)', 1],
  ['sign(-42)', -1],
  ['max_of(10, 1, 5)', 10],
  ['min_of(10, 1, 5)', 1],
  ['binary_and(6, 3)', 2],
  ['binary_or(6, 3)', 7],
  ['binary_xor(6, 3)', 5],
  ['binary_shift_left(1, 3)', 8],
  ['binary_shift_right(8, 3)', 1],
  ['parse_ipv4("127.0.0.1")', 2130706433],
  ['has_ipv4("from 10.1.2.3 to x", "10.1.2.3")', true],
  // dynamic
  ['array_concat(dynamic([1]), dynamic([2, 3]))', [1, 2, 3]],
  ['array_sort_asc(dynamic([3, 1, 2]))', [1, 2, 3]],
  ['array_sort_desc(dynamic([3, 1, 2]))', [3, 2, 1]],
  ['set_intersect(dynamic([1, 2]), dynamic([2, 3]))', [2]],
  ['set_difference(dynamic([1, 2, 3]), dynamic([2]))', [1, 3]],
  ['set_union(dynamic([1, 2]), dynamic([2, 3]))', [1, 2, 3]],
  ['bag_merge(dynamic({"a": 1}), dynamic({"b": 2}))', { a: 1, b: 2 }],
  ['pack("a", 1)', { a: 1 }],
  ['range(1, 3, 1)', [1, 2, 3]],
];

describe('KQL functions, one by one', () => {
  it.each(SCALARS)('%s', async (expression, expected) => {
    const [row] = await rows(`print v = ${expression}`);
    if (typeof expected === 'number' && !Number.isInteger(expected)) expect(row.v).toBeCloseTo(expected, 6);
    else expect(row.v).toEqual(expected);
  });

  it('aggregates: sum, avg, min, max, stdev, variance, percentile(s), *if forms, take_any, make_list_if, make_bag', async () => {
    const [r] = await rows(
      'range x from 1 to 9 step 1 | summarize s = sum(x), a = avg(x), mn = min(x), mx = max(x), sd = stdev(x), v = variance(x), p = percentile(x, 50), si = sumif(x, x > 5), ai = avgif(x, x > 5), mni = minif(x, x > 5), mxi = maxif(x, x < 5), c = count_distinct(x), ci = countif(x % 2 == 0), dci = dcountif(x, x > 7), t = take_any(x), l = make_list_if(x, x > 7), b = make_bag(bag_pack(tostring(x), x))',
    );
    expect(r).toMatchObject({
      s: 45,
      a: 5,
      mn: 1,
      mx: 9,
      p: 5,
      si: 30,
      ai: 7.5,
      mni: 6,
      mxi: 4,
      c: 9,
      ci: 4,
      dci: 2,
    });
    expect(r.sd as number).toBeCloseTo(2.7386, 4);
    expect(r.v as number).toBeCloseTo(7.5, 6);
    expect(r.t).toBeGreaterThanOrEqual(1);
    expect((r.l as number[]).sort()).toEqual([8, 9]);
    expect(Object.keys(r.b as object)).toHaveLength(9);
    const [q] = await rows('range x from 1 to 100 step 1 | summarize percentiles(x, 25, 90)');
    expect(Object.values(q)).toEqual([25, 90]);
  });
});

describe('KQL operators, one by one', () => {
  const T = 'datatable(a:string, b:long, c:string)["x", 1, "p", "y", 2, "q", "x", 3, "r"]';

  it('distinct, count, take/limit, sample', async () => {
    expect((await rows(`${T} | distinct a`)).map((r) => r.a).sort()).toEqual(['x', 'y']);
    expect(await rows(`${T} | count`)).toEqual([{ Count: 3 }]);
    expect(await rows(`${T} | take 2`)).toHaveLength(2);
    expect(await rows(`${T} | limit 1`)).toHaveLength(1);
    expect(await rows(`${T} | sample 2`)).toHaveLength(2);
  });

  it('project-away, project-keep, project-rename, project-reorder', async () => {
    expect(Object.keys((await rows(`${T} | project-away b`))[0])).toEqual(['a', 'c']);
    expect(Object.keys((await rows(`${T} | project-keep c, a`))[0])).toEqual(['a', 'c']);
    expect(Object.keys((await rows(`${T} | project-rename bee = b`))[0])).toEqual(['a', 'bee', 'c']);
    expect(Object.keys((await rows(`${T} | project-reorder c, a`))[0])).toEqual(['c', 'a', 'b']);
  });

  it('render, as and serialize leave the rows as they are; getschema describes the columns', async () => {
    expect(await rows(`${T} | render table`)).toHaveLength(3);
    expect(await rows(`${T} | as X | where b > 1`)).toHaveLength(2);
    expect((await rows(`${T} | sort by b asc | serialize n = row_number()`)).map((r) => r.n)).toHaveLength(3);
    const schema = await rows(`${T} | getschema`);
    expect(schema.map((r) => [r.ColumnName, r.ColumnType])).toEqual([
      ['a', 'string'],
      ['b', 'long'],
      ['c', 'string'],
    ]);
  });

  it('parse-where keeps only matching rows; parse kind=regex', async () => {
    const where = await rows(
      'datatable(s:string)["user=alice id=1", "nothing"] | parse-where s with "user=" u " id=" id:long',
    );
    expect(where).toEqual([{ s: 'user=alice id=1', u: 'alice', id: 1 }]);
    const regex = await rows(
      'datatable(s:string)["a123b"] | parse kind=regex s with "[a-z]" n:long "[a-z]" | project n',
    );
    expect(regex).toEqual([{ n: 123 }]);
  });

  it('parse-kv: values of the declared keys, quoted or not; absent keys empty', async () => {
    const out = await rows(
      `print s = 'cmd.exe name="my tool" port=8080 x=1' | parse-kv s as (name:string, port:long, other:string) with (pair_delimiter=' ', kv_delimiter='=', quote='"') | project name, port, other`,
    );
    expect(out).toEqual([{ name: 'my tool', port: 8080, other: '' }]);
  });

  it('top-nested: the top values per level, within each value above', async () => {
    const out = await rows(
      'datatable(os:string, dev:string)["w","a", "w","a", "w","b", "l","c", "l","c", "l","d", "m","e"] | top-nested 2 of os by count(), top-nested 1 of dev by count()',
    );
    expect(out.map((r) => [r.os, r.aggregated_os, r.dev, r.aggregated_dev]).sort()).toEqual([
      ['l', 3, 'c', 2],
      ['w', 3, 'a', 2],
    ]);
  });

  it('search (terms, Column:"text", wildcards, several tables) and find', async () => {
    const tables =
      'let T = datatable(a:string, b:long)["ntds.dit here", 1, "x", 2]; let U = datatable(c:string)["ntds", "untds"];';
    const both = await rows(`${tables} search in (T, U) "ntds"`);
    expect(both.map((r) => [r.$table, r.a ?? r.c]).sort()).toEqual([
      ['T', 'ntds.dit here'],
      ['U', 'ntds'],
    ]);
    expect(await rows(`${tables} T | search a:"here" and b == 1 | project a`)).toEqual([
      { a: 'ntds.dit here' },
    ]);
    expect((await rows(`${tables} U | search "*ntds*" | project c`)).map((r) => r.c).sort()).toEqual([
      'ntds',
      'untds',
    ]);
    const found = await rows(
      'let T = datatable(SHA1:string, d:string)["x","h1", "y","h2"]; let U = datatable(InitiatingProcessSHA1:string, d:string)["x","h3"]; find in (T, U) where SHA1 == "x" or InitiatingProcessSHA1 == "x" project d',
    );
    expect(found.map((r) => [r.source_, r.d]).sort()).toEqual([
      ['T', 'h1'],
      ['U', 'h3'],
    ]);
  });

  it('externaldata reads the local copy of its URL', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lotl-ext-'));
    const file = path.join(dir, 'iocs.csv');
    writeFileSync(file, 'sha,name\nabc,frp\ndef,other\n');
    const query =
      'externaldata(sha:string, name:string)[@"https://example.org/iocs.csv"] with (format="csv", ignoreFirstRecord=true) | where name == "frp"';
    const resolve = (url: string) => (url === 'https://example.org/iocs.csv' ? file : undefined);
    // Only a store told that file may read it: the others have file access off.
    const allowed = await EventStore.open(undefined, { allowedFiles: [file] });
    await allowed.finish();
    try {
      expect(await rows(query, resolve, allowed)).toEqual([{ sha: 'abc', name: 'frp' }]);
    } finally {
      allowed.close();
    }
    await expect(rows(query, resolve)).rejects.toThrow(/file system operations are disabled/);
  });

  it('materialize and lookup', async () => {
    const out = await rows(
      `let M = materialize(${T} | summarize n = count() by a); ${T} | lookup M on a | project a, b, n | sort by b asc`,
    );
    expect(out.map((r) => [r.a, r.b, r.n])).toEqual([
      ['x', 1, 2],
      ['y', 2, 1],
      ['x', 3, 2],
    ]);
  });
});
