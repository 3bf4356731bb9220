/**
 * Named value transforms used by the source profiles. Each takes the values of the fields a
 * profile names (undefined where absent) and returns the derived value, or undefined when there is
 * nothing to derive. They never throw: logs are full of '-', empty strings and odd formats.
 */
import { decodeEncodedCommand, normalizeCommandLine } from './command-line.js';
import { withMessageText } from './message-codes.js';

type Values = readonly unknown[];

function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v === '' || v === '-' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return undefined;
}

function lastSep(path: string): number {
  return Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/'));
}

/**
 * Sysmon's Hashes field: `SHA1=…,MD5=…,SHA256=…,IMPHASH=…` (older configs: `SHA256=…` alone). The
 * hash comes out in lower case, as Defender's SHA256/SHA1/MD5 columns hold it (queries compare
 * them with `==` and `in`, which are case-sensitive).
 */
function hashPart(kind: string): (v: Values) => string | undefined {
  const prefix = `${kind}=`;
  return ([hashes]) => {
    const s = text(hashes);
    if (!s) return undefined;
    for (const part of s.split(',')) {
      const p = part.trim();
      if (p.length > prefix.length && p.slice(0, prefix.length).toUpperCase() === prefix)
        return p.slice(prefix.length).toLowerCase();
    }
    return undefined;
  };
}

/** Windows mandatory-label SIDs as Sysmon names them. */
const INTEGRITY: Record<string, string> = {
  'S-1-16-0': 'Untrusted',
  'S-1-16-4096': 'Low',
  'S-1-16-8192': 'Medium',
  'S-1-16-8448': 'MediumPlus',
  'S-1-16-12288': 'High',
  'S-1-16-16384': 'System',
  'S-1-16-20480': 'Protected',
};

const LOGON_TYPE_NAMES: Record<string, string> = {
  '2': 'Interactive',
  '3': 'Network',
  '4': 'Batch',
  '5': 'Service',
  '7': 'Unlock',
  '8': 'NetworkCleartext',
  '9': 'NewCredentials',
  '10': 'RemoteInteractive',
  '11': 'CachedInteractive',
};
const LOGON_TYPE_NUMBERS: Record<string, number> = Object.fromEntries(
  Object.entries(LOGON_TYPE_NAMES).map(([n, name]) => [name.toLowerCase(), Number(n)]),
);

const REGISTRY_ACTIONS: Record<string, string> = {
  CreateKey: 'RegistryKeyCreated',
  DeleteKey: 'RegistryKeyDeleted',
  DeleteValue: 'RegistryValueDeleted',
  SetValue: 'RegistryValueSet',
  RenameKey: 'RegistryKeyRenamed',
};
const REGISTRY_EVENT_TYPES: Record<string, string> = Object.fromEntries(
  Object.entries(REGISTRY_ACTIONS).map(([k, v]) => [v, k]),
);

/** `\REGISTRY\MACHINE\...` (kernel form, Defender) and `HKLM\...` (Sysmon) name the same key. */
const HIVES: [RegExp, string][] = [
  [/^\\?REGISTRY\\MACHINE/i, 'HKLM'],
  [/^HKEY_LOCAL_MACHINE/i, 'HKLM'],
  [/^\\?REGISTRY\\USER/i, 'HKU'],
  [/^HKEY_USERS/i, 'HKU'],
  [/^HKEY_CURRENT_USER/i, 'HKCU'],
];

/** `C:\Windows\System32\cmd.exe` → `cmd.exe` */
function basename([v]: Values): string | undefined {
  const s = text(v);
  return s === undefined ? undefined : s.slice(lastSep(s) + 1);
}

/** `C:\Windows\System32\cmd.exe` → `C:\Windows\System32` */
function dirname([v]: Values): string | undefined {
  const s = text(v);
  if (s === undefined) return undefined;
  const i = lastSep(s);
  return i < 0 ? undefined : s.slice(0, i);
}

export const TRANSFORMS = {
  basename,
  /** Command lines as rules should see them: carets, quotes, switch styles and spacing evened out. */
  normalizedCommandLine: ([v]: Values) => {
    const s = text(v);
    return s === undefined ? undefined : normalizeCommandLine(s);
  },
  /** The script behind PowerShell's -EncodedCommand, decoded (undefined when there is none). */
  decodedCommand: ([v]: Values) => {
    const s = text(v);
    return s === undefined ? undefined : decodeEncodedCommand(s);
  },
  dirname,
  /** Defender's FolderPath usually ends with the file name; when it is only the folder, add it. */
  fullPath: ([folder, file]: Values) => {
    const f = text(folder);
    const n = text(file);
    if (f === undefined) return n;
    if (n === undefined || f.toLowerCase().endsWith(n.toLowerCase())) return f;
    return f.endsWith('\\') || f.endsWith('/') ? f + n : `${f}\\${n}`;
  },
  /** Security log process ids are hex strings (`0x1a2c`); Sysmon's and Defender's are decimal. */
  hexToInt: ([v]: Values) => {
    if (typeof v === 'number') return v;
    const s = text(v);
    if (s === undefined) return undefined;
    const n = /^0x[0-9a-f]+$/i.test(s)
      ? Number.parseInt(s.slice(2), 16)
      : /^\d+$/.test(s)
        ? Number(s)
        : Number.NaN;
    return Number.isFinite(n) ? n : undefined;
  },
  /** An access list with both its message codes and their text (message-codes.ts). */
  accessList: ([v]: Values) => {
    const s = text(v);
    return s === undefined ? undefined : withMessageText(s);
  },
  /** ESENT's messages start "%1 (%2) …": the process name, then its id, the second data item. */
  esentProcessId: ([v]: Values) => {
    const id = Array.isArray(v) ? v[1] : undefined;
    return typeof id === 'string' && /^\d{1,10}$/.test(id) ? Number(id) : undefined;
  },
  integrityLevel: ([v]: Values) => {
    const s = text(v);
    if (s === undefined) return undefined;
    return INTEGRITY[s.toUpperCase()] ?? s;
  },
  /** `DOMAIN\user` from two fields; either may be missing or '-'. */
  domainUser: ([domain, user]: Values) => {
    const d = text(domain);
    const u = text(user);
    if (u === undefined) return undefined;
    return d === undefined ? u : `${d}\\${u}`;
  },
  /** `DOMAIN\user` → `user`; `user@domain` → `user` */
  userName: ([v]: Values) => {
    const s = text(v);
    if (s === undefined) return undefined;
    const i = s.indexOf('\\');
    if (i >= 0) return s.slice(i + 1);
    const at = s.indexOf('@');
    return at > 0 ? s.slice(0, at) : s;
  },
  /** `DOMAIN\user` → `DOMAIN` */
  userDomain: ([v]: Values) => {
    const s = text(v);
    if (s === undefined) return undefined;
    const i = s.indexOf('\\');
    return i > 0 ? s.slice(0, i) : undefined;
  },
  sha256: hashPart('SHA256'),
  sha1: hashPart('SHA1'),
  md5: hashPart('MD5'),
  imphash: hashPart('IMPHASH'),
  /** Defender hash columns → Sysmon's `SHA1=…,MD5=…,SHA256=…` so Hashes rules match Defender rows. */
  hashesField: ([sha1, md5, sha256]: Values) => {
    const parts: string[] = [];
    const a = text(sha1);
    const b = text(md5);
    const c = text(sha256);
    if (a) parts.push(`SHA1=${a.toUpperCase()}`);
    if (b) parts.push(`MD5=${b.toUpperCase()}`);
    if (c) parts.push(`SHA256=${c.toUpperCase()}`);
    return parts.length > 0 ? parts.join(',') : undefined;
  },
  lower: ([v]: Values) => text(v)?.toLowerCase(),
  /** Security 4624's numeric LogonType → Defender's name (`10` → `RemoteInteractive`). */
  logonTypeName: ([v]: Values) => {
    const s = text(v);
    return s === undefined ? undefined : (LOGON_TYPE_NAMES[s] ?? s);
  },
  /** Defender's LogonType name → Security's number. */
  logonTypeNumber: ([v]: Values) => {
    const s = text(v);
    if (s === undefined) return undefined;
    return /^\d+$/.test(s) ? Number(s) : LOGON_TYPE_NUMBERS[s.toLowerCase()];
  },
  /** 4624 → LogonSuccess, 4625 → LogonFailed: from the EventID header. */
  logonAction: ([eventId]: Values) => {
    const s = text(eventId);
    if (s === '4625') return 'LogonFailed';
    if (s === '4624' || s === '4648') return 'LogonSuccess';
    return undefined;
  },
  /** Sysmon EventType (CreateKey, SetValue...) → Defender ActionType, and back. */
  registryAction: ([v]: Values) => {
    const s = text(v);
    return s === undefined ? undefined : (REGISTRY_ACTIONS[s] ?? s);
  },
  registryEventType: ([v]: Values) => {
    const s = text(v);
    return s === undefined ? undefined : (REGISTRY_EVENT_TYPES[s] ?? s);
  },
  /** Registry paths in the short hive form Sysmon and Sigma rules use. */
  registryShortHive: ([key, value]: Values) => {
    let k = text(key);
    if (k === undefined) return undefined;
    for (const [re, short] of HIVES) {
      if (re.test(k)) {
        k = k.replace(re, short);
        break;
      }
    }
    const v = text(value);
    return v === undefined ? k : `${k}\\${v}`;
  },
  /** `HKLM\…\Key\Value` → the key part. */
  registryKey: dirname,
  /** `HKLM\…\Key\Value` → the value name. */
  registryValueName: basename,
  /** WFP's `%%14593` is outbound. */
  wfpInitiated: ([direction]: Values) => {
    const s = text(direction);
    if (s === '%%14593' || s?.toLowerCase() === 'outbound') return 'true';
    if (s === '%%14592' || s?.toLowerCase() === 'inbound') return 'false';
    return undefined;
  },
  /** ISO 8601 string from an epoch-ms header value. */
  isoTime: ([ms]: Values) => (typeof ms === 'number' ? new Date(ms).toISOString() : undefined),
} satisfies Record<string, (values: Values) => unknown>;

export type TransformName = keyof typeof TRANSFORMS;
