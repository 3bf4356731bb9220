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
  InitiatingProcessRemoteSessionDeviceName:string, InitiatingProcessRemoteSessionIP:string,
  InitiatingProcessSessionId:long, IsInitiatingProcessRemoteSession:bool, InitiatingProcessUniqueId:long`;
/** Columns every Log Analytics (Sentinel) table has. */
const SENTINEL =
  'TenantId:string, SourceSystem:string, Type:string, _ResourceId:string, _SubscriptionId:string';
/** Columns every table has once in a Log Analytics workspace (Defender tables streamed to Sentinel too). */
const WORKSPACE = `${SENTINEL}, _ItemId:string, _IsBillable:string, _BilledSize:real`;
const ACCOUNT =
  'AccountDomain:string, AccountName:string, AccountSid:string, AccountUpn:string, AccountObjectId:string';

/**
 * The other tables hunting queries name, compactly: `Table: Column Column:t …` where t is l(ong),
 * i(nt), r(eal), b(ool), d(atetime), t(imespan), y (dynamic) or g(uid), string when absent; a `*`
 * after the name marks a Sentinel (Log Analytics) table, which has the standard columns too.
 * Every table gets Timestamp and TimeGenerated. lotl fills them from exports of the same table.
 */
const COMPACT = `
CloudAppEvents: ActionType Application ApplicationId:i AppInstanceId:i AccountObjectId AccountId AccountDisplayName
  AccountType IsAdminOperation:b DeviceType OSPlatform IPAddress IsAnonymousProxy:b CountryCode City ISP UserAgent
  ActivityType ActivityObjects:y ObjectName ObjectType ObjectId ReportId IsExternalUser:b IsImpersonated:b IPTags:y
  IPCategory UserAgentTags:y RawEventData:y AdditionalFields:y LastSeenForUser:y UncommonForUser:y AuditSource
  SessionData:y OAuthAppId
EmailEvents: NetworkMessageId InternetMessageId SenderMailFromAddress SenderFromAddress SenderDisplayName
  SenderObjectId SenderMailFromDomain SenderFromDomain SenderIPv4 SenderIPv6 RecipientEmailAddress RecipientObjectId
  RecipientDomain Subject EmailClusterId:l EmailDirection DeliveryAction DeliveryLocation ThreatTypes ThreatNames
  DetectionMethods ConfidenceLevel BulkComplaintLevel:i EmailAction EmailActionPolicy EmailActionPolicyGuid
  AuthenticationDetails AttachmentCount:i UrlCount:i EmailLanguage Connectors OrgLevelAction OrgLevelPolicy
  UserLevelAction UserLevelPolicy ReportId AdditionalFields LatestDeliveryAction LatestDeliveryLocation
  ExchangeTransportRule DistributionList EmailSize:l ForwardingInformation ThreatClassification
  PhishFilterVerdict MalwareFilterVerdict PhishDetectionMethod MalwareDetectionMethod
EmailAttachmentInfo: NetworkMessageId SenderFromAddress SenderDisplayName SenderObjectId RecipientEmailAddress
  RecipientObjectId FileName FileType SHA256 FileSize:l ThreatTypes ThreatNames DetectionMethods ReportId FileExtension
EmailUrlInfo: NetworkMessageId Url UrlDomain UrlLocation ReportId
EmailPostDeliveryEvents: NetworkMessageId InternetMessageId Action ActionType ActionTrigger ActionResult
  RecipientEmailAddress DeliveryLocation ThreatTypes DetectionMethods ReportId
UrlClickEvents: Url ActionType AccountUpn Workload NetworkMessageId ThreatTypes DetectionMethods IPAddress
  IsClickedThrough:b UrlChain ReportId
IdentityInfo*: AccountName AccountDomain AccountUPN AccountSID AccountObjectId AccountTenantId AccountDisplayName
  GivenName Surname OnPremisesExtensionAttributes OnPremisesDistinguishedName Tags:y AccountCreationTime:d
  InvestigationPriority:i InvestigationPriorityPercentile:i RiskLevel RiskLevelDetails RiskState BlastRadius
  GroupMembership:y AssignedRoles:y Department EmployeeId JobTitle MailAddress AdditionalMailAddresses:y Manager
  StreetAddress City Country State Phone IsAccountEnabled:b DeletedDateTime:d LastSeenDate:d UACFlags:y UserState
  UserStateChangedOn:d UserType ExtensionProperty:y AccountCloudSID IsMFARegistered:b Applications:y
  ServicePrincipals:y CloudSid OnPremSid SipProxyAddress Type CompanyName IsServiceAccount:b
  DistinguishedName EmailAddress CriticalityLevel:i OnPremObjectId UserAccountControl:y SourceProvider
IdentityDirectoryEvents: ActionType Application Protocol AccountName AccountDomain AccountUpn AccountSid
  AccountObjectId AccountDisplayName DeviceName IPAddress Port DestinationDeviceName DestinationIPAddress
  DestinationPort TargetDeviceName TargetAccountUpn TargetAccountDisplayName Location ISP ReportId AdditionalFields:y
IdentityQueryEvents: ActionType Application QueryType QueryTarget Query Protocol AccountName AccountDomain AccountUpn
  AccountSid AccountObjectId AccountDisplayName DeviceName IPAddress Port DestinationDeviceName DestinationIPAddress
  DestinationPort TargetDeviceName TargetAccountUpn TargetAccountDisplayName Location ReportId AdditionalFields:y
AADSignInEventsBeta: Application ApplicationId LogonType ErrorCode:i CorrelationId SessionId AccountDisplayName
  AccountObjectId AccountUpn IsExternalUser:i IsGuestUser:b AlternateSignInName LastPasswordChangeTimestamp:d
  ResourceDisplayName ResourceId ResourceTenantId DeviceName AadDeviceId OSPlatform DeviceTrustType IsManaged:i
  IsCompliant:i AuthenticationProcessingDetails AuthenticationRequirement TokenIssuerType:i RiskLevelAggregated:i
  RiskDetails:i RiskState:i UserAgent ClientAppUsed Browser ConditionalAccessPolicies ConditionalAccessStatus:i
  IPAddress Country State City Latitude Longitude NetworkLocationDetails RequestId ReportId EndpointCall
  RiskEventTypes RiskLevelDuringSignIn:i
AADSpnSignInEventsBeta: Application ApplicationId IsManagedIdentity:b ErrorCode:i CorrelationId ServicePrincipalName
  ServicePrincipalId ResourceDisplayName ResourceId ResourceTenantId IPAddress Country State City Latitude Longitude
  RequestId ReportId
AADUserRiskEvents*: Activity ActivityDateTime:d AdditionalInfo:y CorrelationId DetectedDateTime:d DetectionTimingType
  Id IpAddress LastUpdatedDateTime:d Location:y OperationName RequestId RiskDetail RiskEventType RiskLevel RiskState
  Source TokenIssuerType UserDisplayName UserId UserPrincipalName
AuditLogs*: ResourceId OperationName OperationVersion Category ResultType ResultSignature ResultDescription DurationMs:l
  CorrelationId Resource ResourceGroup ResourceProvider Identity Level Location AdditionalDetails:y Id InitiatedBy:y
  LoggedByService Result ResultReason TargetResources:y AADTenantId ActivityDisplayName ActivityDateTime:d
  AADOperationType
SecurityAlert*: DisplayName AlertName AlertSeverity Description ProviderName VendorName VendorOriginalId SystemAlertId
  ResourceId SourceComputerId AlertType ConfidenceLevel ConfidenceScore:r IsIncident:b StartTime:d EndTime:d
  ProcessingEndTime:d RemediationSteps ExtendedProperties Entities WorkspaceSubscriptionId WorkspaceResourceGroup
  ExtendedLinks ProductName ProductComponentName AlertLink Status CompromisedEntity Tactics Techniques SubTechniques
SecurityIncident*: IncidentName Title Description Severity Status Classification ClassificationComment
  ClassificationReason Owner:y ProviderName ProviderIncidentId FirstActivityTime:d LastActivityTime:d
  FirstModifiedTime:d LastModifiedTime:d CreatedTime:d ClosedTime:d IncidentNumber:i RelatedAnalyticRuleIds:y
  AlertIds:y BookmarkIds:y Comments:y Tasks:y Labels:y IncidentUrl AdditionalData:y ModifiedBy
ThreatIntelligenceIndicator*: Action ActivityGroupNames AdditionalInformation ApplicationId AzureTenantId
  ConfidenceScore:r Description DiamondModel ExternalIndicatorId ExpirationDateTime:d IndicatorId ThreatType Active:b
  KillChainActions:b KillChainC2:b KillChainDelivery:b KillChainExploitation:b KillChainReconnaissance:b
  KillChainWeaponization:b KnownFalsePositives MalwareNames NetworkCidrBlock NetworkDestinationAsn:i
  NetworkDestinationCidrBlock NetworkDestinationIP NetworkDestinationPort:i NetworkIP NetworkPort:i NetworkProtocol:i
  NetworkSourceAsn:i NetworkSourceCidrBlock NetworkSourceIP NetworkSourcePort:i PassiveOnly:b ThreatSeverity:i
  TrafficLightProtocolLevel Url UserAgent EmailEncoding EmailLanguage EmailRecipient EmailSenderAddress
  EmailSenderName EmailSourceDomain EmailSourceIpAddress EmailSubject EmailXMailer FileCompileDateTime:d
  FileCreatedDateTime:d FileHashType FileHashValue FileMutexName FileName FilePacker FilePath FileSize:i FileType
  DomainName Tags IndicatorProvider LastUpdatedDateTime:d
DeviceTvmSoftwareVulnerabilities: DeviceId DeviceName OSPlatform OSVersion OSArchitecture SoftwareVendor SoftwareName
  SoftwareVersion CveId VulnerabilitySeverityLevel RecommendedSecurityUpdate RecommendedSecurityUpdateId CveTags:y
  CveMitigationStatus
DeviceTvmSoftwareVulnerabilitiesKB: CveId CvssScore:r CveSupportability IsExploitAvailable:b VulnerabilitySeverityLevel
  LastModifiedTime:d PublishedDate:d VulnerabilityDescription AffectedSoftware:y EpssScore:r
DeviceTvmSoftwareInventory: DeviceId DeviceName OSPlatform OSVersion OSArchitecture SoftwareVendor SoftwareName
  SoftwareVersion EndOfSupportStatus EndOfSupportDate:d ProductCodeCpe
DeviceTvmSecureConfigurationAssessment: DeviceId DeviceName OSPlatform ConfigurationId ConfigurationCategory
  ConfigurationSubcategory ConfigurationImpact:r IsCompliant:b IsApplicable:b Context:y IsExpectedUserImpact:b
DeviceTvmSecureConfigurationAssessmentKB: ConfigurationId ConfigurationImpact:r ConfigurationName
  ConfigurationDescription RiskDescription ConfigurationCategory ConfigurationSubcategory ConfigurationBenchmarks:y
  Tags:y RemediationOptions
DeviceTvmInfoGathering: LastSeenTime:d DeviceId DeviceName OSPlatform AdditionalFields:y
DeviceTvmInfoGatheringKB: IgId FieldName Description Categories:y DataStructure
DeviceTvmBrowserExtensions: DeviceId BrowserName ExtensionId ExtensionName ExtensionDescription ExtensionVersion
  ExtensionRisk ExtensionVendor IsActivated:b InstallationTime:d
DeviceTvmBrowserExtensionsKB: BrowserName ExtensionId ExtensionName ExtensionRisk ExtensionVendor ExtensionVersion
  PermissionId PermissionName PermissionDescription PermissionRisk IsPermissionRequired:b
DeviceTvmCertificateInfo: DeviceId Thumbprint Path SignatureAlgorithm KeySize:i ExpirationDate:d IssueDate:d
  SubjectType SerialNumber IssuedTo:y IssuedBy:y KeyUsage:y ExtendedKeyUsage:y
DeviceTvmHardwareFirmware: DeviceId DeviceName ComponentType Manufacturer ComponentName ComponentFamily
  ComponentVersion AdditionalFields:y
DeviceNetworkInfo: DeviceId DeviceName MacAddress NetworkAdapterName NetworkAdapterType NetworkAdapterStatus
  TunnelType ConnectedNetworks:y DnsAddresses:y IPv4Dhcp IPv6Dhcp DefaultGateways:y IPAddresses:y ReportId:l
  NetworkAdapterVendor
DeviceFileCertificateInfo: DeviceId DeviceName SHA1 IsSigned:b SignatureType Signer SignerHash Issuer IssuerHash
  CertificateSerialNumber CrlDistributionPointUrls CertificateCreationTime:d CertificateExpirationTime:d
  CertificateCountersignatureTime:d IsTrusted:b IsRootSignerMicrosoft:b ReportId:l
BehaviorAnalytics*: SourceRecordId UserName UserPrincipalName UserDomain UsersInsights:y DevicesInsights:y
  ActivityInsights:y SourceDevice SourceIPAddress SourceIPLocation DestinationDevice DestinationIPAddress
  DestinationIPLocation ActionType ActivityType EventSource EventVendor EventProductVersion InvestigationPriority:i
OfficeActivity*: RecordType Operation OrganizationId UserType UserKey OfficeWorkload ResultStatus OfficeObjectId UserId
  ClientIP Client_IPAddress Site_Url SourceRelativeUrl SourceFileName SourceFileExtension DestinationRelativeUrl
  DestinationFileName DestinationFileExtension UserAgent Item ItemType EventSource OfficeId ExternalAccess:b
  OriginatingServer MailboxGuid MailboxOwnerUPN MailboxOwnerSid MailboxOwnerMasterAccountSid LogonUserSid
  LogonUserDisplayName ClientInfoString ClientMachineName ClientProcessName ClientVersion InternalLogonType:i
  Logon_Type Folder Folders AffectedItems Parameters ModifiedObjectResolvedName ModifiedProperties Members:y
  TargetUserOrGroupName TargetUserOrGroupType OfficeTenantId ElevationTime:d ElevationApprover ElevationRole
  ElevationDuration:i SourceRecordId CrossMailboxOperations:b DestMailboxId DestMailboxOwnerUPN DestFolder
  UserDomain Application Activity SendAsUserSmtp SendOnBehalfOfUserSmtp OperationProperties:y
CommonSecurityLog*: DeviceVendor DeviceProduct DeviceVersion DeviceEventClassID Activity LogSeverity OriginalLogSeverity
  AdditionalExtensions DeviceAction ApplicationProtocol EventCount:i DestinationDnsDomain DestinationServiceName
  DestinationTranslatedAddress DestinationTranslatedPort:i CommunicationDirection DeviceDnsDomain DeviceExternalID
  DeviceFacility DeviceInboundInterface DeviceNtDomain DeviceOutboundInterface DevicePayloadId ProcessName
  DeviceTranslatedAddress DestinationHostName DestinationMACAddress DestinationNTDomain DestinationProcessId:i
  DestinationUserPrivileges DestinationProcessName DestinationPort:i DestinationIP DeviceTimeZone DestinationUserID
  DestinationUserName DeviceAddress DeviceName DeviceMacAddress ProcessID:i EndTime:d ExternalID:i ExtID
  FileCreateTime FileHash FileID FileModificationTime FilePath FilePermission FileType FileName FileSize:i Message
  ReceivedBytes:l Reason RequestURL RequestClientApplication RequestContext RequestCookies RequestMethod ReceiptTime
  SourceHostName SourceMACAddress SourceNTDomain SourceDnsDomain SourceServiceName SourceTranslatedAddress
  SourceTranslatedPort:i SourceProcessId:i SourceUserPrivileges SourceProcessName SourcePort:i SourceIP StartTime:d
  SourceUserID SourceUserName SentBytes:l Protocol SimplifiedDeviceAction Computer IndicatorThreatType
  ThreatSeverity:i ThreatConfidence ThreatDescription MaliciousIP MaliciousIPCountry DeviceCustomString1
  DeviceCustomString1Label DeviceCustomString2 DeviceCustomString2Label DeviceCustomString3 DeviceCustomString3Label
  DeviceCustomString4 DeviceCustomString4Label DeviceCustomString5 DeviceCustomString5Label DeviceCustomString6
  DeviceCustomString6Label DeviceCustomNumber1:i DeviceCustomNumber1Label DeviceCustomNumber2:i
  DeviceCustomNumber2Label DeviceCustomNumber3:i DeviceCustomNumber3Label FlexString1 FlexString1Label FlexString2
  FlexString2Label
Syslog*: Computer EventTime:d Facility HostName SeverityLevel SyslogMessage ProcessID:i HostIP ProcessName MG
  CollectorHostName
Event*: Source EventLog Computer EventLevel:i EventLevelName ParameterXml EventData UserName RenderedDescription MG
  ManagementGroupName EventCategory:i EventID:i AzureDeploymentID Role
DnsEvents*: Computer EventId:i SubType ClientIP Name IPAddresses QueryType Result ResultCode:i Message TaskCategory
  Severity:i MaliciousIP IndicatorThreatType Description RemoteIPCountry RemoteIPLongitude:r RemoteIPLatitude:r
AzureActivity*: CallerIpAddress CategoryValue CorrelationId Authorization Authorization_d:y Claims Claims_d:y Level
  OperationNameValue Properties Properties_d:y Caller EventDataId EventSubmissionTimestamp:d HTTPRequest OperationId
  ResourceGroup ResourceProviderValue ActivityStatusValue ActivitySubstatusValue Hierarchy SubscriptionId
  OperationName ActivityStatus ActivitySubstatus Category ResourceId ResourceProvider Resource
W3CIISLog*: Computer sSiteName sComputerName sIP csMethod csUriStem csUriQuery sPort:i csUserName cIP csVersion
  csUserAgent csCookie csReferer csHost scStatus scSubStatus scWin32Status scBytes:l csBytes:l TimeTaken:l
AWSCloudTrail*: EventVersion EventName EventSource EventTypeName UserIdentityType UserIdentityPrincipalid
  UserIdentityArn UserIdentityAccountId UserIdentityInvokedBy UserIdentityAccessKeyId UserIdentityUserName
  SessionMfaAuthenticated:b SessionCreationDate:d SessionIssuerType SessionIssuerPrincipalId SessionIssuerArn
  SessionIssuerAccountId SessionIssuerUserName SourceIpAddress AWSRegion UserAgent ErrorCode ErrorMessage
  RequestParameters ResponseElements AdditionalEventData RequestId AwsEventId ReadOnly:b ResourceList
  RecipientAccountId ServiceEventDetails SharedEventId VpcEndpointId ManagementEvent:b
AppFileEvents: ActionType Application FileName FolderPath SHA256 FileSize:l AccountObjectId AccountUpn
  AccountDisplayName DeviceName DeviceType OSPlatform IPAddress Location ISP ReportId AdditionalFields:y
DeviceAlertEvents: AlertId Severity Category Title FileName SHA1 RemoteUrl RemoteIP AttackTechniques ReportId Table
  DeviceId DeviceName
GraphAPIAuditEvents: ApiVersion ApplicationId AccountObjectId ClientRequestId EntityType IdentityProvider IpAddress
  Location OperationId RequestDuration:l RequestId RequestMethod RequestUri ResponseStatusCode ResponseSize:l Scopes
  ServicePrincipalId TargetWorkload ReportId
MicrosoftGraphActivityLogs*: AppId ClientAuditEvents:y RequestId OperationId ClientRequestId ApiVersion RequestMethod
  ResponseStatusCode:i IpAddress UserAgent RequestUri DurationMs:i ResponseSizeBytes:i SignInActivityId Roles
  TokenIssuedAt:d AadTenantId IdentityProvider UserId ServicePrincipalId Scopes Location Wids DeviceId
ExposureGraphNodes: NodeId NodeLabel NodeName Categories:y NodeProperties:y EntityIds:y
ExposureGraphEdges: EdgeId EdgeLabel SourceNodeId SourceNodeName SourceNodeLabel SourceNodeCategories:y TargetNodeId
  TargetNodeName TargetNodeLabel TargetNodeCategories:y EdgeProperties:y
`;

const COMPACT_TYPE: Record<string, KqlType> = {
  l: 'long',
  i: 'int',
  r: 'real',
  b: 'bool',
  d: 'datetime',
  t: 'timespan',
  y: 'dynamic',
  g: 'guid',
};

function compactTables(spec: string): TableSchema[] {
  return spec
    .trim()
    .split(/\n(?=\S)/)
    .map((entry) => {
      const [head, body] = entry.split(/:\s/, 2) as [string, string];
      const sentinel = head.endsWith('*');
      const columns: [string, KqlType][] = [...cols(TIME)];
      if (sentinel) columns.push(...cols(SENTINEL));
      for (const word of body.trim().split(/\s+/)) {
        const [name, code] = word.split(':');
        if (!columns.some(([n]) => n === name)) columns.push([name, code ? COMPACT_TYPE[code] : 'string']);
      }
      return { name: head.replace('*', ''), columns };
    });
}

const MORE_TABLES = compactTables(COMPACT);

/** Entra ID sign-ins (interactive and not): the columns both tables share. */
const SIGNIN = `ResourceId:string, OperationName:string, OperationVersion:string, Category:string,
  ResultType:string, ResultSignature:string, ResultDescription:string, DurationMs:long, CorrelationId:string,
  Resource:string, ResourceGroup:string, ResourceProvider:string, Identity:string, Level:string, Location:string,
  AlternateSignInName:string, AppDisplayName:string, AppId:string, AuthenticationContextClassReferences:string,
  AuthenticationDetails:string, AuthenticationMethodsUsed:string, AuthenticationProcessingDetails:string,
  AuthenticationProtocol:string, AuthenticationRequirement:string, AuthenticationRequirementPolicies:string,
  AutonomousSystemNumber:int, ClientAppUsed:string, ConditionalAccessStatus:string, CreatedDateTime:datetime,
  CrossTenantAccessType:string, FlaggedForReview:bool, HomeTenantId:string, Id:string, IPAddress:string,
  IPAddressFromResourceProvider:string, IsInteractive:bool, IsRisky:bool, IsTenantRestricted:bool,
  NetworkLocationDetails:string, OriginalRequestId:string, ProcessingTimeInMilliseconds:string,
  ResourceDisplayName:string, ResourceIdentity:string, ResourceServicePrincipalId:string, ResourceTenantId:string,
  RiskDetail:string, RiskEventTypes:string, RiskEventTypes_V2:string, RiskLevelAggregated:string,
  RiskLevelDuringSignIn:string, RiskState:string, ServicePrincipalId:string, ServicePrincipalName:string,
  SessionId:string, SessionLifetimePolicies:string, SignInIdentifier:string, SignInIdentifierType:string,
  SignInEventTypes:string, TokenIssuerName:string, TokenIssuerType:string, UniqueTokenIdentifier:string,
  UserAgent:string, UserDisplayName:string, UserId:string, UserPrincipalName:string, UserType:string,
  AADTenantId:string, AppOwnerTenantId:string, ResourceOwnerTenantId:string, IncomingTokenType:string`;

const DECLARED: TableSchema[] = [
  {
    name: 'DeviceProcessEvents',
    columns: cols(`${TIME}, ${DEVICE}, ActionType:string, FileName:string, FolderPath:string, ${FILE_HASHES},
      FileSize:long, ProcessVersionInfoCompanyName:string, ProcessVersionInfoProductName:string,
      ProcessVersionInfoProductVersion:string, ProcessVersionInfoInternalFileName:string,
      ProcessVersionInfoOriginalFileName:string, ProcessVersionInfoFileDescription:string, ProcessId:long,
      ProcessCommandLine:string, ProcessIntegrityLevel:string, ProcessTokenElevation:string,
      ProcessCreationTime:datetime, ProcessCurrentWorkingDirectory:string, ${ACCOUNT}, LogonId:long,
      ProcessRemoteSessionDeviceName:string, ProcessRemoteSessionIP:string, CreatedProcessSessionId:long,
      IsProcessRemoteSession:bool, ProcessUniqueId:long, ${INITIATING},
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
      FileOriginIP:string, FileSize:long, ${INITIATING}, AdditionalFields:dynamic, AppGuardContainerId:string`),
  },
  {
    name: 'DeviceInfo',
    columns:
      cols(`${TIME}, ${DEVICE}, ClientVersion:string, PublicIP:string, OSArchitecture:string, OSPlatform:string,
      OSBuild:long, IsAzureADJoined:bool, JoinType:string, AadDeviceId:string, LoggedOnUsers:dynamic,
      RegistryDeviceTag:string, OSVersion:string, MachineGroup:string, OnboardingStatus:string, DeviceCategory:string,
      DeviceType:string, Model:string, Vendor:string, OSDistribution:string, OSVersionInfo:string,
      ExposureLevel:string, IsInternetFacing:bool, AdditionalFields:dynamic, DeviceDynamicTags:dynamic,
      DeviceManualTags:dynamic, MergedDeviceIds:string, MergedToDeviceId:string, HostDeviceId:string,
      DeviceSubtype:string, SensorHealthState:string, ConnectivityType:string, IsExcluded:bool, ExclusionReason:string,
      AssetValue:string, CloudPlatforms:string, AzureResourceId:string, IsTransient:bool, OsBuildRevision:string,
      MitigationStatus:dynamic`),
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
      Computer:string, EventSourceName:string, Channel:string, Task:int, Level:string, EventData:string, EventID:int,
      Activity:string, Account:string, AccountType:string, AccountName:string, AccountDomain:string,
      SubjectAccount:string, SubjectUserName:string, SubjectDomainName:string, SubjectUserSid:string,
      SubjectLogonId:string, SubjectMachineName:string, SubjectMachineSID:string, TargetAccount:string,
      TargetUser:string, TargetUserName:string, TargetDomainName:string, TargetUserSid:string, TargetSid:string,
      TargetLogonId:string, TargetLinkedLogonId:string, TargetLogonGuid:string, TargetServerName:string,
      TargetInfo:string, TargetOutboundUserName:string, TargetOutboundDomainName:string, LogonType:int,
      LogonTypeName:string, LogonProcessName:string, LogonGuid:string, LogonID:string,
      AuthenticationPackageName:string, LmPackageName:string, KeyLength:int, ImpersonationLevel:string,
      ElevatedToken:string, VirtualAccount:string, RestrictedAdminMode:string, WorkstationName:string,
      Workstation:string, IpAddress:string, IpPort:string, RemoteIpAddress:string, RemotePort:string,
      Process:string, ProcessId:string, ProcessName:string, NewProcessId:string, NewProcessName:string,
      CommandLine:string, ParentProcessName:string, TokenElevationType:string, MandatoryLabel:string,
      ObjectName:string, ObjectType:string, ObjectServer:string, ObjectValueName:string, OperationType:string,
      HandleId:string, AccessMask:string, AccessList:string, AccessReason:string, Properties:string,
      AdditionalInfo:string, AdditionalInfo2:string, ShareName:string, ShareLocalPath:string,
      RelativeTargetName:string, ServiceName:string, ServiceFileName:string, ServiceType:string,
      ServiceStartType:int, ServiceAccount:string, Status:string, SubStatus:string, FailureReason:string,
      PrivilegeList:string, MemberName:string, MemberSid:string, SamAccountName:string, DisplayName:string,
      UserPrincipalName:string, HomeDirectory:string, HomePath:string, ScriptPath:string, ProfilePath:string,
      UserWorkstations:string, PasswordLastSet:string, AccountExpires:string, PrimaryGroupId:string,
      AllowedToDelegateTo:string, OldUacValue:string, NewUacValue:string, UserAccountControl:string,
      UserParameters:string, SidHistory:string, LogonHours:string, OldValue:string, OldValueType:string,
      NewValue:string, NewValueType:string, PreviousDate:string, PreviousTime:string, NewDate:string,
      NewTime:string, CallerProcessId:string, CallerProcessName:string, ClientName:string, ClientAddress:string,
      ClientIPAddress:string, DomainName:string, DomainSid:string, GroupMembership:string, FilePath:string,
      FileHash:string, TransmittedServices:string, AuditPolicyChanges:string, SubcategoryGuid:string,
      CategoryId:string, SubcategoryId:string, TemplateContent:string, DeviceId:string, DeviceDescription:string,
      ClassName:string, ErrorCode:int, PackageName:string, SessionName:string, AzureDeploymentID:string`),
  },
  {
    name: 'WindowsEvent',
    columns:
      cols(`${TIME}, ${SENTINEL}, Computer:string, EventOriginId:string, Provider:string, Channel:string,
      EventID:int, EventLevel:int, EventLevelName:string, Task:int, Data:dynamic, EventData:dynamic`),
  },
  {
    name: 'SigninLogs',
    columns: cols(`${TIME}, ${SENTINEL}, ${SIGNIN}, ConditionalAccessPolicies:dynamic, DeviceDetail:dynamic,
      LocationDetails:dynamic, MfaDetail:dynamic, Status:dynamic`),
  },
  {
    name: 'AADNonInteractiveUserSignInLogs',
    columns: cols(`${TIME}, ${SENTINEL}, ${SIGNIN}, ConditionalAccessPolicies:string, DeviceDetail:string,
      LocationDetails:string, MfaDetail:string, Status:string`),
  },
  ...MORE_TABLES,
];

/** The profile columns FileProfile() adds; their values are Microsoft's, so offline they are empty. */
export const FILE_PROFILE_COLUMNS =
  'GlobalPrevalence:long, GlobalFirstSeen:datetime, GlobalLastSeen:datetime, Signer:string, Issuer:string, SignerHash:string, IsCertificateValid:bool, IsRootSignerMicrosoft:bool, SignatureState:string, IsExecutable:bool, ThreatName:string, Publisher:string, SoftwareName:string, ProfileAvailability:string';

/** Every table, with the workspace's standard columns added where a table does not declare them. */
export const TABLES: TableSchema[] = DECLARED.map((t) => {
  const have = new Set(t.columns.map(([n]) => n));
  return { name: t.name, columns: [...t.columns, ...cols(WORKSPACE).filter(([n]) => !have.has(n))] };
});
