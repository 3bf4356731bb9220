/**
 * Hosts' own addresses and the sign-ins between hosts: an address is a host's when the host
 * initiated a connection from it (Sysmon 3 Initiated=true, Defender LocalIP); an address two
 * hosts claim names neither; a sign-in from a known host's address or name is a hop.
 */
import { describe, expect, it } from 'vitest';
import { AccountNames, HostNames } from '../../src/correlate/entities.js';
import { logonOf } from '../../src/correlate/logons.js';
import { MovementFinder } from '../../src/correlate/movement.js';
import type { RawEvent } from '../../src/ingest/raw-event.js';
import { normalize } from '../../src/normalize/normalize.js';
import { signin } from './events.js';

const T0 = Date.UTC(2023, 4, 16, 13, 0, 0);
let record = 0;
function connection(computer: string, ip: string, initiated: boolean): RawEvent {
  record++;
  return {
    time: T0,
    provider: 'Microsoft-Windows-Sysmon',
    channel: 'Microsoft-Windows-Sysmon/Operational',
    eventId: 3,
    computer,
    recordId: record,
    origin: { file: 'sysmon.evtx', format: 'evtx', record },
    data: {
      EventID: 3,
      Image: 'C:\\Windows\\System32\\svchost.exe',
      Initiated: String(initiated),
      SourceIp: ip,
      SourcePort: 50000,
      DestinationIp: '10.0.5.10',
      DestinationPort: 445,
      Protocol: 'tcp',
    },
  };
}

describe('lateral movement', () => {
  it('learns addresses from connections a host initiated and finds sign-ins from them', () => {
    const hosts = new HostNames();
    const accounts = new AccountNames();
    const finder = new MovementFinder(hosts);
    for (const e of [
      connection('FS02.contoso.local', '10.0.5.21', true),
      connection('WS07.contoso.local', '10.0.5.99', false), // inbound: the source is the peer's
      connection('WS03.contoso.local', '10.0.5.50', true),
      connection('WS11.contoso.local', '10.0.5.50', true), // two hosts claim it: neither
    ])
      finder.learn(normalize(e));
    hosts.see('DC01.contoso.local');
    for (const e of [
      signin(T0 + 1000, 'svc', '0x62a0c4', 3, '10.0.5.21', 'DC01'),
      signin(T0 + 2000, 'svc', '0x62a0c5', 3, '10.0.5.99', 'DC01'),
      signin(T0 + 3000, 'svc', '0x62a0c6', 3, '10.0.5.50', 'DC01'),
      signin(T0 + 4000, 'svc', '0x62a0c7', 2, '10.0.5.21', 'DC01'), // interactive: not remote
    ]) {
      const logon = logonOf(normalize(e), hosts, accounts);
      if (logon) finder.signin(logon);
    }
    expect(finder.hops()).toEqual([
      {
        time: T0 + 1000,
        from: 'fs02',
        to: 'dc01',
        account: 'contoso\\svc',
        session: 'dc01|0x62a0c4',
        logonType: 'Network',
        source: '10.0.5.21',
      },
    ]);
  });
});
