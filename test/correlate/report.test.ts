/** `lotl report --format json` on the scenario: a document valid against docs/report.schema.json. */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers.js';

describe('lotl report --format json', () => {
  it('writes the incidents, accounts to reset and unusual sign-ins of the scenario, valid against the schema', async () => {
    const { code, stdout, stderr } = await runCli(['report', '--no-progress', 'examples/']);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout);
    const validate = new Ajv({ allErrors: true }).compile(
      JSON.parse(readFileSync('docs/report.schema.json', 'utf8')),
    );
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.incidents[0]).toMatchObject({
      id: 'INC-1',
      hosts: ['FS02.contoso.local', 'ws07.contoso.local', 'DC01.contoso.local'],
      accounts: ['CONTOSO\\svc-fortinet'],
      severity: 'critical',
    });
    expect(report.accounts.map((a: { account: string; action: string }) => [a.account, a.action])).toEqual([
      ['CONTOSO\\svc-fortinet', 'reset'],
      ['CONTOSO\\mlopez', 'reset'],
      ['CONTOSO\\krbtgt', 'reset twice'],
      ['CONTOSO\\* (every domain account)', 'reset'],
    ]);
    expect(report.signins.map((s: { account: string; ip: string }) => [s.account, s.ip])).toEqual([
      ['CONTOSO\\svc-fortinet', '203.0.113.77'],
      ['CONTOSO\\svc-fortinet', '203.0.113.77'],
      ['CONTOSO\\svc-fortinet', '10.0.5.21'],
      ['CONTOSO\\svc-fortinet', '10.0.5.21'],
    ]);
    // One incident: every alert of the intrusion (the ESENT events join through ntdsutil's
    // process id, the FRP hash hunt's row through the hash), and no other.
    expect(report.incidents).toHaveLength(1);
    // The alerts are not written: stdout is the one document.
    expect(stdout.trim().startsWith('{')).toBe(true);
    const other = await runCli(['report', '--format', 'html', 'examples/']);
    expect(other.code).toBe(2);
  });
});
