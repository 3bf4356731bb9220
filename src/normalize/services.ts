/**
 * Sigma `service:` log sources by channel (the Windows taxonomy appendix): a rule written for
 * `service: taskscheduler` runs on events of that channel whether or not a source profile knows
 * the event. Channel names are matched case-insensitively.
 */
export const SERVICE_CHANNELS: Record<string, string[]> = {
  security: ['Security'],
  system: ['System'],
  application: ['Application'],
  sysmon: ['Microsoft-Windows-Sysmon/Operational'],
  windefend: ['Microsoft-Windows-Windows Defender/Operational'],
  powershell: ['Microsoft-Windows-PowerShell/Operational', 'PowerShellCore/Operational'],
  'powershell-classic': ['Windows PowerShell'],
  taskscheduler: ['Microsoft-Windows-TaskScheduler/Operational'],
  wmi: ['Microsoft-Windows-WMI-Activity/Operational'],
  'codeintegrity-operational': ['Microsoft-Windows-CodeIntegrity/Operational'],
  'appxdeployment-server': ['Microsoft-Windows-AppXDeploymentServer/Operational'],
  'appxpackaging-om': ['Microsoft-Windows-AppxPackaging/Operational'],
  'firewall-as': ['Microsoft-Windows-Windows Firewall With Advanced Security/Firewall'],
  'bits-client': ['Microsoft-Windows-Bits-Client/Operational'],
  'dns-client': ['Microsoft-Windows-DNS Client Events/Operational'],
  'dns-server': ['DNS Server'],
  'dns-server-analytic': ['Microsoft-Windows-DNS-Server/Analytical'],
  'msexchange-management': ['MSExchange Management'],
  ntlm: ['Microsoft-Windows-NTLM/Operational'],
  applocker: [
    'Microsoft-Windows-AppLocker/MSI and Script',
    'Microsoft-Windows-AppLocker/EXE and DLL',
    'Microsoft-Windows-AppLocker/Packaged app-Deployment',
    'Microsoft-Windows-AppLocker/Packaged app-Execution',
  ],
  'security-mitigations': [
    'Microsoft-Windows-Security-Mitigations/Kernel Mode',
    'Microsoft-Windows-Security-Mitigations/User Mode',
  ],
  smbclient: ['Microsoft-Windows-SmbClient/Security', 'Microsoft-Windows-SMBClient/Connectivity'],
  'smbclient-security': ['Microsoft-Windows-SmbClient/Security'],
  'smbclient-connectivity': ['Microsoft-Windows-SMBClient/Connectivity'],
  'terminalservices-localsessionmanager': [
    'Microsoft-Windows-TerminalServices-LocalSessionManager/Operational',
  ],
  'terminalservices-remoteconnectionmanager': [
    'Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational',
  ],
  'lsa-server': ['Microsoft-Windows-LSA/Operational'],
  capi2: ['Microsoft-Windows-CAPI2/Operational'],
  ldap: ['Microsoft-Windows-LDAP-Client/Debug'],
  'iis-configuration': ['Microsoft-IIS-Configuration/Operational'],
  openssh: ['OpenSSH/Operational'],
  'printservice-admin': ['Microsoft-Windows-PrintService/Admin'],
  'printservice-operational': ['Microsoft-Windows-PrintService/Operational'],
  'diagnosis-scripted': ['Microsoft-Windows-Diagnosis-Scripted/Operational'],
  'shell-core': ['Microsoft-Windows-Shell-Core/Operational'],
  'kernel-shimengine': ['Microsoft-Windows-Kernel-ShimEngine/Operational'],
  ntfs: ['Microsoft-Windows-Ntfs/Operational'],
  'hyper-v-worker': ['Microsoft-Windows-Hyper-V-Worker'],
  vhdmp: ['Microsoft-Windows-VHDMP/Operational'],
  bitlocker: ['Microsoft-Windows-BitLocker/BitLocker Management'],
  'microsoft-servicebus-client': ['Microsoft-ServiceBus-Client'],
};

const BY_CHANNEL = new Map<string, string[]>();
for (const [service, channels] of Object.entries(SERVICE_CHANNELS)) {
  for (const c of channels) {
    const k = c.toLowerCase();
    BY_CHANNEL.set(k, [...(BY_CHANNEL.get(k) ?? []), service]);
  }
}

export function servicesOfChannel(channel: string | null): string[] {
  return channel === null ? [] : (BY_CHANNEL.get(channel.toLowerCase()) ?? []);
}
