/** Security-log events written for the correlate tests, each field as Windows writes it. */
import type { RawEvent } from '../../src/ingest/raw-event.js';

let record = 0;

/** A Security event of `eventId` at `time` on `computer` (an FQDN), with its EventData. */
export function securityEvent(
  time: number,
  eventId: number,
  data: Record<string, unknown>,
  computer = 'FS02.contoso.local',
): RawEvent {
  record++;
  return {
    time,
    provider: 'Microsoft-Windows-Security-Auditing',
    channel: 'Security',
    eventId,
    computer,
    recordId: record,
    origin: { file: 'sec.evtx', format: 'evtx', record },
    data: { EventID: eventId, ...data },
  };
}

/** A 4624 of CONTOSO\\user with its logon id, type and source address. */
export function signin(
  time: number,
  user: string,
  logonId: string,
  type: number,
  ip = '10.0.5.23',
  host = 'FS02',
): RawEvent {
  return securityEvent(
    time,
    4624,
    {
      TargetUserName: user,
      TargetDomainName: 'CONTOSO',
      TargetLogonId: logonId,
      LogonType: type,
      IpAddress: ip,
    },
    `${host}.contoso.local`,
  );
}
