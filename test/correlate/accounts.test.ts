/**
 * The reset list: who ran credential access, whose credentials an LSASS dump exposed (sessions
 * live on the host at the dump, of logon types that leave credentials in LSASS), and the whole
 * domain with krbtgt twice when the AD database was copied. Written events and alerts, then the
 * scenario through `lotl hunt`.
 */
import { describe, expect, it } from 'vitest';
import { type AlertFacts, accountsToReset } from '../../src/correlate/accounts.js';
import { SessionTable } from '../../src/correlate/sessions.js';
import { normalize } from '../../src/normalize/normalize.js';
import { runCli } from '../helpers.js';
import { securityEvent, signin } from './events.js';

const T0 = Date.UTC(2023, 4, 16, 9, 0, 0);
const at = (min: number) => T0 + min * 60_000;
const logon = (min: number, user: string, id: string, type: number, host = 'FS02') =>
  signin(at(min), user, id, type, '10.0.5.23', host);
const logoff = (min: number, id: string) => securityEvent(at(min), 4634, { TargetLogonId: id });
const alert = (
  min: number,
  title: string,
  technique: string,
  user: string | null,
  host = 'FS02.contoso.local',
): AlertFacts => ({
  time: new Date(at(min)).toISOString(),
  host,
  user,
  ruleId: title.toLowerCase().replace(/\W+/g, '-'),
  title,
  level: 'high',
  techniques: [technique],
  tactics: ['credential-access'],
  where: `sysmon.evtx#${min}`,
  namesNtds: false,
});

describe('accounts to reset', () => {
  it('an LSASS dump exposes the sessions live on its host that keep credentials, not network logons or ended ones', () => {
    const table = new SessionTable();
    for (const e of [
      logon(0, 'helpdesk', '0x101', 2), // interactive, still on: exposed
      logon(1, 'jdoe', '0x102', 3), // network: no credentials in LSASS
      logon(2, 'backup', '0x103', 5), // service: exposed
      logon(3, 'alice', '0x104', 10), // remote interactive, logged off before the dump
      logoff(8, '0x104'),
      logon(4, 'bob', '0x105', 2, 'WS07'), // another host
      logon(20, 'late', '0x106', 2), // after the dump
    ])
      table.add(normalize(e));
    const reset = accountsToReset(
      [alert(10, 'LSASS Memory Dump', 'T1003.001', 'CONTOSO\\svc-fortinet')],
      table,
      [],
    );
    expect(reset.map((r) => [r.account, r.action])).toEqual([
      ['CONTOSO\\svc-fortinet', 'reset'],
      ['CONTOSO\\backup', 'reset'],
      ['CONTOSO\\helpdesk', 'reset'],
    ]);
    expect(reset[0].reason).toBe('ran credential access on FS02.contoso.local: LSASS Memory Dump');
    expect(reset[2].reason).toBe(
      'credentials exposed by the LSASS dump on FS02.contoso.local (session of logon type 2 from 10.0.5.23)',
    );
    expect(reset[2].evidence).toEqual([
      'lsass-memory-dump sysmon.evtx#10',
      'session FS02.contoso.local 0x101',
    ]);
  });

  it('a copy of the AD database resets every domain account and krbtgt twice', () => {
    const reset = accountsToReset(
      [alert(0, 'Install media with ntdsutil', 'T1003.003', 'CONTOSO\\svc-fortinet', 'DC01.contoso.local')],
      new SessionTable(),
      [],
    );
    expect(reset.map((r) => [r.account, r.action])).toEqual([
      ['CONTOSO\\svc-fortinet', 'reset'],
      ['CONTOSO\\krbtgt', 'reset twice'],
      ['CONTOSO\\* (every domain account)', 'reset'],
    ]);
  });

  it('a rule about credential files in general means the domain only when its event names the AD database', () => {
    // SigmaHQ's "Copying Sensitive Files with Credential Data" tags both SAM and NTDS.
    const both = (namesNtds: boolean) => ({
      ...alert(
        0,
        'Copying Sensitive Files with Credential Data',
        'T1003.002',
        'WORKSTATION5\\wardog',
        'WORKSTATION5',
      ),
      techniques: ['T1003.002', 'T1003.003'],
      namesNtds,
    });
    const sam = accountsToReset([both(false)], new SessionTable(), []);
    expect(sam.map((r) => r.account)).toEqual(['WORKSTATION5\\wardog']);
    const ntds = accountsToReset([both(true)], new SessionTable(), []);
    expect(ntds.map((r) => r.account)).toContain('every account of the domain of WORKSTATION5');
  });

  it('lateral movement at medium or above names its account too', () => {
    const moved = (level: 'low' | 'medium') => ({
      ...alert(0, 'Impacket Execution', 'T1021.002', 'OFFSEC\\admmig'),
      tactics: ['lateral-movement'],
      level,
    });
    expect(accountsToReset([moved('medium')], new SessionTable(), [])).toMatchObject([
      { account: 'OFFSEC\\admmig', reason: 'ran lateral movement on FS02.contoso.local: Impacket Execution' },
    ]);
    expect(accountsToReset([moved('low')], new SessionTable(), [])).toEqual([]);
  });

  it('no credential access, no accounts', () => {
    const discovery = { ...alert(0, 'whoami', 'T1033', 'CONTOSO\\jdoe'), tactics: ['discovery'] };
    expect(accountsToReset([discovery], new SessionTable(), [])).toEqual([]);
  });

  it('lotl hunt ends with the unusual sign-ins and the accounts to reset of the scenario; --no-correlate leaves them out', async () => {
    const { stderr } = await runCli(['hunt', '--no-progress', '--format', 'jsonl', 'examples/']);
    const tail = stderr.slice(stderr.indexOf('lotl hunt: 4 unusual sign-ins'));
    expect(tail).toContain('4 unusual sign-ins (4 high)');
    expect(tail).toMatch(
      /4 accounts to reset\n {2}reset {8}CONTOSO\\svc-fortinet {2}ran credential access on /,
    );
    // mlopez's RDP session on FS02 was open at the 13:20 dump (opened 11:02, closed 16:31);
    // asmith and bkumar only reached FS02 over the network, which leaves no credentials there.
    expect(tail).toMatch(
      /reset {8}CONTOSO\\mlopez {2}credentials exposed by the LSASS dump on fs02\.contoso\.local \(session of logon type 10 from 10\.0\.5\.55\)/,
    );
    expect(tail).toContain('reset twice  CONTOSO\\krbtgt');
    expect(tail).toContain('CONTOSO\\* (every domain account)');
    // No benign account: jdoe, asmith and bkumar worked as every day.
    for (const name of ['jdoe', 'asmith', 'bkumar']) expect(tail).not.toContain(name);
    const without = await runCli([
      'hunt',
      '--no-progress',
      '--no-correlate',
      '--format',
      'jsonl',
      'examples/',
    ]);
    expect(without.stderr).not.toContain('accounts to reset');
  });
});
