#!/usr/bin/env node
/**
 * Writes examples/: a small intrusion in the style of Microsoft's Volt Typhoon advisory (valid
 * account from an unusual IP, discovery, an LSASS dump through comsvcs.dll, ntdsutil install media,
 * a netsh port proxy set up through wmic, a password-protected 7z archive, a custom FRP binary)
 * among ordinary admin work, in the formats responders receive. Deterministic: run it again and
 * the files do not change. See examples/README.md for the story and the formats.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const out = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'examples');
mkdirSync(path.join(out, 'defender'), { recursive: true });

const DAY = '2023-05-16';
const at = (hms, ms = 0) => `${DAY}T${hms}.${String(ms).padStart(3, '0')}0000Z`;
const FRP_SHA256 = 'baeffeb5fdef2f42a752c65c2d2a52e84fb57efc906d981f89dd518c314e231c';
const FRP_MD5 = '3f3ba6bf2a4b3a1b7bd1a9c3b8b1a4e2';
const FRP_SHA1 = '1d7b6cbd6e2a1c2f5e1dbe7bb6e4e4f2a3c8d9e0';
const C2_IP = '198.51.100.14';
const C2_DOMAIN = 'update.cdn-contoso.top';
const SOHO_IP = '203.0.113.77';

// PowerShell -EncodedCommand payloads are UTF-16LE Base64, as in the advisory's Figure 2.
const enc = (s) => Buffer.from(s, 'utf16le').toString('base64');
const LSASS_PS =
  'cmd.exe /c rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 652 C:\\Windows\\Temp\\lsass.dmp full';

// ---- evtx_dump-style records ------------------------------------------------------------------
let record = 1000;
function evtx(system, eventData) {
  record++;
  return {
    Event: {
      '#attributes': { xmlns: 'http://schemas.microsoft.com/win/2004/08/events/event' },
      System: {
        Provider: { '#attributes': { Name: system.provider, Guid: system.guid } },
        EventID: system.eventId,
        Version: system.version ?? 0,
        Level: 4,
        Task: system.task ?? 0,
        Opcode: 0,
        Keywords: system.keywords ?? '0x8000000000000000',
        TimeCreated: { '#attributes': { SystemTime: system.time } },
        EventRecordID: record,
        Correlation: null,
        Execution: { '#attributes': { ProcessID: 3140, ThreadID: 4264 } },
        Channel: system.channel,
        Computer: system.computer,
        Security: { '#attributes': { UserID: 'S-1-5-18' } },
      },
      EventData: eventData,
    },
  };
}

const SYSMON = {
  provider: 'Microsoft-Windows-Sysmon',
  guid: '{5770385F-C22A-43E0-BF4C-06F5698FFBD9}',
  channel: 'Microsoft-Windows-Sysmon/Operational',
};
let pid = 4100;
const guid = (n) => `{8A1F2C3D-1E2F-6464-${String(n).padStart(4, '0')}-000000000D00}`;

function sysmon1(computer, time, user, image, commandLine, parent, parentCmd, extra = {}) {
  pid += 16;
  return evtx(
    { ...SYSMON, eventId: 1, version: 5, task: 1, time, computer },
    {
      RuleName: '-',
      UtcTime: time.replace('T', ' ').slice(0, 23),
      ProcessGuid: guid(pid),
      ProcessId: pid,
      Image: image,
      FileVersion: extra.FileVersion ?? '10.0.17763.1 (WinBuild.160101.0800)',
      Description: extra.Description ?? path.win32.basename(image),
      Product: extra.Product ?? 'Microsoft® Windows® Operating System',
      Company: extra.Company ?? 'Microsoft Corporation',
      OriginalFileName: extra.OriginalFileName ?? path.win32.basename(image),
      CommandLine: commandLine,
      CurrentDirectory: 'C:\\Windows\\system32\\',
      User: user,
      LogonGuid: '{8A1F2C3D-1E2F-6464-0000-0020E7A10500}',
      LogonId: SYSMON_LOGON_IDS[`${computer}|${user}`] ?? '0x3E7',
      TerminalSessionId: 0,
      IntegrityLevel: 'High',
      Hashes:
        extra.Hashes ??
        'SHA1=0D8C1A6A3E6E1B57D7E8C3F0C2B1D2A4E5F60718,MD5=6A2B0C5E8E1D0A3F4B7C9D2E1F0A3B4C,SHA256=8F1E2D3C4B5A69788796A5B4C3D2E1F00112233445566778899AABBCCDDEEFF0,IMPHASH=2A3B4C5D6E7F80910A1B2C3D4E5F6071',
      ParentProcessGuid: guid(pid - 8),
      ParentProcessId: pid - 8,
      ParentImage: parent,
      ParentCommandLine: parentCmd,
      ParentUser: user,
    },
  );
}

const WS = 'WS07.contoso.local';
const FS = 'FS02.contoso.local';
const DC = 'DC01.contoso.local';
const ADMIN = 'CONTOSO\\jdoe';
const THIEF = 'CONTOSO\\svc-fortinet';
const CMD = 'C:\\Windows\\System32\\cmd.exe';
const PS = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';
const WMIC = 'C:\\Windows\\System32\\wbem\\WMIC.exe';
const EXPLORER = 'C:\\Windows\\explorer.exe';

// Each account's logon session on each host (the sign-ins that open them are in
// security-signins-week.jsonl and the Defender logon table).
const SYSMON_LOGON_IDS = {
  [`${WS}|${ADMIN}`]: '0x3E1F0A',
  [`${FS}|${THIEF}`]: '0x5A1E7',
  [`${WS}|${THIEF}`]: '0x7B2C1',
};

const sysmon = [
  // 09:0x benign admin work on the workstation
  sysmon1(
    WS,
    at('09:02:11', 120),
    ADMIN,
    'C:\\Windows\\System32\\ipconfig.exe',
    'ipconfig /all',
    CMD,
    'cmd.exe',
  ),
  sysmon1(
    WS,
    at('09:03:40', 5),
    ADMIN,
    'C:\\Windows\\System32\\gpupdate.exe',
    'gpupdate /force',
    CMD,
    'cmd.exe',
  ),
  sysmon1(
    WS,
    at('09:05:02', 300),
    ADMIN,
    'C:\\Windows\\System32\\notepad.exe',
    'notepad.exe C:\\Users\\jdoe\\Documents\\change-ticket-4411.txt',
    EXPLORER,
    'C:\\Windows\\Explorer.EXE',
  ),
  sysmon1(
    WS,
    at('09:07:15', 0),
    ADMIN,
    'C:\\Windows\\System32\\vssadmin.exe',
    'vssadmin list shadows',
    CMD,
    'cmd.exe',
  ),
  sysmon1(
    WS,
    at('09:09:30', 0),
    ADMIN,
    'C:\\Program Files\\7-Zip\\7z.exe',
    '"C:\\Program Files\\7-Zip\\7z.exe" a C:\\Users\\jdoe\\Documents\\tickets.7z C:\\Users\\jdoe\\Documents\\*.txt',
    CMD,
    'cmd.exe',
    { Company: 'Igor Pavlov', Product: '7-Zip', OriginalFileName: '7z.exe', Description: '7-Zip Console' },
  ),
  // 13:1x the intruder, signed in as svc-fortinet, on the file server: discovery
  sysmon1(FS, at('13:10:05', 10), THIEF, WMIC, 'wmic volume list brief', CMD, 'cmd.exe'),
  sysmon1(
    FS,
    at('13:10:21', 0),
    THIEF,
    WMIC,
    'wmic path win32_logicaldisk get caption,filesystem,freespace,size,volumename',
    CMD,
    'cmd.exe',
  ),
  sysmon1(FS, at('13:10:44', 0), THIEF, 'C:\\Windows\\System32\\tasklist.exe', 'tasklist /v', CMD, 'cmd.exe'),
  sysmon1(
    FS,
    at('13:11:02', 0),
    THIEF,
    'C:\\Windows\\System32\\netsh.exe',
    'netsh interface portproxy show all',
    CMD,
    'cmd.exe',
  ),
  sysmon1(
    FS,
    at('13:11:30', 0),
    THIEF,
    'C:\\Windows\\System32\\PING.EXE',
    'ping -n 1 10.0.5.10',
    CMD,
    'cmd.exe',
  ),
  sysmon1(FS, at('13:11:58', 0), THIEF, WMIC, 'wmic computersystem get manufacturer,model', CMD, 'cmd.exe'),
  // 13:2x credential access: LSASS dump through comsvcs.dll, launched from encoded PowerShell
  sysmon1(
    FS,
    at('13:20:01', 0),
    THIEF,
    PS,
    `powershell.exe -exec bypass -W hidden -nop -E ${enc(LSASS_PS)}`,
    CMD,
    'cmd.exe',
  ),
  sysmon1(
    FS,
    at('13:20:02', 50),
    THIEF,
    'C:\\Windows\\System32\\rundll32.exe',
    'rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 652 C:\\Windows\\Temp\\lsass.dmp full',
    CMD,
    LSASS_PS,
  ),
  evtx(
    { ...SYSMON, eventId: 10, version: 3, task: 10, time: at('13:20:02', 90), computer: FS },
    {
      RuleName: '-',
      UtcTime: `${DAY} 13:20:02.090`,
      SourceProcessGUID: guid(pid),
      SourceProcessId: pid,
      SourceThreadId: 5120,
      SourceImage: 'C:\\Windows\\System32\\rundll32.exe',
      TargetProcessGUID: '{8A1F2C3D-1E2F-6464-0C00-000000000D00}',
      TargetProcessId: 652,
      TargetImage: 'C:\\Windows\\system32\\lsass.exe',
      GrantedAccess: '0x1FFFFF',
      CallTrace:
        'C:\\Windows\\SYSTEM32\\ntdll.dll+9d4c4|C:\\Windows\\System32\\KERNELBASE.dll+2bcae|C:\\Windows\\System32\\comsvcs.dll+4b3e1|C:\\Windows\\System32\\dbgcore.dll+6c2a',
      SourceUser: THIEF,
      TargetUser: 'NT AUTHORITY\\SYSTEM',
    },
  ),
  evtx(
    { ...SYSMON, eventId: 11, version: 2, task: 11, time: at('13:20:04', 0), computer: FS },
    {
      RuleName: '-',
      UtcTime: `${DAY} 13:20:04.000`,
      ProcessGuid: guid(pid),
      ProcessId: pid,
      Image: 'C:\\Windows\\System32\\rundll32.exe',
      TargetFilename: 'C:\\Windows\\Temp\\lsass.dmp',
      CreationUtcTime: `${DAY} 13:20:04.000`,
      User: THIEF,
    },
  ),
  // 13:4x command and control: the FRP binary dropped, run and connecting out
  evtx(
    { ...SYSMON, eventId: 11, version: 2, task: 11, time: at('13:40:10', 0), computer: FS },
    {
      RuleName: '-',
      UtcTime: `${DAY} 13:40:10.000`,
      ProcessGuid: guid(pid),
      ProcessId: pid,
      Image: CMD,
      TargetFilename: 'C:\\Users\\Public\\Videos\\svchost.exe',
      CreationUtcTime: `${DAY} 13:40:10.000`,
      User: THIEF,
    },
  ),
  sysmon1(
    FS,
    at('13:40:31', 0),
    THIEF,
    'C:\\Users\\Public\\Videos\\svchost.exe',
    'C:\\Users\\Public\\Videos\\svchost.exe -c C:\\Users\\Public\\Videos\\config.ini',
    CMD,
    'cmd.exe',
    {
      Description: '-',
      Product: '-',
      Company: '-',
      FileVersion: '-',
      OriginalFileName: '-',
      Hashes: `SHA1=${FRP_SHA1.toUpperCase()},MD5=${FRP_MD5.toUpperCase()},SHA256=${FRP_SHA256.toUpperCase()},IMPHASH=00000000000000000000000000000000`,
    },
  ),
  evtx(
    { ...SYSMON, eventId: 3, version: 5, task: 3, time: at('13:40:33', 0), computer: FS },
    {
      RuleName: '-',
      UtcTime: `${DAY} 13:40:33.000`,
      ProcessGuid: guid(pid),
      ProcessId: pid,
      Image: 'C:\\Users\\Public\\Videos\\svchost.exe',
      User: THIEF,
      Protocol: 'tcp',
      Initiated: 'true',
      SourceIsIpv6: 'false',
      SourceIp: '10.0.5.21',
      SourceHostname: FS,
      SourcePort: 50632,
      SourcePortName: '-',
      DestinationIsIpv6: 'false',
      DestinationIp: C2_IP,
      DestinationHostname: C2_DOMAIN,
      DestinationPort: 443,
      DestinationPortName: 'https',
    },
  ),
  evtx(
    { ...SYSMON, eventId: 22, version: 5, task: 22, time: at('13:40:32', 0), computer: FS },
    {
      RuleName: '-',
      UtcTime: `${DAY} 13:40:32.000`,
      ProcessGuid: guid(pid),
      ProcessId: pid,
      QueryName: C2_DOMAIN,
      QueryStatus: '0',
      QueryResults: `::ffff:${C2_IP};`,
      Image: 'C:\\Users\\Public\\Videos\\svchost.exe',
      User: THIEF,
    },
  ),
  // 13:5x the port proxy set up through wmic, its registry trace, and its removal
  sysmon1(
    FS,
    at('13:50:12', 0),
    THIEF,
    WMIC,
    'wmic process call create "cmd.exe /c netsh interface portproxy add v4tov4 listenport=50100 listenaddress=0.0.0.0 connectport=1433 connectaddress=10.0.5.10"',
    CMD,
    'cmd.exe',
  ),
  evtx(
    { ...SYSMON, eventId: 13, version: 2, task: 13, time: at('13:50:13', 0), computer: FS },
    {
      RuleName: '-',
      EventType: 'SetValue',
      UtcTime: `${DAY} 13:50:13.000`,
      ProcessGuid: guid(pid + 1),
      ProcessId: pid + 1,
      Image: 'C:\\Windows\\System32\\netsh.exe',
      TargetObject: 'HKLM\\System\\CurrentControlSet\\Services\\PortProxy\\v4tov4\\tcp\\0.0.0.0/50100',
      Details: '10.0.5.10/1433',
      User: THIEF,
    },
  ),
  sysmon1(
    FS,
    at('14:30:00', 0),
    THIEF,
    'C:\\Windows\\System32\\netsh.exe',
    'netsh interface portproxy delete v4tov4 listenport=50100 listenaddress=0.0.0.0',
    CMD,
    'cmd.exe',
  ),
  // 14:1x collection: the install media staged in a password-protected archive
  sysmon1(
    FS,
    at('14:12:40', 0),
    THIEF,
    'C:\\Users\\Public\\7z.exe',
    'C:\\Users\\Public\\7z.exe a -p"Pa55w0rd!" -mhe=on C:\\Users\\Public\\Music\\rar.7z \\\\DC01\\C$\\Windows\\Temp\\Pro\\*',
    CMD,
    'cmd.exe',
    { Company: 'Igor Pavlov', Product: '7-Zip', OriginalFileName: '7z.exe', Description: '7-Zip Console' },
  ),
  // 14:4x more credential access, lateral movement: a renamed ProcDump pointed at LSASS, the SYSTEM
  // hive saved, Chrome's password store copied, a command run on DC01 over WinRS
  sysmon1(
    FS,
    at('14:40:00', 0),
    THIEF,
    'C:\\Users\\Public\\pd.exe',
    'C:\\Users\\Public\\pd.exe -accepteula -ma lsass.exe C:\\Windows\\Temp\\l.dmp',
    CMD,
    'cmd.exe',
    {
      Company: 'Sysinternals - www.sysinternals.com',
      Product: 'ProcDump',
      OriginalFileName: 'procdump',
      Description: 'Sysinternals process dump utility',
    },
  ),
  sysmon1(
    FS,
    at('14:41:00', 0),
    THIEF,
    'C:\\Windows\\System32\\reg.exe',
    'reg save HKLM\\SYSTEM C:\\Windows\\Temp\\s.hiv /y',
    CMD,
    'cmd.exe',
  ),
  sysmon1(
    FS,
    at('14:42:00', 0),
    THIEF,
    CMD,
    'cmd.exe /c copy "C:\\Users\\jdoe\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Login Data" C:\\Windows\\Temp\\ld.db',
    CMD,
    'cmd.exe',
  ),
  sysmon1(
    FS,
    at('14:45:00', 0),
    THIEF,
    'C:\\Windows\\System32\\winrs.exe',
    'winrs -r:DC01 "cmd /c whoami /all"',
    CMD,
    'cmd.exe',
  ),
  // 14:50 Impacket wmiexec on the workstation: cmd.exe under WmiPrvSE, output to ADMIN$
  sysmon1(
    WS,
    at('14:50:00', 0),
    THIEF,
    CMD,
    'cmd.exe /Q /c cd \\ 1> \\\\127.0.0.1\\ADMIN$\\__1684248600.4 2>&1',
    'C:\\Windows\\System32\\wbem\\WmiPrvSE.exe',
    'C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding',
  ),
];

// ---- Security and Application on the domain controller (evtx_dump style) -------------------------
const SEC = {
  provider: 'Microsoft-Windows-Security-Auditing',
  guid: '{54849625-5478-4994-A5BA-3E3B0328C30D}',
  channel: 'Security',
};
const hex = (n) => `0x${n.toString(16)}`;
let dcPid = 0x1a00;
/** Domain SIDs: each account its own. */
const SIDS = {
  [ADMIN]: 'S-1-5-21-1004336348-1177238915-682003330-1104',
  [THIEF]: 'S-1-5-21-1004336348-1177238915-682003330-1108',
};
// svc-fortinet's sessions on the DC: the sign-in from the SOHO router's address, then the
// network logon from FS02 that winrs opens.
const DC_SOHO_SESSION = '0x61f3b2';
const DC_WINRS_SESSION = '0x62a0c4';
const DC_ADMIN_SESSION = '0x4c7a21';
function sec4688(time, user, image, commandLine, parent, logonId, newPid) {
  dcPid += 0x24;
  return evtx(
    { ...SEC, eventId: 4688, version: 2, task: 13312, time, computer: DC, keywords: '0x8020000000000000' },
    {
      SubjectUserSid: SIDS[user],
      SubjectUserName: user.split('\\')[1],
      SubjectDomainName: user.split('\\')[0],
      SubjectLogonId: logonId,
      NewProcessId: hex(newPid ?? dcPid),
      NewProcessName: image,
      TokenElevationType: '%%1936',
      ProcessId: hex(dcPid - 0x24),
      CommandLine: commandLine,
      TargetUserSid: 'S-1-0-0',
      TargetUserName: '-',
      TargetDomainName: '-',
      TargetLogonId: '0x0',
      ParentProcessName: parent,
      MandatoryLabel: 'S-1-16-12288',
    },
  );
}
function sec4624(time, computer, user, logonType, ip, workstation, logonId) {
  return evtx(
    { ...SEC, eventId: 4624, version: 2, task: 12544, time, computer, keywords: '0x8020000000000000' },
    {
      SubjectUserSid: 'S-1-0-0',
      SubjectUserName: '-',
      SubjectDomainName: '-',
      SubjectLogonId: '0x0',
      TargetUserSid: SIDS[user] ?? 'S-1-0-0',
      TargetUserName: user.split('\\')[1],
      TargetDomainName: user.split('\\')[0],
      TargetLogonId: logonId,
      LogonType: logonType,
      LogonProcessName: 'NtLmSsp ',
      AuthenticationPackageName: 'NTLM',
      WorkstationName: workstation,
      LogonGuid: '{00000000-0000-0000-0000-000000000000}',
      TransmittedServices: '-',
      LmPackageName: 'NTLM V2',
      KeyLength: 128,
      ProcessId: '0x0',
      ProcessName: '-',
      IpAddress: ip,
      IpPort: '51234',
      ImpersonationLevel: '%%1833',
      RestrictedAdminMode: '-',
      TargetOutboundUserName: '-',
      TargetOutboundDomainName: '-',
      VirtualAccount: '%%1843',
      TargetLinkedLogonId: '0x0',
      ElevatedLogon: '%%1842',
    },
  );
}
const NTDS = 'C:\\Windows\\System32\\ntdsutil.exe';
const ESENT = { provider: 'ESENT', guid: '{478EA8A8-00BE-4BA6-8E75-8B9DC7DB9F78}', channel: 'Application' };
const esent = (eventId, time, data) => {
  const e = evtx({ ...ESENT, eventId, time, computer: DC, keywords: '0x80000000000000' }, { Data: data });
  delete e.Event.System.Provider['#attributes'].Guid;
  return e;
};
/** Security 1102: written by the Eventlog provider, its data in UserData (LogFileCleared). */
function logCleared(time) {
  const e = evtx(
    {
      provider: 'Microsoft-Windows-Eventlog',
      guid: '{FC65DDD8-D6EF-4962-83D5-6E5CFE9CE148}',
      channel: 'Security',
      eventId: 1102,
      task: 104,
      time,
      computer: DC,
      keywords: '0x4020000000000000',
    },
    {},
  );
  delete e.Event.EventData;
  e.Event.UserData = {
    LogFileCleared: {
      '#attributes': { xmlns: 'http://manifests.microsoft.com/win/2004/08/windows/eventlog' },
      SubjectUserSid: SIDS[THIEF],
      SubjectUserName: 'svc-fortinet',
      SubjectDomainName: 'CONTOSO',
      SubjectLogonId: DC_WINRS_SESSION,
    },
  };
  return e;
}

const security = [
  sec4624(at('08:58:30', 0), DC, ADMIN, 3, '10.0.5.23', 'WS07', DC_ADMIN_SESSION),
  sec4624(at('13:05:12', 0), DC, THIEF, 3, SOHO_IP, '-', DC_SOHO_SESSION),
  sec4688(at('09:15:00', 0), ADMIN, NTDS, 'ntdsutil "ac i ntds" "files" "info" q q', CMD, DC_ADMIN_SESSION),
  sec4688(
    at('13:30:00', 0),
    THIEF,
    NTDS,
    'ntdsutil "ac i ntds" "ifm" "create full C:\\Windows\\Temp\\Pro" q q',
    CMD,
    DC_SOHO_SESSION,
    1352, // the process id the ESENT events below name
  ),
  esent(325, at('13:30:05', 0), [
    'NTDSUTIL',
    '1352',
    'NTDSA',
    'C:\\Windows\\Temp\\Pro\\Active Directory\\ntds.dit',
    '0',
  ]),
  esent(327, at('13:30:41', 0), [
    'NTDSUTIL',
    '1352',
    'NTDSA',
    'C:\\Windows\\Temp\\Pro\\Active Directory\\ntds.dit',
    '0',
  ]),
  sec4688(
    at('13:35:00', 0),
    THIEF,
    WMIC,
    'wmic /node:DC01 process call create "ntdsutil \\"ac i ntds\\" ifm \\"create full C:\\Windows\\Temp\\Pro\\" q q"',
    CMD,
    DC_SOHO_SESSION,
  ),
  // 14:45 winrs from the file server opens a network session on the DC (lateral movement)
  sec4624(at('14:45:01', 0), DC, THIEF, 3, '10.0.5.21', 'FS02', DC_WINRS_SESSION),
  // 14:55 a shadow copy on the DC; 15:10 the Security log cleared (wevtutil, then its 1102 record)
  sec4688(
    at('14:55:00', 0),
    THIEF,
    'C:\\Windows\\System32\\vssadmin.exe',
    'vssadmin create shadow /for=C:',
    CMD,
    DC_WINRS_SESSION,
  ),
  sec4688(
    at('15:10:00', 0),
    THIEF,
    'C:\\Windows\\System32\\wevtutil.exe',
    'wevtutil cl Security',
    CMD,
    DC_WINRS_SESSION,
  ),
  logCleared(at('15:10:01', 0)),
];

// ---- a week of ordinary work: the baseline the intrusion stands out against --------------------
// Security sign-ins (4624), logoffs (4634) and process starts (4688) of every host from
// 2023-05-09 to the day of the intrusion: three users at their workstations who also reach the DC
// and the file server, one who works on the file server over RDP every day, and svc-fortinet's
// own routine (the Fortinet appliance at 10.0.1.5 binding to the DC four times a day). The
// intrusion's lateral network logon on WS07 (wmiexec from FS02) is here too, in WS07's log.
const HOSTS = {
  WS03: { fqdn: 'WS03.contoso.local', ip: '10.0.5.31' },
  WS07: { fqdn: WS, ip: '10.0.5.23' },
  WS11: { fqdn: 'WS11.contoso.local', ip: '10.0.5.42' },
  WS15: { fqdn: 'WS15.contoso.local', ip: '10.0.5.55' },
  FS02: { fqdn: FS, ip: '10.0.5.21' },
  DC01: { fqdn: DC, ip: '10.0.5.10' },
};
const USERS = [
  { account: ADMIN, desk: 'WS07', sid: SIDS[ADMIN] },
  { account: 'CONTOSO\\asmith', desk: 'WS03', sid: 'S-1-5-21-1004336348-1177238915-682003330-1112' },
  { account: 'CONTOSO\\bkumar', desk: 'WS11', sid: 'S-1-5-21-1004336348-1177238915-682003330-1117' },
];
const RDP_USER = {
  account: 'CONTOSO\\mlopez',
  desk: 'WS15',
  sid: 'S-1-5-21-1004336348-1177238915-682003330-1121',
};
SIDS[RDP_USER.account] = RDP_USER.sid;
for (const u of USERS) SIDS[u.account] = u.sid;
const FORTIGATE_IP = '10.0.1.5';
const WORK = {
  [ADMIN]: [
    ['C:\\Windows\\System32\\mmc.exe', '"C:\\Windows\\system32\\mmc.exe" "C:\\Windows\\system32\\dsa.msc"'],
    [
      'C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE',
      '"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE"',
    ],
  ],
  'CONTOSO\\asmith': [
    [
      'C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE',
      '"C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE" "\\\\FS02\\finance\\budget-q2.xlsx"',
    ],
  ],
  'CONTOSO\\bkumar': [
    [
      'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
      '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --profile-directory=Default',
    ],
  ],
};
/** The logon ids the scenario's own events name; others are numbered per host. */
const FIXED_SESSIONS = {
  [`WS07|${ADMIN}|2023-05-16`]: '0x3e1f0a',
};
const nextLogonId = {
  WS03: 0x2a000,
  WS07: 0x2b000,
  WS11: 0x2c000,
  WS15: 0x2d000,
  FS02: 0x2e000,
  DC01: 0x2f000,
};
function logonIdOn(host, key) {
  if (FIXED_SESSIONS[key]) return FIXED_SESSIONS[key];
  nextLogonId[host] += 0x1a3;
  return hex(nextLogonId[host]);
}
function sec4634(time, computer, user, logonType, logonId) {
  return evtx(
    { ...SEC, eventId: 4634, task: 12545, time, computer, keywords: '0x8020000000000000' },
    {
      TargetUserSid: SIDS[user],
      TargetUserName: user.split('\\')[1],
      TargetDomainName: user.split('\\')[0],
      TargetLogonId: logonId,
      LogonType: logonType,
    },
  );
}
let hostPid = 0x2000;
function secProcess(time, computer, user, logonId, image, commandLine) {
  hostPid += 0x1c;
  return evtx(
    { ...SEC, eventId: 4688, version: 2, task: 13312, time, computer, keywords: '0x8020000000000000' },
    {
      SubjectUserSid: SIDS[user],
      SubjectUserName: user.split('\\')[1],
      SubjectDomainName: user.split('\\')[0],
      SubjectLogonId: logonId,
      NewProcessId: hex(hostPid),
      NewProcessName: image,
      TokenElevationType: '%%1938',
      ProcessId: hex(0x1d0c),
      CommandLine: commandLine,
      TargetUserSid: 'S-1-0-0',
      TargetUserName: '-',
      TargetDomainName: '-',
      TargetLogonId: '0x0',
      ParentProcessName: EXPLORER,
      MandatoryLabel: 'S-1-16-8192',
    },
  );
}
const when = (day, hms) => `2023-05-${String(day).padStart(2, '0')}T${hms}.0000000Z`;
const week = [];
/** A network logon and its logoff a few seconds later (file shares, LDAP, Group Policy). */
function networkVisit(day, hms, host, user, from) {
  const id = logonIdOn(host, '');
  const [h, m, sec] = hms.split(':').map(Number);
  const end = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(Math.min(59, sec + 4)).padStart(2, '0')}`;
  week.push(sec4624(when(day, hms), HOSTS[host].fqdn, user, 3, HOSTS[from]?.ip ?? from, from, id));
  week.push(sec4634(when(day, end), HOSTS[host].fqdn, user, 3, id));
}
for (let day = 9; day <= 16; day++) {
  const weekend = day === 13 || day === 14;
  const date = `2023-05-${day}`;
  for (const [hour, min] of [
    [2, 0],
    [8, 0],
    [14, 0],
    [20, 0],
  ])
    networkVisit(
      day,
      `${String(hour).padStart(2, '0')}:${String(min).padStart(2, '0')}:07`,
      'DC01',
      THIEF,
      FORTIGATE_IP,
    );
  if (weekend) continue;
  USERS.forEach((u, i) => {
    const host = u.desk;
    const id = logonIdOn(host, `${host}|${u.account}|${date}`);
    const start = `08:${String(21 + 4 * i).padStart(2, '0')}:1${i}`;
    week.push(sec4624(when(day, start), HOSTS[host].fqdn, u.account, 2, '127.0.0.1', host, id));
    networkVisit(day, `08:${String(22 + 4 * i).padStart(2, '0')}:3${i}`, 'DC01', u.account, host);
    networkVisit(day, `09:${String(10 + 7 * i).padStart(2, '0')}:0${i}`, 'FS02', u.account, host);
    WORK[u.account].forEach(([image, cmd], k) => {
      week.push(
        secProcess(
          when(day, `09:${String(30 + 5 * k + i).padStart(2, '0')}:00`),
          HOSTS[host].fqdn,
          u.account,
          id,
          image,
          cmd,
        ),
      );
    });
    networkVisit(day, `15:${String(5 + 6 * i).padStart(2, '0')}:4${i}`, 'FS02', u.account, host);
    week.push(
      sec4634(when(day, `17:${String(32 + 3 * i).padStart(2, '0')}:00`), HOSTS[host].fqdn, u.account, 2, id),
    );
  });
  // mlopez works on the file server over RDP; on the 16th the session is still open at the dump.
  const rdp = logonIdOn('FS02', '');
  week.push(sec4624(when(day, '11:02:15'), FS, RDP_USER.account, 10, HOSTS.WS15.ip, 'WS15', rdp));
  week.push(sec4634(when(day, day === 16 ? '16:31:00' : '11:47:30'), FS, RDP_USER.account, 10, rdp));
}
// 14:49:58 on the 16th: wmiexec from FS02 signs in to WS07 over the network as svc-fortinet.
week.push(sec4624(at('14:49:58', 0), WS, THIEF, 3, HOSTS.FS02.ip, 'FS02', '0x7b2c1'));
week.push(sec4634(at('14:50:31', 0), WS, THIEF, 3, '0x7b2c1'));
week.sort((a, b) =>
  a.Event.System.TimeCreated['#attributes'].SystemTime < b.Event.System.TimeCreated['#attributes'].SystemTime
    ? -1
    : 1,
);

// Each host's logs number their records one by one in the order they were written: every file in
// time order, and numbers per host and channel across the files (lotl reports gaps in them).
const timeOf = (e) => e.Event.System.TimeCreated['#attributes'].SystemTime;
for (const rows of [sysmon, security, week])
  rows.sort((a, b) => (timeOf(a) < timeOf(b) ? -1 : timeOf(a) > timeOf(b) ? 1 : 0));
const nextRecord = new Map();
for (const e of [...sysmon, ...security, ...week].sort((a, b) =>
  timeOf(a) < timeOf(b) ? -1 : timeOf(a) > timeOf(b) ? 1 : 0,
)) {
  const stream = `${e.Event.System.Computer}|${e.Event.System.Channel}`;
  const n = nextRecord.get(stream) ?? 20_001; // the logs were there before the week began
  e.Event.System.EventRecordID = n;
  nextRecord.set(stream, n + 1);
}

const jsonl = (rows) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
writeFileSync(path.join(out, 'sysmon-fs02-ws07.jsonl'), jsonl(sysmon));
writeFileSync(path.join(out, 'security-application-dc01.jsonl'), jsonl(security));
writeFileSync(path.join(out, 'security-week.jsonl'), jsonl(week));

// ---- Defender Advanced Hunting export (JSON arrays, one file per table) ------------------------
const dev = { DeviceId: 'b1e3f0c29a7d4e26a1c5f3d8e0b2a4c6', DeviceName: 'fs02.contoso.local' };
const initiator = {
  InitiatingProcessAccountDomain: 'contoso',
  InitiatingProcessAccountName: 'svc-fortinet',
  InitiatingProcessFileName: 'cmd.exe',
  InitiatingProcessFolderPath: 'c:\\windows\\system32\\cmd.exe',
  InitiatingProcessCommandLine: 'cmd.exe',
  InitiatingProcessId: 7712,
};
const processRows = [
  {
    Timestamp: at('13:50:12', 0),
    ...dev,
    ActionType: 'ProcessCreated',
    FileName: 'WMIC.exe',
    FolderPath: 'c:\\windows\\system32\\wbem\\wmic.exe',
    SHA256: '1c4d1e3f2a5b6c7d8e9f00112233445566778899aabbccddeeff001122334455',
    ProcessId: 7730,
    ProcessCommandLine:
      'wmic process call create "cmd.exe /c netsh interface portproxy add v4tov4 listenport=50100 listenaddress=0.0.0.0 connectport=1433 connectaddress=10.0.5.10"',
    AccountDomain: 'contoso',
    AccountName: 'svc-fortinet',
    ProcessVersionInfoOriginalFileName: 'wmic.exe',
    ProcessIntegrityLevel: 'High',
    ReportId: 501,
    ...initiator,
  },
  {
    Timestamp: at('14:12:40', 0),
    ...dev,
    ActionType: 'ProcessCreated',
    FileName: '7z.exe',
    FolderPath: 'c:\\users\\public\\7z.exe',
    SHA256: '2d5e2f4031426374859607a8b9cadbecfd0e1f2031425364758697a8b9cadbec',
    ProcessId: 7801,
    ProcessCommandLine:
      'C:\\Users\\Public\\7z.exe a -p"Pa55w0rd!" -mhe=on C:\\Users\\Public\\Music\\rar.7z \\\\DC01\\C$\\Windows\\Temp\\Pro\\*',
    AccountDomain: 'contoso',
    AccountName: 'svc-fortinet',
    ProcessVersionInfoOriginalFileName: '7z.exe',
    ProcessIntegrityLevel: 'High',
    ReportId: 502,
    ...initiator,
  },
  {
    Timestamp: at('16:01:00', 0),
    ...dev,
    ActionType: 'ProcessCreated',
    FileName: 'svchost.exe',
    FolderPath: 'c:\\windows\\system32\\svchost.exe',
    SHA256: '643ec58e82e0272c97c2a59f6020970d881af19c0ad5029db9c958c13b6558c7',
    ProcessId: 900,
    ProcessCommandLine: 'svchost.exe -k netsvcs -p -s Schedule',
    AccountDomain: 'nt authority',
    AccountName: 'system',
    ProcessVersionInfoOriginalFileName: 'svchost.exe',
    ProcessIntegrityLevel: 'System',
    ReportId: 503,
    InitiatingProcessAccountDomain: 'nt authority',
    InitiatingProcessAccountName: 'system',
    InitiatingProcessFileName: 'services.exe',
    InitiatingProcessFolderPath: 'c:\\windows\\system32\\services.exe',
    InitiatingProcessCommandLine: 'services.exe',
    InitiatingProcessId: 640,
  },
];
const logonRows = [
  {
    Timestamp: at('08:58:31', 0),
    ...dev,
    ActionType: 'LogonSuccess',
    AccountDomain: 'contoso',
    AccountName: 'jdoe',
    LogonType: 'Network',
    RemoteIP: '10.0.5.23',
    RemoteIPType: 'Private',
    RemotePort: 51002,
    Protocol: 'Kerberos',
    ReportId: 601,
  },
  {
    Timestamp: at('13:05:12', 0),
    ...dev,
    ActionType: 'LogonSuccess',
    AccountDomain: 'contoso',
    AccountName: 'svc-fortinet',
    LogonType: 'RemoteInteractive',
    RemoteIP: SOHO_IP,
    RemoteIPType: 'Public',
    RemotePort: 51234,
    Protocol: 'NTLM',
    LogonId: 0x5a1e7, // the session the Sysmon events on FS02 name
    ReportId: 602,
  },
  {
    Timestamp: at('13:04:58', 0),
    ...dev,
    ActionType: 'LogonFailed',
    AccountDomain: 'contoso',
    AccountName: 'svc-fortinet',
    LogonType: 'RemoteInteractive',
    RemoteIP: SOHO_IP,
    RemoteIPType: 'Public',
    RemotePort: 51230,
    Protocol: 'NTLM',
    FailureReason: 'InvalidUserNameOrPassword',
    ReportId: 603,
  },
];
const fileRows = [
  {
    Timestamp: at('13:40:10', 0),
    ...dev,
    ActionType: 'FileCreated',
    FileName: 'svchost.exe',
    FolderPath: 'C:\\Users\\Public\\Videos\\svchost.exe',
    SHA1: FRP_SHA1,
    SHA256: FRP_SHA256,
    MD5: FRP_MD5,
    FileSize: 11862528,
    ReportId: 701,
    ...initiator,
  },
  {
    Timestamp: at('13:20:04', 0),
    ...dev,
    ActionType: 'FileCreated',
    FileName: 'lsass.dmp',
    FolderPath: 'C:\\Windows\\Temp\\lsass.dmp',
    FileSize: 48234496,
    ReportId: 702,
    ...initiator,
    InitiatingProcessFileName: 'rundll32.exe',
    InitiatingProcessFolderPath: 'c:\\windows\\system32\\rundll32.exe',
    InitiatingProcessCommandLine:
      'rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 652 C:\\Windows\\Temp\\lsass.dmp full',
  },
];
const pretty = (rows) => `${JSON.stringify(rows, null, 2)}\n`;
writeFileSync(path.join(out, 'defender', 'DeviceProcessEvents.json'), pretty(processRows));
writeFileSync(path.join(out, 'defender', 'DeviceLogonEvents.json'), pretty(logonRows));
writeFileSync(path.join(out, 'defender', 'DeviceFileEvents.json'), pretty(fileRows));

// ---- a CSV as the Defender portal exports it (another host's process events) ----------------------
const csvCols = [
  'Timestamp',
  'DeviceName',
  'ActionType',
  'FileName',
  'FolderPath',
  'ProcessCommandLine',
  'AccountDomain',
  'AccountName',
  'InitiatingProcessFileName',
  'InitiatingProcessCommandLine',
  'SHA256',
];
const csvRows = [
  [
    at('13:12:05', 0),
    'ws07.contoso.local',
    'ProcessCreated',
    'powershell.exe',
    'c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe',
    'powershell.exe -c "Get-WmiObject -Class Win32_ComputerSystem | Select Manufacturer,Model"',
    'contoso',
    'svc-fortinet',
    'cmd.exe',
    'cmd.exe',
    '',
  ],
  [
    at('13:12:40', 0),
    'ws07.contoso.local',
    'ProcessCreated',
    'PING.EXE',
    'c:\\windows\\system32\\ping.exe',
    'ping -n 1 10.0.5.21',
    'contoso',
    'svc-fortinet',
    'cmd.exe',
    'cmd.exe',
    '',
  ],
  [
    at('13:13:10', 0),
    'ws07.contoso.local',
    'ProcessCreated',
    'wevtutil.exe',
    'c:\\windows\\system32\\wevtutil.exe',
    'wevtutil qe Security /rd:true /f:text /q:"*[System[(EventID=4624)]]"',
    'contoso',
    'svc-fortinet',
    'cmd.exe',
    'cmd.exe',
    '',
  ],
  [
    at('15:20:00', 0),
    'ws07.contoso.local',
    'ProcessCreated',
    'OneDrive.exe',
    'c:\\users\\jdoe\\appdata\\local\\microsoft\\onedrive\\onedrive.exe',
    '"C:\\Users\\jdoe\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe" /background',
    'contoso',
    'jdoe',
    'explorer.exe',
    'C:\\Windows\\Explorer.EXE',
    '',
  ],
];
const csvCell = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
writeFileSync(
  path.join(out, 'defender-portal-export.csv'),
  `${[csvCols, ...csvRows].map((r) => r.map(csvCell).join(',')).join('\r\n')}\r\n`,
);
console.log(`examples written to ${out}`);
