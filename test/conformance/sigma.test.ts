import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRules } from '../../src/detect/sigma/load.js';
import { DATA, HAS_DATA, runCli } from '../helpers.js';

const SIGMA = path.join(DATA, 'sigma');
const RULE_DIRS = [
  'rules',
  'rules-emerging-threats',
  'rules-threat-hunting',
  'rules-placeholder',
  'rules-compliance',
].map((d) => path.join(SIGMA, d));

describe.runIf(HAS_DATA)('the SigmaHQ rule set', () => {
  it('lotl rules check loads all 3,780 rules, with no failure', async () => {
    const { code, stdout } = await runCli(['rules', 'check', '--format', 'json', ...RULE_DIRS]);
    const report = JSON.parse(stdout);
    expect(report.failures).toEqual([]);
    expect(report.loaded).toBe(3780);
    expect(report.failed).toBe(0);
    // The 23 placeholder rules load; their unresolved placeholders are warnings (see docs/sigma.md).
    expect(report.warnings).toBeGreaterThan(0);
    expect(code).toBe(0);
  });

  it('the fast YAML path loads exactly what the positional parser loads', () => {
    const dirs = [...RULE_DIRS, path.join(SIGMA, 'regression_data'), 'test/fixtures/sigma'];
    const summary = (exactYaml: boolean) => {
      const r = loadRules(dirs, { exactYaml });
      return {
        rules: r.rules.map(({ match: _m, ...rest }) => rest),
        correlations: r.correlations.map((c) => JSON.stringify(c)),
        problems: r.problems,
        skipped: r.skipped,
      };
    };
    const fast = summary(false);
    const exact = summary(true);
    expect(fast.rules.length).toBeGreaterThan(3700);
    expect(fast.problems.length).toBeGreaterThan(0);
    expect(fast).toEqual(exact);
  });

  it('lotl rules test passes every regression case, from the JSON and from the EVTX of each case', async () => {
    const { code, stdout } = await runCli([
      'rules',
      'test',
      '--format',
      'json',
      path.join(SIGMA, 'regression_data'),
      '--sigma',
      SIGMA,
    ]);
    const report = JSON.parse(stdout);
    expect(report.failed).toEqual([]);
    expect(report.cases).toBe(153);
    expect(report.passed).toBe(153);
    expect(code).toBe(0);
  });

  it('lotl hunt gives the same alerts, byte for byte, on worker threads as on one thread', async () => {
    const args = [
      'hunt',
      '--no-progress',
      '--no-kql', // KQL hunts query one store of every event, so they keep a hunt on one thread
      '--no-correlate', // and so do the answers after the alerts
      '--format',
      'jsonl',
      '--sigma',
      path.join(SIGMA, 'rules', 'windows'),
      path.join(DATA, 'evtx-attack-samples', 'Credential Access'),
      path.join(DATA, 'evtx-attack-samples', 'Lateral Movement'),
    ];
    const one = await runCli([...args, '--threads', '1']);
    const two = await runCli([...args, '--threads', '2']);
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    expect(two.stderr).toContain('2 threads');
    expect(one.stdout.split('\n').length).toBeGreaterThan(100);
    expect(two.stdout).toBe(one.stdout);
  });

  it('reports a broken rule file with file:line:col and still loads the others', async () => {
    const { code, stdout } = await runCli([
      'rules',
      'check',
      '--format',
      'json',
      path.join(SIGMA, 'rules', 'windows', 'process_creation'),
      'test/fixtures/sigma',
    ]);
    const report = JSON.parse(stdout);
    expect(code).toBe(2);
    expect(report.loaded).toBeGreaterThan(1000);
    expect(report.failures).toEqual([
      {
        file: 'test/fixtures/sigma/broken-modifier.yml',
        line: 9,
        col: 9,
        code: 'SIGMA_UNKNOWN_MODIFIER',
        message: "unknown modifier 'contians' (did you mean 'contains'?)",
      },
    ]);
  });
});
