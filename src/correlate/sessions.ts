/**
 * Logon sessions per host: opened by a sign-in (Security 4624, Defender LogonSuccess), seen again
 * through RDP reconnects and disconnects (4778, 4779), Remote Desktop's own session events
 * (21/23/24/25, kept by desktop session number), closed by a logoff (4634, 4647) or by the
 * host starting again (System 6005, Security 4608: every session of the host ends). A process
 * creation (Security 4688, Sysmon 1) names its session's logon id, which links what an account
 * ran to how and from where it signed in; an LSASS dump on a host exposes the sessions live there.
 */
import type { EventView } from '../normalize/normalize.js';
import { type AccountKind, AccountNames, accountName, HostNames } from './entities.js';
import { type Logon, logonOf } from './logons.js';

export interface LogonSession {
  host: string;
  /** Canonical logon id: `0x` and lower-case hex digits without leading zeros. */
  logonId: string;
  account: string | null;
  kind: AccountKind | null;
  /** The 4624 logon type number (2 interactive, 3 network, 10 remote interactive, …), if known. */
  logonType: number | null;
  source: string | null;
  /** When it opened (null: opened before the logs begin, seen only later). */
  start: number | null;
  end: number | null;
  endedBy: 'logoff' | 'restart' | null;
  reconnects: number;
  disconnects: number;
}

/** SYSTEM's, LOCAL SERVICE's and NETWORK SERVICE's logon ids: every service shares them. */
export const SHARED_LOGON_IDS = new Set(['0x3e7', '0x3e4', '0x3e5']);

/** The most sessions kept (a hostile or huge log could open millions); the oldest go first. */
export const MAX_SESSIONS = 500_000;

const LOGON_TYPES: Record<string, number> = {
  Interactive: 2,
  Network: 3,
  Batch: 4,
  Service: 5,
  Unlock: 7,
  NetworkCleartext: 8,
  NewCredentials: 9,
  RemoteInteractive: 10,
  CachedInteractive: 11,
};

/** A logon id as `0x…` without leading zeros, from hex text or a number; null for none or zero. */
export function logonIdOf(v: unknown): string | null {
  let n: bigint;
  try {
    if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
    else if (typeof v === 'string' && /^0x[0-9a-f]{1,16}$/i.test(v.trim())) n = BigInt(v.trim());
    else if (typeof v === 'string' && /^\d{1,20}$/.test(v.trim())) n = BigInt(v.trim());
    else return null;
  } catch {
    return null;
  }
  return n === 0n ? null : `0x${n.toString(16)}`;
}

function typeNumber(v: unknown): number | null {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') {
    if (/^\d+$/.test(v)) return Number(v);
    return LOGON_TYPES[v] ?? null;
  }
  return null;
}

const isSecurity = (view: EventView) =>
  view.raw.provider === 'Microsoft-Windows-Security-Auditing' || view.raw.channel === 'Security';

export class SessionTable {
  readonly hosts: HostNames;
  readonly accounts: AccountNames;
  /** host → logon id → sessions with that id, oldest first (ids are reused after a restart). */
  private readonly byHost = new Map<string, Map<string, LogonSession[]>>();
  private count = 0;
  dropped = 0;
  /** Sessions in the order they were opened, from `first` on (the rest were forgotten). */
  private order: LogonSession[] = [];
  private first = 0;

  constructor(hosts = new HostNames(), accounts = new AccountNames()) {
    this.hosts = hosts;
    this.accounts = accounts;
  }

  /** Takes what an event says of sessions (other events are ignored). */
  add(view: EventView): void {
    const id = view.raw.eventId;
    const time = view.raw.time;
    if (view.profile?.defenderTable === 'DeviceLogonEvents') {
      const logon = logonOf(view, this.hosts, this.accounts);
      if (logon) this.opened(logon);
      return;
    }
    // Most events say nothing of sessions: the event id decides before anything is looked up.
    if (id === 21 || id === 23 || id === 24 || id === 25) {
      if (view.raw.provider === 'Microsoft-Windows-TerminalServices-LocalSessionManager') this.desktop(view);
      return;
    }
    if (id !== 4634 && id !== 4647 && id !== 4778 && id !== 4779 && id !== 6005 && id !== 4608) return;
    const host = this.hosts.see(view.raw.computer);
    if (host === null) return;
    if ((id === 4634 || id === 4647) && isSecurity(view)) {
      const s = this.find(host, logonIdOf(view.field('TargetLogonId')), time);
      if (s && s.end === null) {
        s.end = time;
        s.endedBy = 'logoff';
      }
    } else if ((id === 4778 || id === 4779) && isSecurity(view)) {
      const logonId = logonIdOf(view.field('LogonID'));
      if (logonId === null) return;
      let s = this.find(host, logonId, time);
      if (!s) {
        // A session opened before the logs begin: known from its RDP events only.
        const account = accountName(view.field('AccountName'), view.field('AccountDomain'));
        s = this.open(host, logonId, null, {
          account: account ? this.accounts.see(account) : null,
          kind: account?.kind ?? null,
          logonType: 10,
          source: (view.field('ClientAddress') as string | undefined) ?? null,
        });
      }
      if (id === 4778) s.reconnects++;
      else s.disconnects++;
    } else if ((id === 6005 && view.raw.channel === 'System') || (id === 4608 && isSecurity(view))) {
      for (const list of this.byHost.get(host)?.values() ?? [])
        for (const s of list)
          if (s.end === null && (s.start === null || time === null || s.start <= time)) {
            s.end = time;
            s.endedBy = 'restart';
          }
    }
  }

  /**
   * Remote Desktop's session events (LocalSessionManager 21 logon, 23 logoff, 24 disconnect, 25
   * reconnect). They name the desktop session number, not the logon id: such sessions are kept
   * as `ts:N` beside the logon ids, typed 10 (remote interactive), or 2 when the address is
   * LOCAL (the console). Credentials stay in LSASS across a disconnect, until the logoff.
   */
  private desktop(view: EventView): void {
    const host = this.hosts.see(view.raw.computer);
    const number = String(view.field('SessionID') ?? '').trim();
    if (host === null || !/^\d{1,10}$/.test(number)) return;
    const logonId = `ts:${number}`;
    const time = view.raw.time;
    const id = view.raw.eventId;
    let s = this.find(host, logonId, time);
    if (id === 21 || (s === null && id === 25)) {
      const who = String(view.field('User') ?? '');
      const [domain, name] = who.includes('\\') ? who.split('\\', 2) : [null, who];
      const account = accountName(name, domain);
      const address = String(view.field('Address') ?? '').trim();
      const local = address === '' || address.toUpperCase() === 'LOCAL';
      if (s && s.end === null && id === 21) return; // the same logon seen twice
      s = this.open(host, logonId, id === 21 ? time : null, {
        account: account ? this.accounts.see(account) : null,
        kind: account?.kind ?? null,
        logonType: local ? 2 : 10,
        source: local ? null : address,
      });
    }
    if (s === null) return;
    if (id === 25) s.reconnects++;
    else if (id === 24) s.disconnects++;
    else if (id === 23 && s.end === null) {
      s.end = time;
      s.endedBy = 'logoff';
    }
  }

  /** A sign-in (logons.ts reads it from the event): a success opens its session. */
  opened(logon: Logon): void {
    const logonId = logonIdOf(logon.logonId);
    if (!logon.success || logonId === null) return;
    this.open(logon.host, logonId, logon.time, {
      account: logon.account,
      kind: logon.kind,
      logonType: typeNumber(logon.logonType),
      source: logon.source === 'local' ? null : logon.source,
    });
  }

  private open(
    host: string,
    logonId: string,
    start: number | null,
    about: Pick<LogonSession, 'account' | 'kind' | 'logonType' | 'source'>,
  ): LogonSession {
    const ids = this.byHost.get(host) ?? new Map<string, LogonSession[]>();
    this.byHost.set(host, ids);
    const list = ids.get(logonId) ?? [];
    ids.set(logonId, list);
    const s: LogonSession = {
      host,
      logonId,
      ...about,
      start,
      end: null,
      endedBy: null,
      reconnects: 0,
      disconnects: 0,
    };
    list.push(s);
    this.order.push(s);
    if (++this.count > MAX_SESSIONS) this.forgetOldest();
    return s;
  }

  private forgetOldest(): void {
    const s = this.order[this.first++];
    if (!s) return;
    if (this.first > 65_536 && this.first * 2 > this.order.length) {
      this.order = this.order.slice(this.first);
      this.first = 0;
    }
    const list = this.byHost.get(s.host)?.get(s.logonId);
    if (list) list.splice(list.indexOf(s), 1);
    this.count--;
    this.dropped++;
  }

  /** The session with this id on this host at `time` (the latest opened by then). */
  find(host: string | null, logonId: string | null, time: number | null): LogonSession | null {
    if (host === null || logonId === null) return null;
    const list = this.byHost.get(host)?.get(logonId);
    if (!list || list.length === 0) return null;
    if (time === null) return list[list.length - 1];
    for (let i = list.length - 1; i >= 0; i--) {
      const s = list[i];
      if (s.start === null || s.start <= time) return s;
    }
    return list[0];
  }

  /**
   * The session a process creation ran in: 4688's TargetLogonId when it names one (the process
   * runs as another user than its creator), else its SubjectLogonId; Sysmon 1's LogonId.
   */
  sessionOfProcess(view: EventView): LogonSession | null {
    const host = this.hosts.see(view.raw.computer);
    const id = view.raw.eventId;
    if (id === 4688 && isSecurity(view))
      return (
        this.find(host, logonIdOf(view.field('TargetLogonId')), view.raw.time) ??
        this.find(host, logonIdOf(view.field('SubjectLogonId')), view.raw.time)
      );
    if (id === 1 && view.raw.provider === 'Microsoft-Windows-Sysmon')
      return this.find(host, logonIdOf(view.field('LogonId')), view.raw.time);
    return null;
  }

  /** Sessions open on a host at `time` (started by then, or before the logs; not yet ended). */
  liveAt(host: string, time: number): LogonSession[] {
    const out: LogonSession[] = [];
    for (const list of this.byHost.get(host)?.values() ?? [])
      for (const s of list)
        if ((s.start === null || s.start <= time) && (s.end === null || s.end > time)) out.push(s);
    return out;
  }

  all(): LogonSession[] {
    return this.order.slice(this.first);
  }
}
