/**
 * Unusual sign-ins. The advisory's hunting note: "successful sign-ins from unusual IP addresses …
 * the same user account … linked to command-line activity conducting further credential access".
 * Each account's successful sign-ins, in time order, build its baseline (sources, hosts and logon
 * types seen). A sign-in is unusual when its source was never seen for the account before and the
 * baseline is real (enough earlier sign-ins over enough time) — or its host or logon type is — or
 * when it comes from outside the internal ranges whatever the history — then "insufficient
 * history" is said when there is too little to compare. Alone it is low;
 * high when the same account runs credential access afterwards (escalate()).
 */
import { type Cidr, cidrContains, parseCidr, parseIp } from '../detect/ir/ip.js';
import type { EventView } from '../normalize/normalize.js';
import { type AccountKind, AccountNames, accountName, HostNames, hostKey } from './entities.js';
import { ENTRA_HOST, type Logon, logonOf } from './logons.js';

/** Address ranges treated as internal unless configured otherwise. */
export const DEFAULT_INTERNAL = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
];

export interface SigninOptions {
  /** CIDRs of the organisation's own addresses. */
  internal?: string[];
  /** Earlier successful sign-ins an account needs before a new source is judged (default 5). */
  minHistory?: number;
  /** How long those must span, in ms (default one day). */
  minSpanMs?: number;
}

export interface UnusualSignin {
  account: string;
  ip: string;
  time: string | null;
  host: string;
  logonType: string;
  why: string[];
  severity: 'low' | 'high';
}

interface Seen {
  time: number;
  account: string;
  host: string;
  source: string;
  logonType: string;
  kind: AccountKind;
}

/** The most successful sign-ins kept for the baseline (each a few dozen bytes). */
export const MAX_SIGNINS = 2_000_000;

export class SigninBaseline {
  private readonly seen: Seen[] = [];
  private readonly internal: Cidr[];
  private readonly cloud: string | null;
  dropped = 0;

  constructor(
    private readonly options: SigninOptions = {},
    readonly hosts = new HostNames(),
    readonly accounts = new AccountNames(),
  ) {
    this.cloud = hostKey(ENTRA_HOST);
    this.internal = (options.internal ?? DEFAULT_INTERNAL).map((c) => {
      const cidr = parseCidr(c.includes('/') ? c : `${c}/${c.includes(':') ? 128 : 32}`);
      if (!cidr) throw new Error(`not an address range: ${JSON.stringify(c)}`);
      return cidr;
    });
  }

  add(view: EventView): void {
    this.addLogon(logonOf(view, this.hosts, this.accounts));
  }

  /** A sign-in read already (the correlator reads each once for the sessions and the baselines). */
  addLogon(logon: Logon | null): void {
    if (!logon?.success || logon.kind !== 'user' || logon.time === null) return;
    if (this.seen.length >= MAX_SIGNINS) {
      this.dropped++;
      return;
    }
    this.seen.push({
      time: logon.time,
      account: logon.account,
      host: logon.host,
      source: logon.source,
      logonType: logon.logonType,
      kind: logon.kind,
    });
  }

  /** Whether an address is outside the internal ranges (names and "local" are not addresses). */
  isExternal(source: string): boolean {
    const ip = parseIp(source);
    return ip !== null && !this.internal.some((c) => cidrContains(c, ip));
  }

  /** The unusual sign-ins, in time order. */
  unusual(): UnusualSignin[] {
    const minHistory = this.options.minHistory ?? 5;
    const minSpan = this.options.minSpanMs ?? 86_400_000;
    // Sign-ins of the same moment have no order between them: each is judged against what came
    // before that moment only, and listed by what it is (not by which file was read first).
    const text = (x: Seen) => `${x.account}\u0000${x.host}\u0000${x.source}\u0000${x.logonType}`;
    const sorted = [...this.seen].sort(
      (a, b) => a.time - b.time || (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0),
    );
    const history = new Map<
      string,
      { first: number; count: number; sources: Set<string>; hosts: Set<string>; types: Set<string> }
    >();
    const out: UnusualSignin[] = [];
    /** This moment's sign-ins, learned once the moment is over. */
    let moment: Seen[] = [];
    const learn = () => {
      for (const s of moment) {
        const h = history.get(s.account)!;
        h.count++;
        h.sources.add(s.source);
        h.hosts.add(s.host);
        h.types.add(s.logonType);
      }
      moment = [];
    };
    for (const s of sorted) {
      if (moment.length > 0 && moment[0].time !== s.time) learn();
      moment.push(s);
      let h = history.get(s.account);
      if (!h) {
        h = { first: s.time, count: 0, sources: new Set(), hosts: new Set(), types: new Set() };
        history.set(s.account, h);
      }
      const enough = h.count >= minHistory && s.time - h.first >= minSpan;
      // Entra ID is reached from the internet: only a source new against a real baseline counts.
      const external = s.host !== this.cloud && this.isExternal(s.source);
      const why: string[] = [];
      if (external) why.push('source outside the internal ranges');
      if (enough) {
        if (!h.sources.has(s.source)) why.push('source first seen for the account');
        if (!h.hosts.has(s.host)) why.push('host first seen for the account');
        if (!h.types.has(s.logonType)) why.push(`logon type ${s.logonType} first seen for the account`);
      }
      // Against a real baseline, a new source, host or logon type is unusual (low alone).
      const novel = enough && (!h.sources.has(s.source) || !h.hosts.has(s.host) || !h.types.has(s.logonType));
      if (external || novel) {
        if (!enough)
          why.push(
            `insufficient history (${h.count} earlier sign-in${h.count === 1 ? '' : 's'} of the account)`,
          );
        out.push({
          account: this.accounts.display(s.account),
          ip: s.source,
          time: new Date(s.time).toISOString(),
          host: this.hosts.display(s.host),
          logonType: s.logonType,
          why,
          severity: 'low',
        });
      }
    }
    return out;
  }
}

/** What escalate() needs of an alert (accounts.ts's AlertFacts has it). */
export interface CredentialUse {
  time: string | null;
  user: string | null;
  tactics: string[];
}

/**
 * High when the same account is named by a credential-access alert within the window after the
 * sign-in (the advisory's "linked to command-line activity conducting further credential access").
 */
export function escalate(
  signins: UnusualSignin[],
  alerts: Iterable<CredentialUse>,
  withinMs = 86_400_000,
): UnusualSignin[] {
  const byAccount = new Map<string, number[]>();
  for (const a of alerts) {
    if (!a.tactics.includes('credential-access') || !a.user || !a.time) continue;
    const acc = accountName(a.user);
    if (!acc) continue;
    const list = byAccount.get(acc.key) ?? [];
    list.push(Date.parse(a.time));
    byAccount.set(acc.key, list);
  }
  return signins.map((s) => {
    const acc = accountName(s.account);
    const t = s.time ? Date.parse(s.time) : Number.NaN;
    const hit = acc ? byAccount.get(acc.key)?.find((x) => x >= t && x - t <= withinMs) : undefined;
    if (hit === undefined) return s;
    return {
      ...s,
      severity: 'high',
      why: [...s.why, `the account ran credential access ${Math.round((hit - t) / 60_000)} min later`],
    };
  });
}
