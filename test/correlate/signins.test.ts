/**
 * Unusual sign-ins against each account's baseline, with written 4624 events: a new internal
 * source is unusual only against a real history; an external one always, saying when the history
 * is too short; credential access by the account afterwards makes it high. And the scenario.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { escalate, SigninBaseline } from '../../src/correlate/signins.js';
import type { RawEvent } from '../../src/ingest/raw-event.js';
import { normalize } from '../../src/normalize/normalize.js';
import { FIXTURES, runCli } from '../helpers.js';
import { signin as signinEvent } from './events.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2023, 4, 1, 8, 0, 0);
let logonIds = 0;
const signin = (at: number, user: string, ip: string, host = 'FS02', type = 3) =>
  signinEvent(at, user, `0x${(++logonIds).toString(16)}`, type, ip, host);

function unusual(events: RawEvent[], internal?: string[]) {
  const b = new SigninBaseline(internal ? { internal } : {});
  for (const e of events) b.add(normalize(e));
  return b.unusual();
}

describe('unusual sign-ins', () => {
  const history = Array.from({ length: 6 }, (_, i) => signin(T0 + i * DAY, 'alice', '10.0.5.23'));

  it('a new internal source is unusual against a real baseline, not before', () => {
    const early = unusual([signin(T0, 'alice', '10.0.5.23'), signin(T0 + 3600_000, 'alice', '10.0.7.7')]);
    expect(early).toEqual([]);
    const later = unusual([...history, signin(T0 + 7 * DAY, 'alice', '10.0.7.7', 'DC01', 10)]);
    expect(later).toEqual([
      {
        account: 'CONTOSO\\alice',
        ip: '10.0.7.7',
        time: new Date(T0 + 7 * DAY).toISOString(),
        host: 'DC01.contoso.local',
        logonType: 'RemoteInteractive',
        why: [
          'source first seen for the account',
          'host first seen for the account',
          'logon type RemoteInteractive first seen for the account',
        ],
        severity: 'low',
      },
    ]);
    // The same source again is no longer new.
    expect(
      unusual([
        ...history,
        signin(T0 + 7 * DAY, 'alice', '10.0.7.7'),
        signin(T0 + 8 * DAY, 'alice', '10.0.7.7'),
      ]),
    ).toHaveLength(1);
  });

  it('a known source on a new host or with a new logon type is unusual too (lateral movement)', () => {
    const r = unusual([...history, signin(T0 + 7 * DAY, 'alice', '10.0.5.23', 'DC01')]);
    expect(r.map((s) => [s.host, s.why])).toEqual([
      ['DC01.contoso.local', ['host first seen for the account']],
    ]);
    const t = unusual([...history, signin(T0 + 7 * DAY, 'alice', '10.0.5.23', 'FS02', 10)]);
    expect(t.map((s) => s.why)).toEqual([['logon type RemoteInteractive first seen for the account']]);
  });

  it('an external source is reported whatever the history, saying when it is too short; internal ranges are configurable', () => {
    const r = unusual([signin(T0, 'bob', '198.51.100.9')]);
    expect(r.map((s) => s.why)).toEqual([
      ['source outside the internal ranges', 'insufficient history (0 earlier sign-ins of the account)'],
    ]);
    expect(unusual([signin(T0, 'bob', '198.51.100.9')], ['198.51.100.0/24'])).toEqual([]);
    // Machine accounts and the system's own sign-ins have no baseline here.
    expect(unusual([signin(T0, 'WS07$', '198.51.100.9')])).toEqual([]);
    expect(() => new SigninBaseline({ internal: ['not-a-range'] })).toThrow(/not an address range/);
  });

  it('credential access by the same account within a day makes it high', () => {
    const [s] = unusual([signin(T0, 'bob', '198.51.100.9')]);
    const alert = (minutes: number, user: string, tactic: string) => ({
      time: new Date(T0 + minutes * 60_000).toISOString(),
      user,
      tactics: [tactic],
    });
    expect(escalate([s], [alert(30, 'CONTOSO\\bob', 'credential-access')])[0]).toMatchObject({
      severity: 'high',
      why: [...s.why, 'the account ran credential access 30 min later'],
    });
    for (const other of [
      alert(30, 'CONTOSO\\carol', 'credential-access'),
      alert(30, 'bob@contoso.local', 'discovery'),
      alert(-30, 'CONTOSO\\bob', 'credential-access'),
      alert(25 * 60, 'CONTOSO\\bob', 'credential-access'),
    ])
      expect(escalate([s], [other])[0].severity).toBe('low');
  });

  it('Entra ID (SigninLogs) and Defender for Identity (IdentityLogonEvents) sign-ins have baselines too; Entra is reached from the internet, so only a new source counts there', async () => {
    const { code, stdout, stderr } = await runCli([
      'logons',
      '--unusual',
      '--format',
      'json',
      path.join(FIXTURES, 'signins'),
    ]);
    expect(code, stderr).toBe(0);
    const rows = JSON.parse(stdout);
    // alice: six sign-ins over three days from her home address (external, never listed), then
    // one from the SOHO router's; bob: a week of Kerberos from WS03, then NTLM from 10.0.9.99.
    expect(rows.map((r: Record<string, unknown>) => [r.account, r.host, r.logonType, r.ip, r.why])).toEqual([
      [
        'CONTOSO\\alice',
        'Entra ID',
        'CloudInteractive',
        '203.0.113.77',
        ['source first seen for the account'],
      ],
      [
        'CONTOSO\\bob',
        'DC01.contoso.local',
        'Resource access',
        '10.0.9.99',
        ['source first seen for the account'],
      ],
    ]);
    const summary = await runCli([
      'logons',
      '--failures',
      '--format',
      'json',
      path.join(FIXTURES, 'signins'),
    ]);
    expect(JSON.parse(summary.stdout)).toMatchObject([
      {
        account: 'CONTOSO\\alice',
        source: '203.0.113.77',
        failures: 1,
        reasons: { 'Invalid username or password or Invalid on-premise username or password.': 1 },
      },
    ]);
  });

  it('lotl logons --unusual on the scenario: svc-fortinet from 203.0.113.77, then from FS02 to the DC and WS07, high (it dumps LSASS later); nobody else', async () => {
    const { code, stdout, stderr } = await runCli(['logons', '--unusual', '--format', 'json', 'examples/']);
    expect(code, stderr).toBe(0);
    const rows = JSON.parse(stdout);
    // The two sign-ins from 203.0.113.77 at 13:05:12 are of one moment: neither is the other's
    // history (both a source first seen), listed by host.
    expect(rows.map((r: Record<string, string>) => [r.account, r.host, r.ip, r.severity])).toEqual([
      ['CONTOSO\\svc-fortinet', 'DC01.contoso.local', '203.0.113.77', 'high'],
      ['CONTOSO\\svc-fortinet', 'fs02.contoso.local', '203.0.113.77', 'high'],
      ['CONTOSO\\svc-fortinet', 'DC01.contoso.local', '10.0.5.21', 'high'],
      // wmiexec's sign-in on WS07 from FS02: a source it used before, on a host it never signed in to.
      ['CONTOSO\\svc-fortinet', 'WS07.contoso.local', '10.0.5.21', 'high'],
    ]);
    // Against a real baseline: a week of the appliance's binds from 10.0.1.5 to the DC.
    expect(rows[1].why).toEqual([
      'source outside the internal ranges',
      'source first seen for the account',
      'host first seen for the account',
      'logon type RemoteInteractive first seen for the account',
      'the account ran credential access 15 min later',
    ]);
    expect(rows[0].why).toEqual([
      'source outside the internal ranges',
      'source first seen for the account',
      'the account ran credential access 15 min later',
    ]);
    expect(rows[2].why[0]).toBe('source first seen for the account');
    expect(rows[3].why[0]).toBe('host first seen for the account');
    expect(stderr).toContain('4 unusual sign-ins (4 high)');
  });
});
