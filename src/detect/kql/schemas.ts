/**
 * The tables KQL hunting queries are written against (Microsoft Defender Advanced Hunting and
 * Sentinel), with their documented columns and types. lotl fills them from every source that
 * carries the data (a Sysmon 1 event is a DeviceProcessEvents row); queries are bound against
 * these schemas. Every table has both `Timestamp` (Defender) and `TimeGenerated` (Sentinel).
 */

export type KqlType =
  | 'string'
  | 'long'
  | 'int'
  | 'real'
  | 'bool'
  | 'datetime'
  | 'timespan'
  | 'dynamic'
  | 'guid';

export interface TableSchema {
  name: string;
  columns: [string, KqlType][];
}

const cols = (spec: string): [string, KqlType][] =>
  spec
    .trim()
    .split(/\s*,\s*/)
    .map((c) => {
      const [name, type] = c.split(':');
      return [name, type as KqlType];
    });

const TIME = 'Timestamp:datetime, TimeGenerated:datetime';
const DEVICE = 'DeviceId:string, DeviceName:string, ReportId:long';
const FILE_HASHES = 'SHA1:string, SHA256:string, MD5:string';
const INITIATING = `InitiatingProcessAccountDomain:string, InitiatingProcessAccountName:string,
  InitiatingProcessAccountSid:string, InitiatingProcessAccountUpn:string, InitiatingProcessAccountObjectId:string,
  InitiatingProcessMD5:string, InitiatingProcessSHA1:string, InitiatingProcessSHA256:string,
  InitiatingProcessFileName:string, InitiatingProcessFileSize:long, InitiatingProcessFolderPath:string,
  InitiatingProcessId:long, InitiatingProcessCommandLine:string, InitiatingProcessCreationTime:datetime,
  InitiatingProcessIntegrityLevel:string, InitiatingProcessTokenElevation:string, InitiatingProcessLogonId:long,
  InitiatingProcessParentId:long, InitiatingProcessParentFileName:string, InitiatingProcessParentCreationTime:datetime,
  InitiatingProcessVersionInfoCompanyName:string, InitiatingProcessVersionInfoProductName:string,
  InitiatingProcessVersionInfoProductVersion:string, InitiatingProcessVersionInfoInternalFileName:string,
  InitiatingProcessVersionInfoOriginalFileName:string, InitiatingProcessVersionInfoFileDescription:string,
  InitiatingProcessSignerType:string, InitiatingProcessSignatureStatus:string,
  InitiatingProcessRemoteSessionDeviceName:string, InitiatingProcessRemoteSessionIP:string`;
/** Columns every Log Analytics (Sentinel) table has. */
const SENTINEL =
  'TenantId:string, SourceSystem:string, Type:string, _ResourceId:string, _SubscriptionId:string';
const ACCOUNT =
  'AccountDomain:string, AccountName:string, AccountSid:string, AccountUpn:string, AccountObjectId:string';

export const TABLES: TableSchema[] = [
  {
    name: 'DeviceProcessEvents',
    columns: cols(`${TIME}, ${DEVICE}, ActionType:string, FileName:string, FolderPath:string, ${FILE_HASHES},
      FileSize:long, ProcessVersionInfoCompanyName:string, ProcessVersionInfoProductName:string,
      ProcessVersionInfoProductVersion:string, ProcessVersionInfoInternalFileName:string,
      ProcessVersionInfoOriginalFileName:string, ProcessVersionInfoFileDescription:string, ProcessId:long,
      ProcessCommandLine:string, ProcessIntegrityLevel:string, ProcessTokenElevation:string,
      ProcessCreationTime:datetime, ProcessCurrentWorkingDirectory:string, ${ACCOUNT}, LogonId:long,
      ProcessRemoteSessionDeviceName:string, ProcessRemoteSessionIP:string, ${INITIATING},
      AppGuardContainerId:string, AdditionalFields:dynamic`),
  },
  {
    name: 'DeviceNetworkEvents',
    columns: cols(`${TIME}, ${DEVICE}, ActionType:string, RemoteIP:string, RemotePort:int, RemoteUrl:string,
      LocalIP:string, LocalPort:int, Protocol:string, LocalIPType:string, RemoteIPType:string, ${INITIATING},
      AppGuardContainerId:string, AdditionalFields:dynamic`),
  },
  {
    name: 'DeviceFileEvents',
    columns: cols(`${TIME}, ${DEVICE}, ActionType:string, FileName:string, FolderPath:string, ${FILE_HASHES},
      FileOriginUrl:string, FileOriginReferrerUrl:string, FileOriginIP:string, PreviousFolderPath:string,
      PreviousFileName:string, FileSize:long, ${INITIATING}, RequestProtocol:string, ShareName:string,
      RequestSourceIP:string, RequestSourcePort:int, RequestAccountName:string, RequestAccountDomain:string,
      RequestAccountSid:string, SensitivityLabel:string, SensitivitySubLabel:string, IsAzureInfoProtectionApplied:bool,
      AppGuardContainerId:string, AdditionalFields:dynamic`),
  },
  {
    name: 'DeviceRegistryEvents',
    columns: cols(`${TIME}, ${DEVICE}, ActionType:string, RegistryKey:string, RegistryValueType:string,
      RegistryValueName:string, RegistryValueData:string, PreviousRegistryKey:string, PreviousRegistryValueName:string,
      PreviousRegistryValueData:string, ${INITIATING}, AppGuardContainerId:string`),
  },
  {
    name: 'DeviceLogonEvents',
    columns:
      cols(`${TIME}, ${DEVICE}, ActionType:string, LogonType:string, AccountDomain:string, AccountName:string,
      AccountSid:string, Protocol:string, FailureReason:string, IsLocalAdmin:bool, LogonId:long, RemoteDeviceName:string,
      RemoteIP:string, RemoteIPType:string, RemotePort:int, ${INITIATING}, AppGuardContainerId:string,
      AdditionalFields:dynamic`),
  },
  {
    name: 'DeviceImageLoadEvents',
    columns: cols(`${TIME}, ${DEVICE}, ActionType:string, FileName:string, FolderPath:string, ${FILE_HASHES},
      FileSize:long, ${INITIATING}, AppGuardContainerId:string`),
  },
  {
    name: 'DeviceEvents',
    columns: cols(`${TIME}, ${DEVICE}, ActionType:string, FileName:string, FolderPath:string, ${FILE_HASHES},
      ${ACCOUNT}, LogonId:long, RemoteUrl:string, RemoteDeviceName:string, ProcessId:long, ProcessCommandLine:string,
      ProcessCreationTime:datetime, ProcessTokenElevation:string, LocalIP:string, LocalPort:int, RemoteIP:string,
      RemotePort:int, RegistryKey:string, RegistryValueName:string, RegistryValueData:string, FileOriginUrl:string,
      FileOriginIP:string, ${INITIATING}, AdditionalFields:dynamic, AppGuardContainerId:string`),
  },
  {
    name: 'DeviceInfo',
    columns:
      cols(`${TIME}, ${DEVICE}, ClientVersion:string, PublicIP:string, OSArchitecture:string, OSPlatform:string,
      OSBuild:long, IsAzureADJoined:bool, JoinType:string, AadDeviceId:string, LoggedOnUsers:dynamic,
      RegistryDeviceTag:string, OSVersion:string, MachineGroup:string, OnboardingStatus:string, DeviceCategory:string,
      DeviceType:string, Model:string, Vendor:string, OSDistribution:string, OSVersionInfo:string,
      ExposureLevel:string, IsInternetFacing:bool, AdditionalFields:dynamic`),
  },
  {
    name: 'AlertEvidence',
    columns: cols(`${TIME}, AlertId:string, Title:string, Categories:string, AttackTechniques:string,
      ServiceSource:string, DetectionSource:string, EntityType:string, EvidenceRole:string, EvidenceDirection:string,
      FileName:string, FolderPath:string, ${FILE_HASHES}, FileSize:long, ThreatFamily:string, RemoteIP:string,
      RemoteUrl:string, AccountName:string, AccountDomain:string, AccountSid:string, AccountObjectId:string,
      AccountUpn:string, DeviceId:string, DeviceName:string, LocalIP:string, NetworkMessageId:string,
      EmailSubject:string, ApplicationId:long, Application:string, OAuthApplicationId:string, ProcessCommandLine:string,
      RegistryKey:string, RegistryValueName:string, RegistryValueData:string, AdditionalFields:string, Severity:string`),
  },
  {
    name: 'AlertInfo',
    columns:
      cols(`${TIME}, AlertId:string, Title:string, Category:string, Severity:string, ServiceSource:string,
      DetectionSource:string, AttackTechniques:string`),
  },
  {
    name: 'IdentityLogonEvents',
    columns:
      cols(`${TIME}, ActionType:string, Application:string, LogonType:string, Protocol:string, FailureReason:string,
      AccountName:string, AccountDomain:string, AccountUpn:string, AccountSid:string, AccountObjectId:string,
      AccountDisplayName:string, DeviceName:string, DeviceType:string, OSPlatform:string, IPAddress:string, Port:int,
      DestinationDeviceName:string, DestinationIPAddress:string, DestinationPort:int, TargetDeviceName:string,
      TargetAccountDisplayName:string, Location:string, ISP:string, ReportId:string, AdditionalFields:dynamic`),
  },
  {
    name: 'SecurityEvent',
    columns:
      cols(`${TIME}, ${SENTINEL}, SourceComputerId:string, ManagementGroupName:string, EventOriginId:string,
      Computer:string, EventSourceName:string,
      Channel:string, Task:int, Level:string, EventData:string, EventID:int, Activity:string, Account:string,
      AccountType:string, AccountName:string, AccountDomain:string, SubjectAccount:string, SubjectUserName:string,
      SubjectDomainName:string, SubjectUserSid:string, SubjectLogonId:string, TargetAccount:string,
      TargetUserName:string, TargetDomainName:string, TargetUserSid:string, TargetLogonId:string, LogonType:int,
      LogonTypeName:string, LogonProcessName:string, AuthenticationPackageName:string, WorkstationName:string,
      IpAddress:string, IpPort:string, Process:string, ProcessId:string, ProcessName:string, NewProcessId:string,
      NewProcessName:string, CommandLine:string, ParentProcessName:string, TokenElevationType:string,
      MandatoryLabel:string, ObjectName:string, ObjectType:string, ObjectServer:string, AccessMask:string,
      AccessList:string, ShareName:string, ShareLocalPath:string, RelativeTargetName:string, ServiceName:string,
      ServiceFileName:string, ServiceType:string, ServiceStartType:string, Status:string, SubStatus:string,
      PrivilegeList:string`),
  },
  {
    name: 'WindowsEvent',
    columns:
      cols(`${TIME}, ${SENTINEL}, Computer:string, EventOriginId:string, Provider:string, Channel:string,
      EventID:int, EventLevel:int, EventLevelName:string, Task:int, Data:dynamic, EventData:dynamic`),
  },
  {
    name: 'SigninLogs',
    columns: cols(`${TIME}, ${SENTINEL}, OperationName:string, Category:string, ResultType:string,
      ResultDescription:string, Identity:string, UserPrincipalName:string, UserDisplayName:string, UserId:string,
      AppDisplayName:string, AppId:string, ClientAppUsed:string, IPAddress:string, Location:string,
      LocationDetails:dynamic, DeviceDetail:dynamic, Status:dynamic, ConditionalAccessStatus:string,
      AuthenticationRequirement:string, RiskLevelDuringSignIn:string, RiskState:string, UserAgent:string,
      IsInteractive:bool`),
  },
];
