/**
 * Abuse suite, hostile rules: a rule set from the internet must not hang, exhaust memory or stop
 * a hunt. Regexes that only the backtracking engine runs are refused when their cost cannot be
 * bounded; a YAML alias bomb, an `expand` product and a rule folder with a symlink loop, a FIFO
 * and a device are each that file's problem; correlation state is bounded.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { compileRuleRegex, UnsafeRegexError } from '../../src/detect/ir/regex.js';
import {
  CorrelationEngine,
  type CorrelationRule,
  MAX_WINDOW_SIGNALS,
} from '../../src/detect/sigma/correlation.js';
import { loadRules, loadRuleText } from '../../src/detect/sigma/load.js';
import { runCli } from '../helpers.js';

const root = mkdtempSync(path.join(tmpdir(), 'lotl-abuse-rules-'));

const rule = (id: string, value: string, mod = 'contains') => `title: rule ${id}
id: ${id}
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    CommandLine|${mod}: ${value}
  condition: sel
level: high
`;

describe('rule regexes', () => {
  it('refuses lookaround or backreference patterns whose backtracking cost is unbounded', () => {
    for (const p of ['(?=a)(a|aa)*$', '(?=a)(a+)+$', '(a)\\1(b|bb)+$', '(?!x).*a.*b', '(?<=a)a{2,}b+'])
      expect(() => compileRuleRegex(p, ''), p).toThrow(UnsafeRegexError);
  });

  it('keeps the ones it can bound, and runs them on a hostile 30,000-character value (the test timeout is the bound)', () => {
    const value = `${'a'.repeat(30_000)}!`;
    for (const p of ['^(?!.*\\\\temp\\\\).*\\.exe$', '(b)\\1', '(?<=x)[a-z]{3,}', '^(?=x).*a.*b'])
      expect(compileRuleRegex(p, '').test(value), p).toBe(false);
    // Without lookarounds V8's linear-time engine takes over the exponential shapes.
    for (const p of ['^(a|aa)*$', '^(a+)+$', '^(.*a){12}$'])
      expect(compileRuleRegex(p, 'i').test(value), p).toBe(false);
  });

  it('a rule with such a regex is that rule problem; the others load', () => {
    const r = loadRuleText(
      `${rule('bad', "'(?=a)(a|aa)*$'", 're')}---\n${rule('good', 'ntdsutil')}`,
      'x.yml',
    );
    expect(r.rules.map((x) => x.id)).toEqual(['good']);
    expect(r.problems.some((p) => p.severity === 'error' && /cannot be bounded/.test(p.message))).toBe(true);
  });
});

describe('rule files', () => {
  const bomb = `title: bomb
id: bomb
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    CommandLine|contains: *h
  condition: sel
`;

  it('a YAML alias bomb is its file problem; the hunt runs the other rules', async () => {
    const dir = path.join(root, 'bomb');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'a-bomb.yml'), bomb);
    writeFileSync(path.join(dir, 'b-good.yml'), rule('good-ifm', 'ntdsutil'));
    const { stderr, stdout } = await runCli([
      'hunt',
      '--no-builtin',
      '--no-progress',
      '--sigma',
      dir,
      'examples/',
    ]);
    expect(stderr).toMatch(/a-bomb\.yml:\d+:\d+ error SIGMA_YAML .*alias/i);
    expect(stderr).toContain('1 rules and 0 correlations loaded from 2 files, 1 failed');
    expect(stdout).toContain('rule good-ifm');
  });

  it('expand with a product past the cap is refused with the numbers', () => {
    const placeholders = Object.fromEntries(
      ['a', 'b', 'c', 'd', 'e'].map((k) => [k, Array.from({ length: 20 }, (_, i) => `${k}${i}`)]),
    );
    const r = loadRuleText(rule('exp', "'%a%%b%%c%%d%%e%'", 'expand'), 'x.yml', { placeholders });
    expect(r.rules).toHaveLength(0);
    expect(r.problems.map((p) => p.message).join('\n')).toMatch(
      /more than 10,000 alternatives \(8,000 × 20 at %d%\)/,
    );
  });

  it('a folder with a symlink loop, a FIFO and a device named like rules is walked once, reading regular files only', () => {
    const dir = path.join(root, 'folder');
    mkdirSync(path.join(dir, 'sub'), { recursive: true });
    writeFileSync(path.join(dir, 'sub', 'r.yml'), rule('in-sub', 'whoami'));
    symlinkSync('..', path.join(dir, 'sub', 'loop'));
    symlinkSync('/dev/zero', path.join(dir, 'zero.yml'));
    execFileSync('mkfifo', [path.join(dir, 'fifo.yml')]);
    const r = loadRules([dir]);
    expect(r.rules.map((x) => x.id)).toEqual(['in-sub']);
    const unreadable = r.problems
      .filter((p) => p.code === 'SIGMA_UNREADABLE')
      .map((p) => path.basename(p.file));
    expect(unreadable.sort()).toEqual(['fifo.yml', 'zero.yml']);
  });
});

describe('correlation state', () => {
  const correlation = (
    type: CorrelationRule['type'],
    condition: CorrelationRule['condition'],
  ): CorrelationRule => ({
    id: 'c',
    title: 'C',
    level: 'high',
    author: '',
    tags: [],
    file: 'c.yml',
    line: 1,
    type,
    rules: ['r'],
    groupBy: ['x'],
    timespanMs: 1000 * 365.25 * 86_400_000, // 1000y
    condition,
    aliases: {},
    generate: false,
    field: type === 'value_count' ? 'v' : undefined,
  });
  const alert = (i: number): Alert =>
    ({
      time: new Date(Date.UTC(2023, 0, 1) + i * 1000).toISOString(),
      rule: { id: 'r', title: 'r', level: 'low', kind: 'sigma', author: '', techniques: [], tactics: [] },
      host: 'h',
      user: null,
      source: { file: 'f', format: 'json', record: i },
      event: { group: { x: 'g', v: String(i) } },
    }) as unknown as Alert;

  it('a 1000-year timespan over 600,000 matches keeps at most the bound, and judges in constant time', () => {
    const engine = new CorrelationEngine([correlation('value_count', [['gt', 10_000_000]])]);
    let fired = 0;
    for (let i = 0; i < 600_000; i++) fired += engine.signal('r', undefined, null, alert(i)).length;
    expect(fired).toBe(0);
    expect(engine.dropped.signals).toBe(600_000 - MAX_WINDOW_SIGNALS);
    const end = engine.flush();
    expect(end).toHaveLength(0);
  });

  it('the same with a condition that holds fires each time the threshold is reached', () => {
    const engine = new CorrelationEngine([correlation('event_count', [['gte', 50_000]])]);
    const out: Alert[] = [];
    for (let i = 0; i < 600_000; i++) out.push(...engine.signal('r', undefined, null, alert(i)));
    expect(out).toHaveLength(12);
    expect(out[0].event).toMatchObject({ signals: 50_000, measure: 50_000, first: alert(0).time });
    expect(engine.dropped.signals).toBe(0);
  });
});
