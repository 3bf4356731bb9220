/**
 * Windows built-in logs: Security, System, PowerShell and Application (ESENT). Sigma rules written
 * for `service: security` use these events' own field names, so the Sigma map lists identity
 * entries; Security 4688 and 5156 also serve the `process_creation` and `network_connection`
 * categories, with the renames those categories need (the 4688 quirks are here).
 */
import { type FieldSource, type ProfileLogSource, type SourceProfile, same } from '../profile.js';
import { commandLineDerived } from './derived.js';

const SECURITY = { providers: ['Microsoft-Windows-Security-Auditing'], channels: ['Security'] };
const DEVICE: Record<string, FieldSource> = {
  Timestamp: { system: 'time' },
  DeviceName: { system: 'computer' },
};

function security(
  eventId: number,
  title: string,
  sigma: Record<string, FieldSource>,
  extra: Partial<Pick<SourceProfile, 'defender'>> & { categories?: ProfileLogSource[] } = {},
): SourceProfile {
  return {
    id: `security-${eventId}`,
    title: `Security ${eventId}: ${title}`,
    match: { ...SECURITY, eventIds: [eventId] },
    logsources: [{ product: 'windows', service: 'security' }, ...(extra.categories ?? [])],
    sigma,
    ...(extra.defender ? { defender: extra.defender } : {}),
  };
}

const SUBJECT = same('SubjectUserSid', 'SubjectUserName', 'SubjectDomainName', 'SubjectLogonId');
const TARGET = same('TargetUserSid', 'TargetUserName', 'TargetDomainName');

/** Access lists with both their `%%NNNN` codes and Windows' text for them (message-codes.ts). */
const ACCESS_LIST: FieldSource = { fields: ['AccessList'], via: 'accessList' };

const LOGON_COLUMNS: Record<string, FieldSource> = {
  ...DEVICE,
  ActionType: { fields: ['EventID'], via: 'logonAction' },
  AccountName: 'TargetUserName',
  AccountDomain: 'TargetDomainName',
  AccountSid: 'TargetUserSid',
  LogonType: { fields: ['LogonType'], via: 'logonTypeName' },
  RemoteIP: 'IpAddress',
  RemotePort: 'IpPort',
  RemoteDeviceName: 'WorkstationName',
  LogonId: 'TargetLogonId',
  Protocol: 'AuthenticationPackageName',
  InitiatingProcessFileName: { fields: ['ProcessName'], via: 'basename' },
  InitiatingProcessFolderPath: 'ProcessName',
  InitiatingProcessId: { fields: ['ProcessId'], via: 'hexToInt' },
};

const LOGON_FIELDS = {
  ...SUBJECT,
  ...TARGET,
  ...same(
    'TargetLogonId',
    'LogonType',
    'LogonProcessName',
    'AuthenticationPackageName',
    'WorkstationName',
    'LogonGuid',
    'TransmittedServices',
    'LmPackageName',
    'KeyLength',
    'ProcessId',
    'ProcessName',
    'IpAddress',
    'IpPort',
    'ImpersonationLevel',
    'ElevatedToken',
    'TargetOutboundUserName',
    'TargetOutboundDomainName',
  ),
};

export const SECURITY_PROFILES: SourceProfile[] = [
  // The Security log's own "cleared" event is written by the Eventlog service, not by auditing.
  {
    ...security(
      1102,
      'audit log cleared',
      same('SubjectUserName', 'SubjectDomainName', 'SubjectUserSid', 'SubjectLogonId'),
    ),
    match: { providers: ['Microsoft-Windows-Eventlog'], channels: ['Security'], eventIds: [1102] },
  },
  security(4624, 'successful logon', LOGON_FIELDS, {
    defender: { table: 'DeviceLogonEvents', columns: LOGON_COLUMNS },
  }),
  security(
    4625,
    'failed logon',
    { ...LOGON_FIELDS, ...same('Status', 'SubStatus', 'FailureReason') },
    {
      defender: { table: 'DeviceLogonEvents', columns: LOGON_COLUMNS },
    },
  ),
  security(4634, 'logoff', { ...TARGET, ...same('TargetLogonId', 'LogonType') }),
  security(4648, 'logon with explicit credentials', {
    ...SUBJECT,
    ...same(
      'TargetUserName',
      'TargetDomainName',
      'TargetLogonGuid',
      'TargetServerName',
      'TargetInfo',
      'ProcessId',
      'ProcessName',
      'IpAddress',
      'IpPort',
    ),
  }),
  ...[4656, 4661, 4663].map((id) =>
    security(
      id,
      id === 4656
        ? 'handle to an object requested'
        : id === 4661
          ? 'handle to a directory object requested'
          : 'object access attempted',
      {
        ...SUBJECT,
        ...same(
          'ObjectServer',
          'ObjectType',
          'ObjectName',
          'HandleId',
          'AccessMask',
          'ProcessId',
          'ProcessName',
          'Properties',
          'ResourceAttributes',
        ),
        AccessList: ACCESS_LIST,
      },
    ),
  ),
  security(4657, 'registry value modified', {
    ...SUBJECT,
    ...same(
      'ObjectName',
      'ObjectValueName',
      'HandleId',
      'OperationType',
      'OldValueType',
      'OldValue',
      'NewValueType',
      'NewValue',
      'ProcessId',
      'ProcessName',
    ),
  }),
  security(4672, 'special privileges assigned to new logon', { ...SUBJECT, ...same('PrivilegeList') }),
  security(
    4688,
    'process creation',
    {
      ...SUBJECT,
      ...TARGET,
      ...same(
        'NewProcessId',
        'NewProcessName',
        'TokenElevationType',
        'CommandLine',
        'TargetLogonId',
        'ParentProcessName',
        'MandatoryLabel',
      ),
      // The process_creation taxonomy, as Sysmon 1 names it:
      ...commandLineDerived('CommandLine'),
      Image: 'NewProcessName',
      ParentImage: 'ParentProcessName',
      ProcessId: { fields: ['NewProcessId'], via: 'hexToInt' },
      ParentProcessId: { fields: ['ProcessId'], via: 'hexToInt' },
      User: { fields: ['SubjectDomainName', 'SubjectUserName'], via: 'domainUser' },
      IntegrityLevel: { fields: ['MandatoryLabel'], via: 'integrityLevel' },
      LogonId: 'SubjectLogonId',
    },
    {
      categories: [{ product: 'windows', category: 'process_creation' }],
      defender: {
        table: 'DeviceProcessEvents',
        columns: {
          ...DEVICE,
          ActionType: { const: 'ProcessCreated' },
          FileName: { fields: ['NewProcessName'], via: 'basename' },
          FolderPath: 'NewProcessName',
          ProcessCommandLine: 'CommandLine',
          ProcessId: { fields: ['NewProcessId'], via: 'hexToInt' },
          ProcessIntegrityLevel: { fields: ['MandatoryLabel'], via: 'integrityLevel' },
          AccountName: 'SubjectUserName',
          AccountDomain: 'SubjectDomainName',
          AccountSid: 'SubjectUserSid',
          LogonId: 'SubjectLogonId',
          InitiatingProcessFileName: { fields: ['ParentProcessName'], via: 'basename' },
          InitiatingProcessFolderPath: 'ParentProcessName',
          InitiatingProcessId: { fields: ['ProcessId'], via: 'hexToInt' },
          InitiatingProcessAccountName: 'SubjectUserName',
          InitiatingProcessAccountDomain: 'SubjectDomainName',
        },
      },
    },
  ),
  security(
    4697,
    'service installed',
    {
      ...SUBJECT,
      ...same('ServiceName', 'ServiceFileName', 'ServiceType', 'ServiceStartType', 'ServiceAccount'),
    },
    {
      defender: {
        table: 'DeviceEvents',
        columns: {
          ...DEVICE,
          ActionType: { const: 'ServiceInstalled' },
          FolderPath: 'ServiceFileName',
          AccountName: 'SubjectUserName',
        },
      },
    },
  ),
  security(
    4698,
    'scheduled task created',
    { ...SUBJECT, ...same('TaskName', 'TaskContent') },
    {
      defender: {
        table: 'DeviceEvents',
        columns: { ...DEVICE, ActionType: { const: 'ScheduledTaskCreated' }, AccountName: 'SubjectUserName' },
      },
    },
  ),
  security(4720, 'user account created', {
    ...SUBJECT,
    ...TARGET,
    ...same('SamAccountName', 'DisplayName', 'UserPrincipalName', 'PrivilegeList'),
  }),
  ...[4728, 4732, 4756].map((id) =>
    security(
      id,
      `member added to a ${id === 4728 ? 'global' : id === 4732 ? 'local' : 'universal'} security group`,
      {
        ...SUBJECT,
        ...TARGET,
        ...same('MemberName', 'MemberSid', 'PrivilegeList'),
      },
    ),
  ),
  security(5140, 'network share accessed', {
    ...SUBJECT,
    ...same('ObjectType', 'IpAddress', 'IpPort', 'ShareName', 'ShareLocalPath', 'AccessMask'),
    AccessList: ACCESS_LIST,
  }),
  security(5145, 'network share object checked', {
    ...SUBJECT,
    ...same(
      'ObjectType',
      'IpAddress',
      'IpPort',
      'ShareName',
      'ShareLocalPath',
      'RelativeTargetName',
      'AccessMask',
      'AccessReason',
    ),
    AccessList: ACCESS_LIST,
  }),
  security(
    5156,
    'connection permitted by the Windows Filtering Platform',
    {
      ...same(
        'ProcessID',
        'Application',
        'Direction',
        'SourceAddress',
        'SourcePort',
        'DestAddress',
        'DestPort',
        'Protocol',
        'FilterRTID',
        'LayerName',
        'LayerRTID',
      ),
      // The network_connection taxonomy:
      Image: 'Application',
      ProcessId: 'ProcessID',
      SourceIp: 'SourceAddress',
      DestinationIp: 'DestAddress',
      DestinationPort: 'DestPort',
      Initiated: { fields: ['Direction'], via: 'wfpInitiated' },
    },
    {
      categories: [{ product: 'windows', category: 'network_connection' }],
      defender: {
        table: 'DeviceNetworkEvents',
        columns: {
          ...DEVICE,
          ActionType: { const: 'ConnectionSuccess' },
          RemoteIP: 'DestAddress',
          RemotePort: 'DestPort',
          LocalIP: 'SourceAddress',
          LocalPort: 'SourcePort',
          InitiatingProcessFolderPath: 'Application',
          InitiatingProcessFileName: { fields: ['Application'], via: 'basename' },
          InitiatingProcessId: 'ProcessID',
        },
      },
    },
  ),
];

const SYSTEM_CHANNEL = ['System'];
const SCM = ['Service Control Manager'];

/**
 * Remote Desktop's own logs. 1149 (RemoteConnectionManager): a user authenticated from an address,
 * read as a remote-interactive sign-in where no Security log says so; 21/23/24/25
 * (LocalSessionManager): a desktop session began, ended, was disconnected, reconnected.
 */
const RDP_AUTH = 'Microsoft-Windows-TerminalServices-RemoteConnectionManager';
const RDP_SESSIONS = 'Microsoft-Windows-TerminalServices-LocalSessionManager';
export const TERMINAL_SERVICES_PROFILES: SourceProfile[] = [
  {
    id: 'rdp-1149',
    title: 'Remote Desktop 1149: user authentication succeeded',
    match: { providers: [RDP_AUTH], eventIds: [1149] },
    logsources: [{ product: 'windows', service: 'terminalservices-remoteconnectionmanager' }],
    sigma: same('Param1', 'Param2', 'Param3'),
    defender: {
      table: 'DeviceLogonEvents',
      columns: {
        ...DEVICE,
        ActionType: { const: 'LogonSuccess' },
        AccountName: 'Param1',
        AccountDomain: 'Param2',
        LogonType: { const: 'RemoteInteractive' },
        RemoteIP: 'Param3',
        Protocol: { const: 'RDP' },
      },
    },
  },
  ...[21, 23, 24, 25].map(
    (id): SourceProfile => ({
      id: `rdp-session-${id}`,
      title: `Remote Desktop ${id}: session ${id === 21 ? 'logon' : id === 23 ? 'logoff' : id === 24 ? 'disconnected' : 'reconnected'}`,
      match: { providers: [RDP_SESSIONS], eventIds: [id] },
      logsources: [{ product: 'windows', service: 'terminalservices-localsessionmanager' }],
      sigma: same('User', 'SessionID', 'Address'),
    }),
  ),
];

export const SYSTEM_PROFILES: SourceProfile[] = [
  {
    id: 'system-104',
    title: 'System 104: event log cleared',
    match: { providers: ['Microsoft-Windows-Eventlog'], eventIds: [104] },
    logsources: [{ product: 'windows', service: 'system' }],
    sigma: same('SubjectUserName', 'SubjectDomainName', 'Channel', 'BackupPath'),
  },
  {
    id: 'system-7036',
    title: 'System 7036: service state changed',
    match: { providers: SCM, channels: SYSTEM_CHANNEL, eventIds: [7036] },
    logsources: [{ product: 'windows', service: 'system' }],
    sigma: same('param1', 'param2'),
  },
  {
    id: 'system-7040',
    title: 'System 7040: service start type changed',
    match: { providers: SCM, channels: SYSTEM_CHANNEL, eventIds: [7040] },
    logsources: [{ product: 'windows', service: 'system' }],
    sigma: same('param1', 'param2', 'param3', 'param4'),
  },
  {
    id: 'system-7045',
    title: 'System 7045: service installed',
    match: { providers: SCM, channels: SYSTEM_CHANNEL, eventIds: [7045] },
    logsources: [{ product: 'windows', service: 'system' }],
    sigma: same('ServiceName', 'ImagePath', 'ServiceType', 'StartType', 'AccountName'),
    defender: {
      table: 'DeviceEvents',
      columns: {
        ...DEVICE,
        ActionType: { const: 'ServiceInstalled' },
        FolderPath: 'ImagePath',
        AccountName: 'AccountName',
      },
    },
  },
];

const PS_CLASSIC = { providers: ['PowerShell'], channels: ['Windows PowerShell'] };
const PS_OPERATIONAL = {
  providers: ['Microsoft-Windows-PowerShell'],
  channels: ['Microsoft-Windows-PowerShell/Operational'],
};

export const POWERSHELL_PROFILES: SourceProfile[] = [
  ...(
    [
      [400, 'engine started', 'ps_classic_start'],
      [600, 'provider started', 'ps_classic_provider_start'],
      [800, 'pipeline executed', 'ps_classic_script'],
    ] as const
  ).map(
    ([id, title, category]): SourceProfile => ({
      id: `powershell-${id}`,
      title: `Windows PowerShell ${id}: ${title}`,
      match: { ...PS_CLASSIC, eventIds: [id] },
      logsources: [
        { product: 'windows', service: 'powershell-classic' },
        { product: 'windows', category },
      ],
      // Classic events carry unnamed Data strings (`HostApplication=…` lines); rules search Data.
      sigma: same('Data', 'HostApplication', 'HostName', 'EngineVersion'),
    }),
  ),
  {
    id: 'powershell-4103',
    title: 'PowerShell 4103: module logging',
    match: { ...PS_OPERATIONAL, eventIds: [4103] },
    logsources: [
      { product: 'windows', service: 'powershell' },
      { product: 'windows', category: 'ps_module' },
    ],
    sigma: same('ContextInfo', 'UserData', 'Payload'),
  },
  {
    id: 'powershell-4104',
    title: 'PowerShell 4104: script block logging',
    match: { ...PS_OPERATIONAL, eventIds: [4104] },
    logsources: [
      { product: 'windows', service: 'powershell' },
      { product: 'windows', category: 'ps_script' },
    ],
    sigma: same('MessageNumber', 'MessageTotal', 'ScriptBlockText', 'ScriptBlockId', 'Path'),
  },
];

export const APPLICATION_PROFILES: SourceProfile[] = [216, 325, 326, 327].map(
  (id): SourceProfile => ({
    id: `esent-${id}`,
    title: `ESENT ${id}: ${id === 216 ? 'database location changed' : id === 325 ? 'database created' : id === 326 ? 'database attached' : 'database detached'}`,
    match: { providers: ['ESENT'], channels: ['Application'], eventIds: [id] },
    logsources: [{ product: 'windows', service: 'application' }],
    // The process id links the database copy to the ntdsutil or esentutl that made it.
    sigma: { ...same('Data'), ProcessId: { fields: ['Data'], via: 'esentProcessId' } },
  }),
);
