/**
 * Entities and sign-ins: one host and one account however the sources spell them, and the
 * sign-in summary of `lotl logons` on the scenario (Security 4624 on DC01, Defender's
 * DeviceLogonEvents on FS02) and on a Security-Datasets recording.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AccountNames, accountName, HostNames, hostKey } from '../../src/correlate/entities.js';
import { DATA, HAS_DATA, runCli } from '../helpers.js';

describe('entities', () => {
  it('one host key for FS02, fs02 and fs02.contoso.local; the FQDN is shown', () => {
    const hosts = new HostNames();
    expect(['FS02', 'fs02', 'fs02.contoso.local.', 'FS02.CONTOSO.LOCAL'].map((n) => hosts.see(n))).toEqual([
      'fs02',
      'fs02',
      'fs02',
      'fs02',
    ]);
    expect(hosts.display('fs02')).toBe('fs02.contoso.local');
    expect(hostKey('10.0.5.23')).toBe('10.0.5.23');
    expect(hostKey('-')).toBeNull();
    expect(hostKey(undefined)).toBeNull();
  });

  it('one account key for DOMAIN\\name, dns-domain\\Name and a UPN; kinds for machines and the system', () => {
    const keys = [
      accountName('jdoe', 'CONTOSO'),
      accountName('JDoe', 'contoso.local'),
      accountName('jdoe@contoso.local'),
      accountName('CONTOSO\\jdoe'),
    ].map((a) => a?.key);
    expect(new Set(keys)).toEqual(new Set(['contoso\\jdoe']));
    expect(accountName('WS07$', 'CONTOSO')?.kind).toBe('machine');
    expect(accountName('SYSTEM', 'NT AUTHORITY')?.kind).toBe('system');
    expect(accountName('ANONYMOUS LOGON', 'NT AUTHORITY')?.kind).toBe('system');
    expect(accountName('DWM-1', 'Window Manager')?.kind).toBe('system');
    expect(accountName('', 'CONTOSO')).toBeNull();
    const accounts = new AccountNames();
    accounts.see(accountName('jdoe')!, 'S-1-5-21-1-2-3-1108');
    const key = accounts.see(accountName('jdoe', 'CONTOSO')!, 's-1-5-21-1-2-3-1108');
    // A bare name and a domain-qualified one stay apart: a bare name may be a local account.
    expect(key).toBe('contoso\\jdoe');
    expect(accounts.display(key)).toBe('CONTOSO\\jdoe');
    expect(accounts.sidsOf(key)).toEqual(['S-1-5-21-1-2-3-1108']);
  });
});

describe('lotl logons', () => {
  it('sums the scenario sign-ins per account, host, type and source, with failures and their reason', async () => {
    const { code, stdout, stderr } = await runCli(['logons', '--format', 'json', 'examples/']);
    expect(code, stderr).toBe(0);
    const rows = JSON.parse(stdout);
    expect(
      rows.map((r: Record<string, unknown>) => [
        r.account,
        r.host,
        r.logonType,
        r.source,
        r.successes,
        r.failures,
      ]),
    ).toEqual([
      // The week's ordinary work (examples/security-week.jsonl) ...
      ['CONTOSO\\asmith', 'DC01.contoso.local', 'Network', '10.0.5.31', 6, 0],
      ['CONTOSO\\asmith', 'fs02.contoso.local', 'Network', '10.0.5.31', 12, 0],
      ['CONTOSO\\asmith', 'WS03.contoso.local', 'Interactive', 'ws03', 6, 0],
      ['CONTOSO\\bkumar', 'DC01.contoso.local', 'Network', '10.0.5.42', 6, 0],
      ['CONTOSO\\bkumar', 'fs02.contoso.local', 'Network', '10.0.5.42', 12, 0],
      ['CONTOSO\\bkumar', 'WS11.contoso.local', 'Interactive', 'ws11', 6, 0],
      ['CONTOSO\\jdoe', 'DC01.contoso.local', 'Network', '10.0.5.23', 7, 0],
      ['CONTOSO\\jdoe', 'fs02.contoso.local', 'Network', '10.0.5.23', 13, 0],
      ['CONTOSO\\jdoe', 'WS07.contoso.local', 'Interactive', 'ws07', 6, 0],
      ['CONTOSO\\mlopez', 'fs02.contoso.local', 'RemoteInteractive', '10.0.5.55', 6, 0],
      ['CONTOSO\\svc-fortinet', 'DC01.contoso.local', 'Network', '10.0.1.5', 32, 0],
      // ... and the intruder's: from the SOHO router, then from FS02 to the DC and WS07.
      ['CONTOSO\\svc-fortinet', 'DC01.contoso.local', 'Network', '10.0.5.21', 1, 0],
      ['CONTOSO\\svc-fortinet', 'DC01.contoso.local', 'Network', '203.0.113.77', 1, 0],
      ['CONTOSO\\svc-fortinet', 'fs02.contoso.local', 'RemoteInteractive', '203.0.113.77', 1, 1],
      ['CONTOSO\\svc-fortinet', 'WS07.contoso.local', 'Network', '10.0.5.21', 1, 0],
    ]);
    expect(rows[13]).toMatchObject({
      first: '2023-05-16T13:04:58.000Z',
      last: '2023-05-16T13:05:12.000Z',
      reasons: { InvalidUserNameOrPassword: 1 },
    });
    expect(stderr).toContain('117 sign-ins, 15 rows');
    const failures = await runCli(['logons', '--failures', '--format', 'csv', 'examples/']);
    expect(failures.stdout.trim().split('\n')).toEqual([
      'account,host,logonType,source,successes,failures,first,last,reasons',
      'CONTOSO\\svc-fortinet,fs02.contoso.local,RemoteInteractive,203.0.113.77,1,1,2023-05-16T13:04:58.000Z,2023-05-16T13:05:12.000Z,InvalidUserNameOrPassword 1',
    ]);
  });

  it.runIf(HAS_DATA)('leaves machine and system sign-ins out unless --all, and says how many', async () => {
    const dir = path.join(DATA, 'security-datasets/datasets/atomic/windows/lateral_movement');
    const users = await runCli(['logons', '--format', 'json', dir]);
    const all = await runCli(['logons', '--all', '--format', 'json', dir]);
    const sum = (rows: { successes: number; failures: number }[]) =>
      rows.reduce((s, r) => s + r.successes + r.failures, 0);
    const u = JSON.parse(users.stdout);
    const a = JSON.parse(all.stdout);
    expect(u.every((r: { account: string }) => !r.account.endsWith('$'))).toBe(true);
    expect(a.some((r: { account: string }) => r.account.endsWith('$'))).toBe(true);
    const seen = Number(/([\d,]+) sign-ins/.exec(all.stderr)![1].replace(/,/g, ''));
    expect(sum(a)).toBe(seen);
    const leftOut = Number(/([\d,]+) left out/.exec(users.stderr)![1].replace(/,/g, ''));
    expect(sum(u) + leftOut).toBe(seen);
  });

  it.runIf(HAS_DATA)('reads Remote Desktop 1149 authentications as remote-interactive sign-ins', async () => {
    const file = path.join(
      DATA,
      'evtx-attack-samples/Command and Control/DE_RDP_Tunneling_TerminalServices-RemoteConnectionManagerOperational_1149.evtx',
    );
    const { code, stdout, stderr } = await runCli(['logons', '--format', 'json', file]);
    expect(code, stderr).toBe(0);
    const rows = JSON.parse(stdout);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r: { logonType: string }) => r.logonType === 'RemoteInteractive')).toBe(true);
    expect(rows.reduce((n: number, r: { successes: number }) => n + r.successes, 0)).toBe(11);
    expect(
      rows.some(
        (r: { account: string; source: string }) =>
          r.account.toLowerCase() === 'ie11win7\\administrator' && r.source === '10.0.2.16',
      ),
    ).toBe(true);
  });

  it.runIf(HAS_DATA)('names the reason of a failed 4625 from its NTSTATUS code', async () => {
    const file = path.join(
      DATA,
      'evtx-to-mitre-attack/TA0001-Initial access/T1078-Valid accounts/ID4625-failed login with denied access due to account restriction.evtx',
    );
    const { stdout } = await runCli(['logons', '--all', '--format', 'json', file]);
    expect(JSON.parse(stdout)).toEqual([
      expect.objectContaining({
        host: 'FS03.offsec.lan',
        logonType: 'RemoteInteractive',
        source: '10.23.23.9',
        failures: 2,
        reasons: { AccountRestriction: 2 },
      }),
    ]);
  });
});
