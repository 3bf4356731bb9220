/**
 * The KQL front end (Microsoft's parser and binder) against lotl's table schemas: the advisory's
 * hunting queries in rules/hunts bind cleanly; mistakes are reported at their line and column.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { caret, checkKql } from '../../src/detect/kql/frontend.js';
import { PACK_RULES, runCli } from '../helpers.js';

describe('KQL front end', () => {
  it('binds every hunting query of the pack with no error', () => {
    const files = readdirSync('rules/hunts').filter((f) => f.endsWith('.kql'));
    expect(files).toHaveLength(7);
    for (const f of files) {
      const errors = checkKql(readFileSync(path.join('rules/hunts', f), 'utf8')).filter(
        (p) => p.severity === 'error',
      );
      expect(errors, f).toEqual([]);
    }
  });

  it('reports unknown columns, tables and syntax errors at their line and column, with a caret', () => {
    const q = 'DeviceProcessEvents\n| where ProcessCommandLin has "ntdsutil"\n| project DeviceName';
    const [p] = checkKql(q);
    expect(p).toMatchObject({ line: 2, col: 9, severity: 'error' });
    expect(p.message).toContain("'ProcessCommandLin'");
    expect(caret(q, p)).toBe('| where ProcessCommandLin has "ntdsutil"\n        ^^^^^^^^^^^^^^^^^');

    const table = checkKql('DeviceProcesEvents | take 1');
    expect(table[0]).toMatchObject({ line: 1, col: 1, severity: 'error' });
    expect(table[0].message).toContain("'DeviceProcesEvents'");

    const syntax = checkKql('DeviceProcessEvents\n| where (FileName == "a"\n| take 5').filter(
      (x) => x.severity === 'error',
    );
    expect(syntax.length).toBeGreaterThan(0);
    expect(syntax[0].line).toBeGreaterThanOrEqual(2);

    // Both time columns exist on every table (Defender's Timestamp, Sentinel's TimeGenerated).
    expect(checkKql('DeviceLogonEvents | where Timestamp > ago(1d) and TimeGenerated > ago(1d)')).toEqual([]);
    expect(
      checkKql(
        'SecurityEvent | where EventID == 4688 | summarize count() by Computer, bin(TimeGenerated, 1h)',
      ),
    ).toEqual([]);
  });

  it('lotl rules check checks the KQL queries of the folders it is given', async () => {
    const { code, stdout } = await runCli(['rules', 'check', '--format', 'json', 'rules/']);
    const report = JSON.parse(stdout);
    expect(report.failures).toEqual([]);
    expect(report.queries).toBe(7);
    expect(report.loaded).toBe(PACK_RULES);
    expect(code).toBe(0);
  });
});
