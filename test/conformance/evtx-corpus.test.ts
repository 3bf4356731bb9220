import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InputProblem, RawEvent } from '../../src/ingest/raw-event.js';
import { readFile } from '../../src/ingest/read.js';
import { collect, DATA, filesUnder, HAS_DATA, indexRecords } from '../helpers.js';

function read(file: string): Promise<{ events: RawEvent[]; problems: InputProblem[] }> {
  return collect(readFile(file));
}

/** The files older parsers cannot render (binary XML without templates, value-text tokens). */
const UNRENDERABLE: Record<string, number> = {
  'evtx-to-mitre-attack/Antivirus/ID1116-1117-Defender threat detected.evtx': 6,
  'evtx-to-mitre-attack/Antivirus/ID1151-Defender health status.evtx': 455,
  'evtx-to-mitre-attack/TA0001-Initial access/T1078-Valid accounts/ID1149-RDP success logins to multiple hosts.evtx': 11,
  'evtx-to-mitre-attack/TA0002-Execution/T1059.001-PowerShell/ID800-4103-Interactive PipeShell over named pipe (server and client).evtx': 30,
  'evtx-to-mitre-attack/TA0003-Persistence/T1546-Event Triggered Execution/ID800-4103-4104-WMI registration via PowerLurk.evtx': 10,
  'evtx-to-mitre-attack/TA0003-Persistence/T1547-Boot or Logon Autostart Execution/ID4622-New SSP loaded in LSA (only legitim).evtx': 420,
  'evtx-to-mitre-attack/TA0003-Persistence/T1574-Hijack Execution Flow/ID800-4103-4104-Print spooler privilege escalation (CVE-2020-1048).evtx': 10,
  'evtx-to-mitre-attack/TA0005-Defense Evasion/T1562.004-Impair Defenses-Disable or Modify System Firewall/ID2003-4950-Firewall disabled.evtx': 6,
  'evtx-to-mitre-attack/TA0005-Defense Evasion/T1562.004-Impair Defenses-Disable or Modify System Firewall/ID800-4103-Firewall disabled.evtx': 10,
  'evtx-to-mitre-attack/TA0006-Credential Access/T1552.004-Unsecured Credentials-Private Keys/ID70-CAPI-Private key accessed Mimikatz.evtx': 3,
  'evtx-to-mitre-attack/TA0007-Discovery/T1069-Permission Groups Discovery/ID4799-4624-Local admin group enumerated by SharpHound.evtx': 55,
  'evtx-to-mitre-attack/TA0007-Discovery/T1135.xxx-Network Share Discovery/ID5140-5145-Bloodhound-SharpHound enumeration via SMB.evtx': 91,
  'evtx-to-mitre-attack/TA0008-Lateral Movement/T1021.006-Windows Remote Management/ID4656-WS Management listener enumeration.evtx': 29,
};

describe.runIf(HAS_DATA)('every EVTX file of the shared corpus', () => {
  it('parses without an error, and reads exactly the records INDEX.csv gives (no --recover)', async () => {
    const index = indexRecords();
    const files = filesUnder(DATA, '.evtx');
    expect(files.length).toBeGreaterThanOrEqual(671);
    let checked = 0;
    const mismatches: string[] = [];
    for (const file of files) {
      const rel = path.relative(DATA, file);
      const { events, problems } = await read(file);
      expect(problems, rel).toEqual([]);
      const expected = index.get(rel)?.records ?? UNRENDERABLE[rel];
      if (expected === undefined || expected === null) continue;
      checked++;
      if (events.length !== expected) mismatches.push(`${rel}: ${events.length} != ${expected}`);
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(671);
  });

  it('reads the 13 files python-evtx and libevtx cannot render completely, with their values', async () => {
    for (const [rel, count] of Object.entries(UNRENDERABLE)) {
      const { events, problems } = await read(path.join(DATA, rel));
      expect(problems, rel).toEqual([]);
      expect(events.length, rel).toBe(count);
    }
    const rdp = await read(path.join(DATA, Object.keys(UNRENDERABLE)[2]));
    expect(rdp.events[0]).toMatchObject({
      eventId: 1149,
      channel: 'Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational',
      computer: 'rootdc1.offsec.lan',
      recordId: 6433,
    });
    expect(rdp.events[0].data).toMatchObject({ Param1: 'admmig', Param3: '10.23.123.11' });
    const defender = await read(path.join(DATA, Object.keys(UNRENDERABLE)[0]));
    expect(defender.events[0].data).toMatchObject({
      'Threat Name': 'HackTool:Win64/Mikatz!dha',
      'Detection User': 'OFFSEC\\admmig',
      'Process Name': 'C:\\Windows\\explorer.exe',
    });
    const smb = await read(path.join(DATA, Object.keys(UNRENDERABLE)[11]));
    expect(smb.events[1].data).toMatchObject({
      ShareName: '\\\\*\\IPC$',
      IpAddress: '10.23.23.9',
      SubjectUserName: 'admmig',
    });
  });
});
