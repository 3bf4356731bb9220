/**
 * Lateral movement: a network or remote-interactive sign-in on host B whose source is host A
 * (its address as A's own events give it, or A's name). When the same account raised an alert on
 * A before the sign-in and on B after it (or B's session of that sign-in did), the incident graph
 * joins the two by a `lateral` edge and the incident lists the hop.
 *
 * Hosts' addresses are learned from what a host says of itself: Sysmon 3 connections it initiated
 * (SourceIp) and Defender's DeviceNetworkEvents (LocalIP). An address two hosts claim is ambiguous
 * (DHCP moves it) and names neither.
 */
import { parseIp } from '../detect/ir/ip.js';
import type { EventView } from '../normalize/normalize.js';
import type { HostNames } from './entities.js';
import type { Logon } from './logons.js';
import { logonIdOf } from './sessions.js';

/** A sign-in from another host. */
export interface Hop {
  time: number;
  /** Host keys. */
  from: string;
  to: string;
  account: string;
  /** The session it opened on `to` (`host|logon id`), when the sign-in names one. */
  session: string | null;
  logonType: string;
  source: string;
}

/** The most addresses and remote sign-ins kept; more are counted. */
export const MAX_ADDRESSES = 100_000;
export const MAX_REMOTE_SIGNINS = 500_000;

const REMOTE_TYPES = new Set([
  'Network',
  'RemoteInteractive',
  'NetworkCleartext',
  'NewCredentials',
  '3',
  '10',
]);
const NOT_A_HOST_ADDRESS = /^(127\.|0\.0\.0\.0$|::1$|::$|169\.254\.|fe80:)/i;

interface RemoteSignin {
  time: number;
  to: string;
  account: string;
  source: string;
  logonId: string | null;
  logonType: string;
}

export class MovementFinder {
  /** address → host key, or null once two hosts claimed it. */
  private readonly addresses = new Map<string, string | null>();
  private readonly signins: RemoteSignin[] = [];
  dropped = 0;

  constructor(private readonly hosts: HostNames) {}

  /** Learns a host's own address from an event about its connections. */
  learn(view: EventView): void {
    if (view.profile?.defenderTable !== 'DeviceNetworkEvents') return;
    // Sysmon 3 names the initiator "Source": the host itself only when it initiated.
    if (view.raw.provider === 'Microsoft-Windows-Sysmon' && String(view.field('Initiated')) !== 'true')
      return;
    if (view.raw.provider === 'Microsoft-Windows-Security-Auditing') return; // WFP: direction varies
    const ip = String(view.column('LocalIP') ?? '').trim();
    if (ip === '' || NOT_A_HOST_ADDRESS.test(ip) || parseIp(ip) === null) return;
    const host = this.hosts.see(String(view.column('DeviceName') ?? view.raw.computer ?? ''));
    if (host === null) return;
    const known = this.addresses.get(ip);
    if (known === undefined) {
      if (this.addresses.size < MAX_ADDRESSES) this.addresses.set(ip, host);
    } else if (known !== null && known !== host) this.addresses.set(ip, null);
  }

  /** Keeps a successful remote sign-in of a user account. */
  signin(logon: Logon): void {
    if (!logon.success || logon.kind !== 'user' || logon.time === null) return;
    if (logon.source === 'local' || !REMOTE_TYPES.has(logon.logonType)) return;
    if (this.signins.length >= MAX_REMOTE_SIGNINS) {
      this.dropped++;
      return;
    }
    this.signins.push({
      time: logon.time,
      to: logon.host,
      account: logon.account,
      source: logon.source,
      logonId: logonIdOf(logon.logonId),
      logonType: logon.logonType,
    });
  }

  /** The remote sign-ins whose source is another known host. */
  hops(): Hop[] {
    const out: Hop[] = [];
    for (const s of this.signins) {
      const from = parseIp(s.source) !== null ? this.addresses.get(s.source) : this.hosts.known(s.source);
      if (!from || from === s.to) continue;
      out.push({
        time: s.time,
        from,
        to: s.to,
        account: s.account,
        session: s.logonId ? `${s.to}|${s.logonId}` : null,
        logonType: s.logonType,
        source: s.source,
      });
    }
    return out.sort((a, b) => a.time - b.time || (a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
  }
}
