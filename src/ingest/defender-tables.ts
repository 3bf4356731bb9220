/**
 * Microsoft Defender Advanced Hunting and Sentinel exports carry rows, not events: the table a row
 * came from is named by the export wrapper (`category: "AdvancedHunting-DeviceProcessEvents"`), by
 * Sentinel's `Type` column, by the file name the hunter saved it under, or else only by its columns.
 * The last case is told apart by the rules below, tried in order (data, not code).
 */
export const DEFENDER_PROVIDER = 'Microsoft-Defender-AdvancedHunting';

export const KNOWN_TABLES = [
  'DeviceProcessEvents',
  'DeviceNetworkEvents',
  'DeviceFileEvents',
  'DeviceRegistryEvents',
  'DeviceLogonEvents',
  'DeviceImageLoadEvents',
  'DeviceEvents',
  'DeviceInfo',
  'DeviceNetworkInfo',
  'DeviceFileCertificateInfo',
  'AlertEvidence',
  'AlertInfo',
  'IdentityLogonEvents',
  'IdentityQueryEvents',
  'IdentityDirectoryEvents',
  'EmailEvents',
  'SecurityEvent',
  'SigninLogs',
  'AADSignInEventsBeta',
  'CloudAppEvents',
] as const;

const TABLE_BY_LOWER = new Map<string, string>(KNOWN_TABLES.map((t) => [t.toLowerCase(), t]));

export function knownTable(name: unknown): string | null {
  if (typeof name !== 'string') return null;
  return TABLE_BY_LOWER.get(name.toLowerCase()) ?? null;
}

interface TableRule {
  table: string;
  /** Every one of these columns must be present (non-null). */
  has?: string[];
  /** ActionType must be one of these (when given). */
  actionTypes?: string[];
  /** ActionType must start with one of these (when given). */
  actionPrefixes?: string[];
}

/** Column signatures, most specific first; the first rule a row satisfies names its table. */
const TABLE_RULES: TableRule[] = [
  { table: 'AlertEvidence', has: ['AlertId', 'EntityType'] },
  { table: 'AlertInfo', has: ['AlertId', 'Title', 'Severity'] },
  { table: 'DeviceProcessEvents', actionTypes: ['ProcessCreated'] },
  { table: 'DeviceImageLoadEvents', actionTypes: ['ImageLoaded'] },
  // Defender for Identity's sign-ins name the account by UPN, which DeviceLogonEvents never has.
  { table: 'IdentityLogonEvents', has: ['Protocol', 'LogonType', 'AccountUpn'] },
  { table: 'DeviceLogonEvents', has: ['LogonType'], actionPrefixes: ['Logon'] },
  {
    table: 'DeviceNetworkEvents',
    has: ['RemoteIP'],
    actionPrefixes: ['Connection', 'Inbound', 'Listening', 'Network'],
  },
  { table: 'DeviceRegistryEvents', actionPrefixes: ['Registry'] },
  { table: 'DeviceFileEvents', actionTypes: ['FileCreated', 'FileModified', 'FileRenamed', 'FileDeleted'] },
  { table: 'DeviceInfo', has: ['OSPlatform', 'DeviceId'] },
  { table: 'DeviceEvents', has: ['DeviceName', 'ActionType'] },
];

export function inferTable(row: Record<string, unknown>): string | null {
  const action = typeof row.ActionType === 'string' ? row.ActionType : null;
  for (const rule of TABLE_RULES) {
    if (rule.has && !rule.has.every((c) => row[c] !== undefined && row[c] !== null)) continue;
    if (rule.actionTypes && (action === null || !rule.actionTypes.includes(action))) continue;
    if (rule.actionPrefixes && (action === null || !rule.actionPrefixes.some((p) => action.startsWith(p))))
      continue;
    return rule.table;
  }
  return null;
}

/** A row looks like Advanced Hunting output when it names a device and has a Defender timestamp. */
export function looksLikeDefenderRow(row: Record<string, unknown>): boolean {
  const hasTime = 'Timestamp' in row || 'TimeGenerated' in row;
  return hasTime && ('DeviceName' in row || 'DeviceId' in row || 'AlertId' in row || 'AccountUpn' in row);
}
