/**
 * Logon sessions: opened by 4624, closed by 4634/4647 or a restart (6005/4608), seen through RDP
 * 4778/4779; process creations linked to the session they ran in; sessions live at a moment.
 * Small events written here (each field as Windows writes it), and a real RDP hijack recording.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { logonIdOf, SessionTable } from '../../src/correlate/sessions.js';
import { normalize } from '../../src/normalize/normalize.js';
import { DATA, HAS_DATA, readAllItems } from '../helpers.js';
import { securityEvent, signin } from './events.js';

const T0 = Date.UTC(2023, 4, 16, 9, 0, 0);
const security = (min: number, eventId: number, data: Record<string, unknown>) =>
  securityEvent(T0 + min * 60_000, eventId, data);
const logon = (min: number, user: string, id: string, type: number, ip = '10.0.5.23') =>
  signin(T0 + min * 60_000, user, id, type, ip);

describe('logon sessions', () => {
  it('opens, closes and links processes to sessions; a restart ends every session of its host', () => {
    const table = new SessionTable();
    const events = [
      logon(0, 'jdoe', '0x00000000004c7a21', 2, '-'),
      logon(5, 'svc-fortinet', '0x1b2c3d', 10, '203.0.113.77'),
      security(6, 4688, {
        SubjectLogonId: '0x3e7',
        TargetLogonId: '0x00000000001b2c3d',
        NewProcessName: 'C:\\Windows\\System32\\ntdsutil.exe',
      }),
      security(7, 4688, {
        SubjectLogonId: '0x4c7a21',
        TargetLogonId: '0x0',
        NewProcessName: 'C:\\Windows\\explorer.exe',
      }),
      security(10, 4634, { TargetLogonId: '0x4c7a21', TargetUserName: 'jdoe' }),
      logon(20, 'jdoe', '0x4c7a21', 3), // the id again, a new session
      { ...security(30, 6005, {}), provider: 'EventLog', channel: 'System' },
    ];
    for (const e of events) table.add(normalize(e));
    const [jdoe, svc, jdoe2] = table.all();
    expect(jdoe).toMatchObject({
      logonId: '0x4c7a21',
      account: 'contoso\\jdoe',
      logonType: 2,
      source: null,
      end: T0 + 10 * 60_000,
      endedBy: 'logoff',
    });
    expect(svc).toMatchObject({
      account: 'contoso\\svc-fortinet',
      logonType: 10,
      source: '203.0.113.77',
      endedBy: 'restart',
      end: T0 + 30 * 60_000,
    });
    expect(jdoe2).toMatchObject({ logonType: 3, start: T0 + 20 * 60_000, endedBy: 'restart' });
    // 4688: the target's session when it names one, else the creator's.
    expect(table.sessionOfProcess(normalize(events[2]))).toBe(svc);
    expect(table.sessionOfProcess(normalize(events[3]))).toBe(jdoe);
    // Live at 09:08 on FS02: both; at 09:15: svc only; the host is matched however it is spelt.
    expect(table.liveAt('fs02', T0 + 8 * 60_000)).toEqual([jdoe, svc]);
    expect(table.liveAt('fs02', T0 + 15 * 60_000)).toEqual([svc]);
    expect(table.liveAt('fs02', T0 + 31 * 60_000)).toEqual([]);
  });

  it('Remote Desktop session events: 21 opens (type 10, or 2 at the console), 24/25 keep it, 23 closes it', () => {
    let record = 0;
    const desktop = (min: number, eventId: number, sessionId: number, user: string, address: string) => {
      record++;
      return normalize({
        time: T0 + min * 60_000,
        provider: 'Microsoft-Windows-TerminalServices-LocalSessionManager',
        channel: 'Microsoft-Windows-TerminalServices-LocalSessionManager/Operational',
        eventId,
        computer: 'FS02.contoso.local',
        recordId: record,
        origin: { file: 'lsm.evtx', format: 'evtx', record },
        data: { EventID: eventId, User: user, SessionID: sessionId, Address: address },
      });
    };
    const table = new SessionTable();
    for (const e of [
      desktop(0, 21, 2, 'CONTOSO\\mlopez', '10.0.5.55'),
      desktop(1, 21, 2, 'CONTOSO\\mlopez', '10.0.5.55'), // the same logon twice: one session
      desktop(30, 24, 2, 'CONTOSO\\mlopez', '10.0.5.55'),
      desktop(40, 25, 2, 'CONTOSO\\mlopez', '10.0.5.55'),
      desktop(90, 23, 2, 'CONTOSO\\mlopez', '10.0.5.55'),
      desktop(5, 21, 1, 'CONTOSO\\jdoe', 'LOCAL'),
      desktop(100, 21, 2, 'CONTOSO\\bkumar', '10.0.5.42'), // the number reused after the logoff
    ])
      table.add(e);
    const rows = table
      .all()
      .map((x) => [x.logonId, x.account, x.logonType, x.source, x.start, x.end, x.reconnects, x.disconnects]);
    expect(rows).toEqual([
      ['ts:2', 'contoso\\mlopez', 10, '10.0.5.55', T0, T0 + 90 * 60_000, 1, 1],
      ['ts:1', 'contoso\\jdoe', 2, null, T0 + 5 * 60_000, null, 0, 0],
      ['ts:2', 'contoso\\bkumar', 10, '10.0.5.42', T0 + 100 * 60_000, null, 0, 0],
    ]);
    // Live at minute 60: mlopez (disconnected, credentials still in LSASS) and jdoe.
    expect(table.liveAt('fs02', T0 + 60 * 60_000).map((x) => x.account)).toEqual([
      'contoso\\mlopez',
      'contoso\\jdoe',
    ]);
  });

  it('logon ids in every spelling are one id; zero is none', () => {
    expect(logonIdOf('0x00000000004C7A21')).toBe('0x4c7a21');
    expect(logonIdOf(5012001)).toBe('0x4c7a21');
    expect(logonIdOf('0x0')).toBeNull();
    expect(logonIdOf('-')).toBeNull();
  });

  it.runIf(HAS_DATA)(
    'an RDP hijack: sessions known from 4778/4779 only, and the processes run in them',
    async () => {
      const file = path.join(
        DATA,
        'evtx-to-mitre-attack/TA0008-Lateral Movement/T1021.001-Remote Desktop Protocol/ID4688,4778,4779 RDP hijack direct.evtx',
      );
      const { events } = await readAllItems([file]);
      const table = new SessionTable();
      const views = events.map((e) => normalize(e));
      for (const v of views) table.add(v);
      const sessions = table.all();
      expect(
        sessions.map((s) => [
          table.accounts.display(s.account!),
          s.logonId,
          s.source,
          s.reconnects,
          s.disconnects,
        ]),
      ).toEqual([
        ['OFFSEC\\admmig', '0x13b5e1e', '10.23.23.9', 0, 1],
        ['OFFSEC\\admmarsid', '0x6a423', '10.23.23.9', 1, 0],
      ]);
      // Processes started as admmarsid (TargetLogonId 0x6a423) belong to the reconnected session.
      const ran = views
        .filter((v) => v.raw.eventId === 4688)
        .map((v) => table.sessionOfProcess(v)?.logonId ?? null);
      expect(ran.filter((id) => id === '0x6a423').length).toBeGreaterThan(0);
      expect(ran.filter((id) => id === '0x13b5e1e').length).toBeGreaterThan(0);
    },
  );
});
