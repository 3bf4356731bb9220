/**
 * The shipped noisy-rule list (rules/noisy-rules.txt): its rules are left out of a hunt unless
 * --include-noisy, and the load line says so. The fixture is a rule under a listed id (SigmaHQ's
 * User Logoff Event) over the scenario's 4634 logoffs.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { noisyRuleIds } from '../../src/hunt/noisy-rules.js';
import { runCli } from '../helpers.js';

describe('noisy rules', () => {
  it('the list: rule ids, each with its evidence', () => {
    const ids = noisyRuleIds();
    expect(ids.length).toBeGreaterThanOrEqual(4);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('a listed rule is left out, and said; --include-noisy keeps it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lotl-noisy-'));
    const rule = path.join(dir, 'logoff.yml');
    writeFileSync(
      rule,
      'title: User Logoff Event\nid: 0badd08f-c6a3-4630-90d3-6875cca440be\nlogsource: {product: windows, service: security}\ndetection: {sel: {EventID: 4634}, condition: sel}\nlevel: informational\n',
    );
    const args = [
      'hunt',
      '--no-builtin',
      '--no-correlate',
      '--no-progress',
      '--format',
      'jsonl',
      '--sigma',
      rule,
      'examples/',
    ];
    const quiet = await runCli(args);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).toBe('');
    expect(quiet.stderr).toContain('(1 noisy rules left out: --include-noisy keeps them)');
    const all = await runCli([...args, '--include-noisy']);
    const alerts = all.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(alerts.length).toBeGreaterThan(10);
    expect(alerts.every((a) => a.rule.id === '0badd08f-c6a3-4630-90d3-6875cca440be')).toBe(true);
  });
});
