/** Sysmon (Microsoft-Windows-Sysmon/Operational). Field names are already Sigma's taxonomy. */
import { type FieldSource, type ProfileLogSource, type SourceProfile, same } from '../profile.js';
import { commandLineDerived } from './derived.js';

const PROVIDERS = ['Microsoft-Windows-Sysmon'];
const CHANNELS = ['Microsoft-Windows-Sysmon/Operational'];

function sysmon(
  eventId: number,
  title: string,
  categories: (string | ProfileLogSource)[],
  sigma: Record<string, FieldSource>,
  defender?: SourceProfile['defender'],
): SourceProfile {
  const logsources: ProfileLogSource[] = [{ product: 'windows', service: 'sysmon' }];
  for (const c of categories)
    logsources.push(
      typeof c === 'string' ? { product: 'windows', category: c } : { product: 'windows', ...c },
    );
  return {
    id: `sysmon-${eventId}`,
    title: `Sysmon ${eventId}: ${title}`,
    match: { providers: PROVIDERS, channels: CHANNELS, eventIds: [eventId] },
    logsources,
    sigma,
    ...(defender ? { defender } : {}),
  };
}

const DEVICE: Record<string, FieldSource> = {
  Timestamp: { system: 'time' },
  DeviceName: { system: 'computer' },
};

/** The process that did something, in Defender's InitiatingProcess* columns. */
const INITIATOR: Record<string, FieldSource> = {
  InitiatingProcessFileName: { fields: ['Image'], via: 'basename' },
  InitiatingProcessFolderPath: 'Image',
  InitiatingProcessId: 'ProcessId',
  InitiatingProcessAccountName: { fields: ['User'], via: 'userName' },
  InitiatingProcessAccountDomain: { fields: ['User'], via: 'userDomain' },
};

const FILE_HASHES: Record<string, FieldSource> = {
  SHA256: { fields: ['Hashes'], via: 'sha256' },
  SHA1: { fields: ['Hashes'], via: 'sha1' },
  MD5: { fields: ['Hashes'], via: 'md5' },
};

export const SYSMON_PROFILES: SourceProfile[] = [
  sysmon(
    1,
    'process creation',
    ['process_creation'],
    {
      ...commandLineDerived('CommandLine'),
      ...same(
        'Image',
        'CommandLine',
        'ParentImage',
        'ParentCommandLine',
        'User',
        'ParentUser',
        'OriginalFileName',
        'Product',
        'Company',
        'Description',
        'FileVersion',
        'Hashes',
        'IntegrityLevel',
        'ProcessId',
        'ParentProcessId',
        'ProcessGuid',
        'ParentProcessGuid',
        'CurrentDirectory',
        'LogonId',
        'LogonGuid',
        'TerminalSessionId',
      ),
    },
    {
      table: 'DeviceProcessEvents',
      columns: {
        ...DEVICE,
        ActionType: { const: 'ProcessCreated' },
        FileName: { fields: ['Image'], via: 'basename' },
        FolderPath: 'Image',
        ProcessCommandLine: 'CommandLine',
        ProcessId: 'ProcessId',
        ProcessIntegrityLevel: 'IntegrityLevel',
        ProcessCurrentWorkingDirectory: 'CurrentDirectory',
        AccountName: { fields: ['User'], via: 'userName' },
        AccountDomain: { fields: ['User'], via: 'userDomain' },
        LogonId: 'LogonId',
        ...FILE_HASHES,
        ProcessVersionInfoOriginalFileName: 'OriginalFileName',
        ProcessVersionInfoCompanyName: 'Company',
        ProcessVersionInfoProductName: 'Product',
        ProcessVersionInfoFileDescription: 'Description',
        InitiatingProcessFileName: { fields: ['ParentImage'], via: 'basename' },
        InitiatingProcessFolderPath: 'ParentImage',
        InitiatingProcessCommandLine: 'ParentCommandLine',
        InitiatingProcessId: 'ParentProcessId',
        InitiatingProcessAccountName: { fields: ['ParentUser'], via: 'userName' },
        InitiatingProcessAccountDomain: { fields: ['ParentUser'], via: 'userDomain' },
      },
    },
  ),
  sysmon(
    3,
    'network connection',
    ['network_connection'],
    same(
      'Image',
      'User',
      'Protocol',
      'Initiated',
      'SourceIsIpv6',
      'SourceIp',
      'SourceHostname',
      'SourcePort',
      'SourcePortName',
      'DestinationIsIpv6',
      'DestinationIp',
      'DestinationHostname',
      'DestinationPort',
      'DestinationPortName',
      'ProcessId',
      'ProcessGuid',
    ),
    {
      table: 'DeviceNetworkEvents',
      columns: {
        ...DEVICE,
        ...INITIATOR,
        ActionType: { const: 'ConnectionSuccess' },
        RemoteIP: 'DestinationIp',
        RemotePort: 'DestinationPort',
        RemoteUrl: 'DestinationHostname',
        LocalIP: 'SourceIp',
        LocalPort: 'SourcePort',
        Protocol: 'Protocol',
      },
    },
  ),
  sysmon(5, 'process terminated', ['process_termination'], same('Image', 'ProcessId', 'ProcessGuid', 'User')),
  sysmon(
    7,
    'image loaded',
    ['image_load'],
    same(
      'Image',
      'ImageLoaded',
      'FileVersion',
      'Description',
      'Product',
      'Company',
      'OriginalFileName',
      'Hashes',
      'Signed',
      'Signature',
      'SignatureStatus',
      'User',
      'ProcessId',
      'ProcessGuid',
    ),
    {
      table: 'DeviceImageLoadEvents',
      columns: {
        ...DEVICE,
        ...INITIATOR,
        ActionType: { const: 'ImageLoaded' },
        FileName: { fields: ['ImageLoaded'], via: 'basename' },
        FolderPath: 'ImageLoaded',
        ...FILE_HASHES,
      },
    },
  ),
  sysmon(
    8,
    'remote thread created',
    ['create_remote_thread'],
    same(
      'SourceImage',
      'TargetImage',
      'SourceProcessId',
      'TargetProcessId',
      'SourceProcessGuid',
      'TargetProcessGuid',
      'NewThreadId',
      'StartAddress',
      'StartModule',
      'StartFunction',
      'SourceUser',
      'TargetUser',
    ),
    {
      table: 'DeviceEvents',
      columns: {
        ...DEVICE,
        ActionType: { const: 'CreateRemoteThreadApiCall' },
        InitiatingProcessFileName: { fields: ['SourceImage'], via: 'basename' },
        InitiatingProcessFolderPath: 'SourceImage',
        InitiatingProcessId: 'SourceProcessId',
        FileName: { fields: ['TargetImage'], via: 'basename' },
        FolderPath: 'TargetImage',
        ProcessId: 'TargetProcessId',
      },
    },
  ),
  sysmon(
    10,
    'process accessed',
    ['process_access'],
    same(
      'SourceImage',
      'TargetImage',
      'SourceProcessId',
      'TargetProcessId',
      'SourceProcessGUID',
      'TargetProcessGUID',
      'SourceThreadId',
      'GrantedAccess',
      'CallTrace',
      'SourceUser',
      'TargetUser',
    ),
    {
      table: 'DeviceEvents',
      columns: {
        ...DEVICE,
        ActionType: { const: 'OpenProcessApiCall' },
        InitiatingProcessFileName: { fields: ['SourceImage'], via: 'basename' },
        InitiatingProcessFolderPath: 'SourceImage',
        InitiatingProcessId: 'SourceProcessId',
        InitiatingProcessAccountName: { fields: ['SourceUser'], via: 'userName' },
        FileName: { fields: ['TargetImage'], via: 'basename' },
        FolderPath: 'TargetImage',
        ProcessId: 'TargetProcessId',
      },
    },
  ),
  sysmon(
    11,
    'file created',
    ['file_event'],
    same('Image', 'TargetFilename', 'CreationUtcTime', 'User', 'ProcessId', 'ProcessGuid'),
    {
      table: 'DeviceFileEvents',
      columns: {
        ...DEVICE,
        ...INITIATOR,
        ActionType: { const: 'FileCreated' },
        FileName: { fields: ['TargetFilename'], via: 'basename' },
        FolderPath: 'TargetFilename',
      },
    },
  ),
  ...[12, 13, 14].map((id) =>
    sysmon(
      id,
      id === 12
        ? 'registry key created or deleted'
        : id === 13
          ? 'registry value set'
          : 'registry key renamed',
      [
        'registry_event',
        ...(id === 12
          ? [
              { category: 'registry_add', when: { EventType: ['CreateKey'] } },
              { category: 'registry_delete', when: { EventType: ['DeleteKey', 'DeleteValue'] } },
            ]
          : id === 13
            ? ['registry_set']
            : ['registry_rename']),
      ],
      same('EventType', 'Image', 'TargetObject', 'Details', 'NewName', 'User', 'ProcessId', 'ProcessGuid'),
      {
        table: 'DeviceRegistryEvents',
        columns: {
          ...DEVICE,
          ...INITIATOR,
          ActionType: { fields: ['EventType'], via: 'registryAction' },
          RegistryKey: id === 13 ? { fields: ['TargetObject'], via: 'registryKey' } : 'TargetObject',
          ...(id === 13
            ? {
                RegistryValueName: { fields: ['TargetObject'], via: 'registryValueName' },
                RegistryValueData: 'Details',
              }
            : {}),
        },
      },
    ),
  ),
  sysmon(
    15,
    'file stream created',
    ['create_stream_hash'],
    same('Image', 'TargetFilename', 'CreationUtcTime', 'Hash', 'Contents', 'User', 'ProcessId'),
  ),
  sysmon(17, 'pipe created', ['pipe_created'], same('Image', 'PipeName', 'EventType', 'User', 'ProcessId')),
  sysmon(18, 'pipe connected', ['pipe_created'], same('Image', 'PipeName', 'EventType', 'User', 'ProcessId')),
  sysmon(
    22,
    'DNS query',
    ['dns_query'],
    same('Image', 'QueryName', 'QueryStatus', 'QueryResults', 'User', 'ProcessId'),
    {
      table: 'DeviceEvents',
      columns: {
        ...DEVICE,
        ...INITIATOR,
        ActionType: { const: 'DnsQueryResponse' },
        RemoteUrl: 'QueryName',
      },
    },
  ),
  sysmon(
    23,
    'file deleted (archived)',
    ['file_delete'],
    same('Image', 'TargetFilename', 'Hashes', 'IsExecutable', 'Archived', 'User', 'ProcessId'),
    {
      table: 'DeviceFileEvents',
      columns: {
        ...DEVICE,
        ...INITIATOR,
        ActionType: { const: 'FileDeleted' },
        FileName: { fields: ['TargetFilename'], via: 'basename' },
        FolderPath: 'TargetFilename',
        ...FILE_HASHES,
      },
    },
  ),
  sysmon(
    25,
    'process tampering',
    ['process_tampering'],
    same('Image', 'Type', 'User', 'ProcessId', 'ProcessGuid'),
  ),
];
