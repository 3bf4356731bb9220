/**
 * Incidents: typed edges (process, session, account, indicator) join alerts; the result does not
 * depend on input order; the scenario's intrusion is one incident over its three hosts and one
 * account, with no benign account in any incident.
 */
import { describe, expect, it } from 'vitest';
import { buildIncidents, type IncidentAlert } from '../../src/correlate/incidents.js';
import { runCli } from '../helpers.js';

const T0 = Date.UTC(2023, 4, 16, 13, 0, 0);
function alert(min: number, over: Partial<IncidentAlert>): IncidentAlert {
  const time = T0 + min * 60_000;
  return {
    time,
    timeText: new Date(time).toISOString(),
    host: 'fs02',
    hostShown: 'FS02.contoso.local',
    account: null,
    accountShown: null,
    level: 'high',
    ruleId: `rule-${min}`,
    title: `rule ${min}`,
    tactics: [],
    where: `f#${min}`,
    process: null,
    pid: null,
    parent: null,
    parentPid: null,
    ancestors: [],
    session: null,
    indicator: null,
    ...over,
  };
}

describe('incidents', () => {
  const alerts = [
    alert(0, { session: 'fs02|0x1b2c3d', tactics: ['discovery'] }),
    alert(5, { session: 'fs02|0x1b2c3d', process: 'fs02|4308', tactics: ['credential-access'] }),
    alert(6, { parent: 'fs02|4308', tactics: ['defense-evasion'] }), // child of the dumper
    alert(30, {
      host: 'dc01',
      hostShown: 'DC01.contoso.local',
      account: 'contoso\\svc',
      accountShown: 'CONTOSO\\svc',
      tactics: ['credential-access'],
    }),
    alert(31, {
      account: 'contoso\\svc',
      accountShown: 'CONTOSO\\svc',
      session: 'fs02|0x1b2c3d',
      tactics: ['lateral-movement'],
    }),
    alert(40, {
      host: 'ws07',
      hostShown: 'WS07.contoso.local',
      indicator: '203.0.113.77',
      tactics: ['command-and-control'],
    }),
    alert(41, {
      host: 'dc01',
      hostShown: 'DC01.contoso.local',
      indicator: '203.0.113.77',
      account: 'contoso\\svc',
      accountShown: 'CONTOSO\\svc',
    }),
    alert(50, {
      host: 'ws09',
      hostShown: 'WS09.contoso.local',
      account: 'contoso\\bob',
      accountShown: 'CONTOSO\\bob',
      level: 'low',
      tactics: ['discovery'],
    }),
    // The same account three days later: not joined by the account window.
    alert(3 * 24 * 60, {
      host: 'ws09',
      hostShown: 'WS09.contoso.local',
      account: 'contoso\\svc',
      accountShown: 'CONTOSO\\svc',
      level: 'medium',
    }),
  ];

  it('joins alerts by session, process tree, account within the window and shared indicator; explains the edges', () => {
    const incidents = buildIncidents(alerts, { unusualSignins: ['CONTOSO\\svc'] });
    expect(incidents.map((i) => [i.id, i.hosts, i.accounts, i.alertCount])).toEqual([
      ['INC-1', ['FS02.contoso.local', 'DC01.contoso.local', 'WS07.contoso.local'], ['CONTOSO\\svc'], 7],
      ['INC-3', ['WS09.contoso.local'], ['CONTOSO\\svc'], 1],
      ['INC-2', ['WS09.contoso.local'], ['CONTOSO\\bob'], 1],
    ]);
    const [main] = incidents;
    expect(main.edges).toEqual({ session: 2, account: 2, indicator: 1, process: 1 });
    expect(main.stages.map((s) => s.tactic)).toEqual([
      'defense-evasion',
      'credential-access',
      'discovery',
      'lateral-movement',
      'command-and-control',
    ]);
    expect(main.severity).toBe('high');
    expect(main.reasons).toEqual([
      '7 distinct rules (140 points by level)',
      '5 ATT&CK tactics',
      'credential access',
      '3 hosts',
      'unusual sign-in of CONTOSO\\svc',
    ]);
    expect(main.score).toBe(140 + 50 + 30 + 20 + 20);
    expect(main.first).toBe(new Date(T0).toISOString());
    expect(main.alerts[0]).toBe('rule-0 f#0');
  });

  it('a process id without a GUID links for 10 minutes only (ids are reused); a GUID for 12 hours', () => {
    const pid = [
      alert(0, { pid: 'ws07|pid:4116', account: 'contoso\\jdoe', accountShown: 'CONTOSO\\jdoe' }),
      alert(300, { pid: 'ws07|pid:4116', account: 'contoso\\svc', accountShown: 'CONTOSO\\svc' }),
      alert(301, { parentPid: 'ws07|pid:4116' }),
    ];
    expect(buildIncidents(pid).map((i) => i.alertCount)).toEqual([2, 1]);
    const guid = [
      alert(0, { process: 'ws07|8a1f2c3d-1e2f-6464-4308-000000000d00' }),
      alert(300, { parent: 'ws07|8a1f2c3d-1e2f-6464-4308-000000000d00' }),
    ];
    expect(buildIncidents(guid).map((i) => i.alertCount)).toEqual([2]);
    // One process seen by Sysmon 1 (GUID and id) and by 4688 (id only): one activity.
    const sources = [
      alert(0, { process: 'ws07|8a1f2c3d-1e2f-6464-4309-000000000d00', pid: 'ws07|pid:7580' }),
      alert(0, { pid: 'ws07|pid:7580', where: 'security.evtx#1' }),
    ];
    expect(buildIncidents(sources).map((i) => [i.alertCount, i.edges])).toEqual([[2, { process: 1 }]]);
    // A grandchild joins the alert of the process it descends from, even one raised after it
    // (the payload's own alert comes after its children's discovery).
    const family = [
      alert(0, { parent: 'ws07|cmd-guid', ancestors: ['ws07|payload-guid', 'ws07|explorer-guid'] }),
      alert(2, { process: 'ws07|payload-guid' }),
      alert(3, { process: 'ws07|other-guid' }),
    ];
    expect(buildIncidents(family).map((i) => i.alertCount)).toEqual([2, 1]);
  });

  it('a sign-in from one host to another joins the account alert before it to the first alert after it there (lateral)', () => {
    const svc = { account: 'contoso\\svc', accountShown: 'CONTOSO\\svc' };
    const moved = [
      alert(0, { host: 'ws07', hostShown: 'WS07.contoso.local', ...svc }),
      // On the DC, in the session the sign-in opened: no account named, so only the hop joins it.
      alert(12, { host: 'dc01', hostShown: 'DC01.contoso.local', session: 'dc01|0x99' }),
      // Another session on the DC: not joined.
      alert(13, { host: 'dc01', hostShown: 'DC01.contoso.local', session: 'dc01|0x42' }),
    ];
    const hop = {
      time: T0 + 10 * 60_000,
      from: 'ws07',
      to: 'dc01',
      account: 'contoso\\svc',
      session: 'dc01|0x99',
      logonType: 'Network',
      source: '10.0.5.23',
    };
    const [joined, other] = buildIncidents(moved, { hops: [hop] });
    expect(joined.alertCount).toBe(2);
    expect(joined.edges).toEqual({ lateral: 1 });
    expect(joined.movements).toEqual([
      {
        time: new Date(hop.time).toISOString(),
        from: 'WS07.contoso.local',
        to: 'DC01.contoso.local',
        account: 'CONTOSO\\svc',
        logonType: 'Network',
        source: '10.0.5.23',
      },
    ]);
    expect(joined.reasons).toContain('lateral movement WS07.contoso.local → DC01.contoso.local');
    expect(other.alertCount).toBe(1);
    // The account's alert on the source host more than a day before: no hop.
    const stale = buildIncidents(moved, { hops: [{ ...hop, time: T0 + 25 * 3_600_000 }] });
    expect(stale.map((i) => i.alertCount)).toEqual([1, 1, 1]);
  });

  it('rules raised on one event are one activity', () => {
    const both = [alert(0, { ruleId: 'a' }), alert(0, { ruleId: 'b' })];
    expect(buildIncidents(both).map((i) => [i.alertCount, i.edges])).toEqual([[2, { event: 1 }]]);
  });

  it('gives the same incidents whatever the order of the alerts', () => {
    const once = buildIncidents(alerts);
    for (let seed = 1; seed <= 5; seed++) {
      const shuffled = [...alerts].sort((a, b) => ((a.time! * seed) % 7) - ((b.time! * seed) % 7));
      expect(buildIncidents(shuffled)).toEqual(once);
    }
  });

  it('the scenario: one incident over FS02, WS07 and DC01 by CONTOSO\\svc-fortinet; jdoe in none', async () => {
    const { stderr } = await runCli(['hunt', '--no-progress', '--format', 'jsonl', 'examples/']);
    const lines = stderr.split('\n');
    const first = lines.findIndex((l) => l.includes(' INC-'));
    expect(lines[first]).toMatch(
      /INC-1 {2}critical {2}score \d+ {2}2023-05-16T13:10:05\.010Z \.\. 2023-05-16T15:10:01\.000Z {2}hosts FS02\.contoso\.local, ws07\.contoso\.local, DC01\.contoso\.local {2}accounts CONTOSO\\svc-fortinet$/,
    );
    expect(lines[first + 1]).toContain('credential-access > discovery > lateral-movement');
    // winrs to the DC and wmiexec to WS07, both from FS02 (its address from its own Sysmon 3).
    expect(lines[first + 2]).toBe(
      '      moved FS02.contoso.local → DC01.contoso.local as CONTOSO\\svc-fortinet (Network sign-in from 10.0.5.21 at 2023-05-16T14:45:01.000Z)',
    );
    expect(lines[first + 3]).toContain('moved FS02.contoso.local → WS07.contoso.local');
    expect(stderr.match(/ INC-\d+ .*/g)?.join('\n')).not.toContain('jdoe');
  });
});
