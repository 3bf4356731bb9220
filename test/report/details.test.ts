/**
 * The table's details column: what a responder reads first, by kind of event; PowerShell's
 * -EncodedCommand shown decoded; long values cut; control characters escaped in the table.
 */
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { alertToTableLine } from '../../src/report/alerts.js';
import { alertDetails, MAX_DETAILS } from '../../src/report/details.js';

function alert(event: Record<string, unknown>, over: Partial<Alert> = {}): Alert {
  return {
    time: '2023-05-16T13:20:01.000Z',
    rule: {
      id: 'r',
      title: 'Rule',
      level: 'high',
      kind: 'sigma',
      author: 'lotl',
      techniques: [],
      tactics: [],
    },
    host: 'FS02',
    user: 'CONTOSO\\svc',
    source: { file: 'f', format: 'evtx', record: 1, channel: null, eventId: 1 },
    event,
    ...over,
  };
}

describe('alert details', () => {
  it('names what each kind of event is about', () => {
    expect(alertDetails(alert({ CommandLine: 'tasklist /v', Image: 'C:\\tasklist.exe' }))).toBe(
      'cmd: tasklist /v',
    );
    const ps = `powershell -nop -E ${Buffer.from('whoami /all', 'utf16le').toString('base64')}`;
    expect(alertDetails(alert({ CommandLine: ps }))).toBe('decoded: whoami /all');
    expect(
      alertDetails(alert({ TargetImage: 'C:\\Windows\\system32\\lsass.exe', GrantedAccess: '0x1410' })),
    ).toBe('target: C:\\Windows\\system32\\lsass.exe access 0x1410');
    expect(alertDetails(alert({ TargetFilename: 'C:\\Windows\\Temp\\lsass.dmp' }))).toBe(
      'file: C:\\Windows\\Temp\\lsass.dmp',
    );
    expect(alertDetails(alert({ TargetObject: 'HKLM\\x\\v', Details: '1' }))).toBe('value: HKLM\\x\\v = 1');
    expect(alertDetails(alert({ QueryName: 'update.cdn-contoso.top' }))).toBe(
      'query: update.cdn-contoso.top',
    );
    expect(
      alertDetails(
        alert({ DestinationIp: '198.51.100.14', DestinationPort: 443, DestinationHostname: 'c2' }),
      ),
    ).toBe('dst: 198.51.100.14:443 (c2)');
    expect(alertDetails(alert({ LogonType: 10, IpAddress: '203.0.113.77' }))).toBe(
      'logon type 10 from 203.0.113.77',
    );
    expect(alertDetails(alert({ Data: ['NTDSUTIL', '1352', 'ntds.dit'] }))).toBe(
      'data: NTDSUTIL 1352 ntds.dit',
    );
    expect(alertDetails(alert({ X: 1 }, { match: { field: 'SHA256', value: 'abc' } }))).toBe('SHA256=abc');
    expect(
      alertDetails(
        alert(
          { summary: '4 distinct discovery commands in 2 min', commands: ['whoami', 'ipconfig'] },
          { rule: { ...alert({}).rule, kind: 'correlation' } },
        ),
      ),
    ).toBe('4 distinct discovery commands in 2 min whoami | ipconfig');
    expect(alertDetails(alert({}))).toBe('');
  });

  it('cuts long values and escapes control characters in the table', () => {
    const long = alertDetails(alert({ CommandLine: `cmd /c ${'A'.repeat(1000)}` }));
    expect(long).toHaveLength(MAX_DETAILS);
    expect(long.endsWith('…')).toBe(true);
    const line = alertToTableLine(alert({ CommandLine: 'echo \u001b[31mred\u0007' }), false);
    expect(line).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(line).toContain('cmd: echo \\x1b[31mred\\x07');
  });
});
