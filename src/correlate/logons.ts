/**
 * Sign-ins as the sources record them (Security 4624 and 4625, Remote Desktop 1149, Defender's
 * DeviceLogonEvents, all read through the DeviceLogonEvents view of their profile; Defender for
 * Identity's IdentityLogonEvents and Entra ID's SigninLogs), and their summary per account, host,
 * logon type and source: how many succeeded and failed, first and last time. The first half of
 * the sign-in analysis; baselines and unusual sign-ins build on it.
 */
import type { EventView } from '../normalize/normalize.js';
import { type AccountKind, AccountNames, accountName, HostNames } from './entities.js';

export interface Logon {
  time: number | null;
  /** Host key (see entities.ts). */
  host: string;
  /** Account key. */
  account: string;
  kind: AccountKind;
  logonType: string;
  /** The remote address, else the remote device's name, else "local". */
  source: string;
  success: boolean;
  logonId: string | null;
  failure: string | null;
}

/** Logon types that carry no remote source: the sign-in happened at the host. */
const NO_SOURCE = new Set(['', '-', '::1', '127.0.0.1', '0.0.0.0']);

/** The sign-in an event records, or null when it records none. */
export function logonOf(view: EventView, hosts: HostNames, accounts: AccountNames): Logon | null {
  const table = view.profile?.defenderTable;
  if (table === 'SigninLogs') return entraSignin(view, hosts, accounts);
  if (table === 'IdentityLogonEvents') return identitySignin(view, hosts, accounts);
  if (table !== 'DeviceLogonEvents') return null;
  const action = String(view.column('ActionType') ?? '');
  if (action !== 'LogonSuccess' && action !== 'LogonFailed') return null;
  const account = accountName(view.column('AccountName'), view.column('AccountDomain'));
  const host = hosts.see(String(view.column('DeviceName') ?? view.raw.computer ?? ''));
  if (account === null || host === null) return null;
  const key = accounts.see(account, view.column('AccountSid'));
  const ip = String(view.column('RemoteIP') ?? '').trim();
  const device = String(view.column('RemoteDeviceName') ?? '').trim();
  const source = !NO_SOURCE.has(ip) ? ip : device !== '' && device !== '-' ? device.toLowerCase() : 'local';
  const failure = view.column('FailureReason') ?? statusReason(view.field('SubStatus'), view.field('Status'));
  return {
    time: view.raw.time,
    host,
    account: key,
    kind: account.kind,
    logonType: String(view.column('LogonType') ?? 'Unknown'),
    source,
    success: action === 'LogonSuccess',
    logonId: (view.column('LogonId') as string | undefined) ?? null,
    failure: typeof failure === 'string' && failure !== '' ? failure : null,
  };
}

/** The host Entra ID sign-ins are counted on: the cloud directory, one "host" per tenant. */
export const ENTRA_HOST = 'Entra ID';

/**
 * An Entra ID sign-in (Sentinel's SigninLogs): the account by its UPN, the source its IPAddress,
 * success when ResultType is 0; interactive and non-interactive sign-ins are two logon types.
 */
function entraSignin(view: EventView, hosts: HostNames, accounts: AccountNames): Logon | null {
  const account = accountName(view.column('UserPrincipalName'));
  const host = hosts.see(ENTRA_HOST);
  if (account === null || host === null) return null;
  const result = String(view.column('ResultType') ?? '').trim();
  const success = result === '0';
  const ip = String(view.column('IPAddress') ?? '').trim();
  const interactive = view.column('IsInteractive');
  const description = String(view.column('ResultDescription') ?? '').trim();
  return {
    time: view.raw.time,
    host,
    account: accounts.see(account),
    kind: account.kind,
    logonType: interactive === false || interactive === 'false' ? 'CloudNonInteractive' : 'CloudInteractive',
    source: ip !== '' ? ip : 'unknown',
    success,
    logonId: null,
    failure: success ? null : description !== '' ? description : `error ${result || '?'}`,
  };
}

/**
 * A sign-in a domain controller saw (Defender for Identity's IdentityLogonEvents): on the device
 * signed in to (DestinationDeviceName, else TargetDeviceName, else the domain's controllers), from
 * the client's address or name.
 */
function identitySignin(view: EventView, hosts: HostNames, accounts: AccountNames): Logon | null {
  const action = String(view.column('ActionType') ?? '');
  if (action !== 'LogonSuccess' && action !== 'LogonFailed') return null;
  const account =
    accountName(view.column('AccountName'), view.column('AccountDomain')) ??
    accountName(view.column('AccountUpn'));
  const target = String(view.column('DestinationDeviceName') ?? view.column('TargetDeviceName') ?? '').trim();
  const host = hosts.see(target !== '' ? target : 'domain controllers');
  if (account === null || host === null) return null;
  const ip = String(view.column('IPAddress') ?? '').trim();
  const device = String(view.column('DeviceName') ?? '').trim();
  const failure = view.column('FailureReason');
  return {
    time: view.raw.time,
    host,
    account: accounts.see(account, view.column('AccountSid')),
    kind: account.kind,
    logonType: String(view.column('LogonType') ?? 'Unknown'),
    source: !NO_SOURCE.has(ip) ? ip : device !== '' ? device.toLowerCase() : 'local',
    success: action === 'LogonSuccess',
    logonId: null,
    failure: typeof failure === 'string' && failure !== '' ? failure : null,
  };
}

/** NTSTATUS codes of a failed logon (4625 Status / SubStatus) as reasons a responder reads. */
const STATUS: Record<string, string> = {
  '0xc0000064': 'NoSuchUser',
  '0xc000006a': 'WrongPassword',
  '0xc000006d': 'InvalidUserNameOrPassword',
  '0xc000006e': 'AccountRestriction',
  '0xc000006f': 'OutsideLogonHours',
  '0xc0000070': 'WorkstationRestriction',
  '0xc0000071': 'PasswordExpired',
  '0xc0000072': 'AccountDisabled',
  '0xc000015b': 'LogonTypeNotGranted',
  '0xc0000193': 'AccountExpired',
  '0xc0000224': 'MustChangePassword',
  '0xc0000234': 'AccountLockedOut',
};

/** The reason of a 4625: its SubStatus when it says more than success, else its Status. */
function statusReason(sub: unknown, status: unknown): string | undefined {
  for (const code of [sub, status]) {
    if (typeof code !== 'string') continue;
    const c = code.toLowerCase();
    if (/^0x0+$/.test(c)) continue;
    return STATUS[c] ?? c;
  }
  return undefined;
}

export interface LogonRow {
  account: string;
  host: string;
  logonType: string;
  source: string;
  successes: number;
  failures: number;
  first: string | null;
  last: string | null;
  /** Failure reasons and how often. */
  reasons: Record<string, number>;
}

/** The most rows a summary keeps (hostile logs can vary the source of every event). */
export const MAX_LOGON_ROWS = 1_000_000;

/** Sign-ins summed per account, host, logon type and source. */
export class LogonSummary {
  readonly hosts = new HostNames();
  readonly accounts = new AccountNames();
  private readonly rows = new Map<string, LogonRow & { firstMs: number; lastMs: number }>();
  /** Sign-ins seen, and those left out (by kind, or past MAX_LOGON_ROWS). */
  seen = 0;
  leftOut = 0;

  /** `kinds`: the account kinds summed (users by default: machine and system logons are noise). */
  constructor(private readonly kinds: ReadonlySet<AccountKind> = new Set(['user'])) {}

  add(view: EventView): void {
    const logon = logonOf(view, this.hosts, this.accounts);
    if (logon === null) return;
    this.seen++;
    if (!this.kinds.has(logon.kind)) {
      this.leftOut++;
      return;
    }
    const id = `${logon.account}\u0000${logon.host}\u0000${logon.logonType}\u0000${logon.source}`;
    let row = this.rows.get(id);
    if (!row) {
      if (this.rows.size >= MAX_LOGON_ROWS) {
        this.leftOut++;
        return;
      }
      row = {
        account: logon.account,
        host: logon.host,
        logonType: logon.logonType,
        source: logon.source,
        successes: 0,
        failures: 0,
        first: null,
        last: null,
        reasons: {},
        firstMs: Number.POSITIVE_INFINITY,
        lastMs: Number.NEGATIVE_INFINITY,
      };
      this.rows.set(id, row);
    }
    if (logon.success) row.successes++;
    else {
      row.failures++;
      if (logon.failure) row.reasons[logon.failure] = (row.reasons[logon.failure] ?? 0) + 1;
    }
    if (logon.time !== null) {
      row.firstMs = Math.min(row.firstMs, logon.time);
      row.lastMs = Math.max(row.lastMs, logon.time);
    }
  }

  /** The rows with display names, ordered by account, host, logon type and source. */
  result(): LogonRow[] {
    const out: LogonRow[] = [];
    for (const r of this.rows.values())
      out.push({
        account: this.accounts.display(r.account),
        host: this.hosts.display(r.host),
        logonType: r.logonType,
        source: r.source,
        successes: r.successes,
        failures: r.failures,
        first: Number.isFinite(r.firstMs) ? new Date(r.firstMs).toISOString() : null,
        last: Number.isFinite(r.lastMs) ? new Date(r.lastMs).toISOString() : null,
        reasons: r.reasons,
      });
    const by = (r: LogonRow) => [r.account.toLowerCase(), r.host.toLowerCase(), r.logonType, r.source];
    return out.sort((a, b) => {
      const x = by(a);
      const y = by(b);
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
      return 0;
    });
  }
}
