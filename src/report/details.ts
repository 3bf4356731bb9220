/**
 * The details of an alert's event a responder reads first, by what the event is (as Hayabusa's
 * "Details" column): the command line of a process start, the target of a process access, the
 * file, registry value, DNS name or connection, the logon type and source of a sign-in, the
 * service installed, the script block; for a burst, its summary; for an indicator, what matched.
 * One line, at most MAX_DETAILS characters (the JSON output keeps the whole event).
 */
import type { Alert } from '../detect/alert.js';
import { encodedScript } from '../normalize/command-line.js';

export const MAX_DETAILS = 200;

const text = (v: unknown): string | null => {
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') return null;
  const t = v.trim();
  return t === '' || t === '-' ? null : t;
};

export function alertDetails(a: Alert): string {
  const e = a.event;
  const pick = (...names: string[]) => {
    for (const n of names) {
      const v = text(e[n]);
      if (v !== null) return v;
    }
    return null;
  };
  const parts: string[] = [];
  if (a.match) parts.push(`${String(a.match.field)}=${String(a.match.value)}`);
  else if (typeof e.summary === 'string' && a.rule.kind === 'correlation') {
    parts.push(e.summary);
    if (Array.isArray(e.commands)) parts.push(e.commands.slice(0, 5).join(' | '));
  } else {
    const cmd = pick('CommandLine', 'ProcessCommandLine');
    const script = pick('ScriptBlockText');
    const target = pick('TargetImage');
    const access = pick('GrantedAccess');
    const file = pick('TargetFilename', 'FolderPath', 'FilePath', 'ServiceFileName', 'ImagePath');
    const key = pick('TargetObject', 'RegistryKey', 'ObjectName');
    const data = pick('Details', 'RegistryValueData');
    const query = pick('QueryName');
    const dst = pick('DestinationIp', 'RemoteIP', 'DestAddress');
    const port = pick('DestinationPort', 'RemotePort', 'DestPort');
    const dstName = pick('DestinationHostname', 'RemoteUrl');
    const logonType = pick('LogonType');
    const from = pick('IpAddress', 'RemoteIP');
    const service = pick('ServiceName');
    // PowerShell's -EncodedCommand shown decoded: what ran, not its Base64.
    const decoded = cmd ? encodedScript(cmd) : undefined;
    if (decoded) parts.push(`decoded: ${decoded}`);
    else if (cmd) parts.push(`cmd: ${cmd}`);
    else if (script) parts.push(`script: ${script}`);
    if (target) parts.push(`target: ${target}${access ? ` access ${access}` : ''}`);
    if (!cmd && file) parts.push(`file: ${file}`);
    if (key) parts.push(data ? `value: ${key} = ${data}` : `object: ${key}`);
    if (query) parts.push(`query: ${query}`);
    if (dst) parts.push(`dst: ${dst}${port ? `:${port}` : ''}${dstName ? ` (${dstName})` : ''}`);
    if (logonType && !cmd) parts.push(`logon type ${logonType}${from ? ` from ${from}` : ''}`);
    if (service && !cmd) parts.push(`service: ${service}`);
    // Events with unnamed data (ESENT, many Application logs): the data items.
    if (parts.length === 0 && Array.isArray(e.Data)) parts.push(`data: ${e.Data.map(String).join(' ')}`);
  }
  const line = parts.join('  ').replace(/\s+/g, ' ');
  return line.length > MAX_DETAILS ? `${line.slice(0, MAX_DETAILS - 1)}…` : line;
}
