/**
 * The parsed-rule cache must be invisible: a warm load gives the same rules and the same problems
 * (with their positions) as a cold one, sees edited and deleted files, and survives a damaged
 * cache file. Rules are copied to a temporary folder so they can be edited.
 */
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SigmaEngine } from '../../src/detect/sigma/engine.js';
import { type LoadOptions, loadRules } from '../../src/detect/sigma/load.js';
import { normalize } from '../../src/normalize/normalize.js';
import { DATA, EXAMPLES, HAS_DATA, ROOT, readAllItems } from '../helpers.js';

const work = mkdtempSync(path.join(tmpdir(), 'lotl-cache-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const RULE = (title: string, item = "CommandLine|contains: 'ntdsutil'") => `title: ${title}
id: 6f5c3a9e-0000-4000-8000-000000000001
level: high
logsource:
  category: process_creation
  product: windows
detection:
  sel:
    ${item}
  condition: sel
`;

/** A folder of rule files under the test's work folder. */
function ruleFolder(name: string, files: Record<string, string>): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
  return dir;
}

function summary(dir: string, options: LoadOptions) {
  const r = loadRules([dir], options);
  return {
    rules: r.rules.map(({ match: _m, ...rest }) => rest),
    problems: r.problems,
  };
}

describe('parsed-rule cache', () => {
  it('loads the same rules and problems warm as cold, and follows edits', () => {
    const rules = path.join(work, 'rules');
    cpSync('test/fixtures/sigma', rules, { recursive: true });
    writeFileSync(path.join(rules, 'good.yml'), RULE('first title'));
    const cache = { dir: path.join(work, 'cache'), version: 'test' };
    const uncached = summary(rules, {});
    expect(uncached.rules.map((r) => r.title)).toEqual(['first title']);
    // The broken fixture's problem keeps its exact position on every path.
    expect(uncached.problems.map((p) => [p.code, p.line, p.col])).toEqual([['SIGMA_UNKNOWN_MODIFIER', 9, 9]]);
    expect(summary(rules, { cache })).toEqual(uncached);
    expect(readdirSync(cache.dir)).toHaveLength(1);
    expect(summary(rules, { cache })).toEqual(uncached);

    // An edit that keeps the file's size is seen (by its modification time).
    writeFileSync(path.join(rules, 'good.yml'), RULE('other title'));
    const later = new Date(Date.now() + 5000);
    utimesSync(path.join(rules, 'good.yml'), later, later);
    expect(summary(rules, { cache }).rules.map((r) => r.title)).toEqual(['other title']);
    rmSync(path.join(rules, 'good.yml'));
    expect(summary(rules, { cache }).rules).toEqual([]);

    // A damaged cache is ignored and rewritten.
    writeFileSync(path.join(rules, 'good.yml'), RULE('first title'));
    const [file] = readdirSync(cache.dir);
    writeFileSync(path.join(cache.dir, file), '{"format":1,"version":"test","files":');
    expect(summary(rules, { cache })).toEqual(uncached);
    expect(summary(rules, { cache: { ...cache, version: 'another' } })).toEqual(uncached);
  });

  it('caches a file only the exact parser takes (what looks like an anchor), one document and no error', () => {
    const rules = ruleFolder('anchors', {
      'and-and.yml': RULE('and and', "CommandLine|contains: 'cmd /c a &&b'"),
      'two.yml': `${RULE('one')}---\n${RULE('two').replace('0001', '0002')}`,
    });
    const cache = { dir: path.join(work, 'cache-anchors'), version: 'test' };
    const cold = summary(rules, {});
    expect(cold.rules.map((r) => r.title)).toEqual(['and and', 'one', 'two']);
    expect(summary(rules, { cache })).toEqual(cold);
    const [file] = readdirSync(cache.dir);
    const cached = Object.keys(JSON.parse(readFileSync(path.join(cache.dir, file), 'utf8')).files);
    expect(cached.map((f) => path.basename(f))).toEqual(['and-and.yml']);
    expect(summary(rules, { cache })).toEqual(cold);
  });

  it('a warm load compiles a rule when an event first reaches it, and it answers as compiled at load', async () => {
    const sets = [
      path.join(ROOT, 'rules', 'sigma'),
      ...(HAS_DATA ? [path.join(DATA, 'sigma', 'rules', 'windows')] : []),
    ];
    const cache = { dir: path.join(work, 'cache-lazy'), version: 'test' };
    const cold = loadRules(sets);
    loadRules(sets, { cache }); // parses and keeps what compiling told
    const warm = loadRules(sets, { cache }); // compiles nothing until used
    expect(warm.rules.length).toBe(cold.rules.length);
    expect(warm.rules.map(({ match: _m, ...r }) => r)).toEqual(cold.rules.map(({ match: _m, ...r }) => r));
    const { events } = await readAllItems([EXAMPLES]);
    const alerts = (engine: SigmaEngine) =>
      events.flatMap((e) => engine.evaluate(normalize(e)).map((a) => `${a.rule.id} ${a.source.line}`));
    const expected = alerts(new SigmaEngine(cold.rules));
    expect(expected.length).toBeGreaterThan(10);
    expect(alerts(new SigmaEngine(warm.rules))).toEqual(expected);
  });

  it('what compiling told is kept per placeholders: other values compile again, an unresolved one is still reported', () => {
    const rules = ruleFolder('expand', { 'admins.yml': RULE('admins', "User|expand: '%admins%'") });
    const cache = { dir: path.join(work, 'cache-expand'), version: 'test' };
    const variants: Record<string, string[]>[] = [{ admins: ['CORP\\alice'] }, { admins: ['CORP\\bob'] }, {}];
    for (const placeholders of variants) {
      const cold = summary(rules, { placeholders });
      expect(summary(rules, { cache, placeholders })).toEqual(cold);
      expect(summary(rules, { cache, placeholders })).toEqual(cold);
    }
    expect(summary(rules, { cache, placeholders: { admins: ['CORP\\bob'] } }).rules[0].need).toEqual([
      'corp\\bob',
    ]);
    expect(summary(rules, { cache }).problems.map((p) => p.code)).toEqual(['SIGMA_UNRESOLVED_PLACEHOLDER']);
  });
});
