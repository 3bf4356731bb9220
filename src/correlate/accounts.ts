/**
 * The accounts to reset, each with its reason and evidence — the advisory's remediation: "identify
 * LSASS dumping and domain controller installation media creation to identify affected accounts
 * … close or change credentials for all compromised accounts".
 *
 * - Intruder accounts: the account that ran credential access (an alert of tactic
 *   credential-access naming it) or lateral movement (medium or above), and the account of an
 *   unusual sign-in escalated to high.
 * - Exposed by an LSASS dump (T1003.001) on a host: every user account with a session live there
 *   at the dump of a logon type that leaves credentials in LSASS (2, 4, 5, 7, 8, 9, 10, 11; not 3,
 *   network, which sends none), not sessions ended before.
 * - A copy of the AD database (T1003.003: NTDS.dit, install media, a shadow copy of it) exposes the
 *   whole domain: every domain account, and krbtgt, to be reset twice.
 */
import { type Alert, LEVELS, type Level, sourceRef } from '../detect/alert.js';
import { accountName, hostKey } from './entities.js';
import type { SessionTable } from './sessions.js';
import type { UnusualSignin } from './signins.js';

export interface AccountToReset {
  account: string;
  action: 'reset' | 'reset twice';
  reason: string;
  /** Alerts and records behind the reason: `rule-id file#record` and sessions `host logon-id`. */
  evidence: string[];
}

/** Logon types whose credentials stay in LSASS memory. */
export const LSASS_LOGON_TYPES = new Set([2, 4, 5, 7, 8, 9, 10, 11]);

/** What accounts.ts needs of an alert (kept small: a hunt may raise many). */
export interface AlertFacts {
  time: string | null;
  host: string | null;
  user: string | null;
  ruleId: string;
  title: string;
  level: Level;
  techniques: string[];
  tactics: string[];
  where: string;
  /** Whether the event names the AD database (ntds.dit, ntdsutil, NTDS): tells an NTDS copy from a SAM one. */
  namesNtds: boolean;
}

export function alertFacts(a: Alert): AlertFacts {
  return {
    time: a.time,
    host: a.host,
    user: a.user,
    ruleId: a.rule.id,
    title: a.rule.title,
    level: a.rule.level,
    techniques: a.rule.techniques,
    tactics: a.rule.tactics,
    where: sourceRef(a.source),
    // Read only where it decides something: a rule tagged NTDS (isAdCopy).
    namesNtds:
      a.rule.techniques.some((t) => t.toUpperCase() === 'T1003.003') &&
      /ntds/i.test(JSON.stringify(a.event).slice(0, 100_000)),
  };
}

const isLsassDump = (a: AlertFacts) => a.techniques.some((t) => t.toUpperCase() === 'T1003.001');
const hasTechnique = (a: AlertFacts, id: string) => a.techniques.some((t) => t.toUpperCase() === id);
/**
 * A copy of the AD database. Rules about credential files in general (SigmaHQ's "Copying
 * Sensitive Files with Credential Data" tags both T1003.002, SAM, and T1003.003, NTDS) count only
 * when the event names the AD database: a copied SAM hive exposes one host's local accounts, not
 * the domain.
 */
const isAdCopy = (a: AlertFacts) =>
  hasTechnique(a, 'T1003.003') && (!hasTechnique(a, 'T1003.002') || a.namesNtds);

/** The reset list, one entry per account (reasons merged), intruders first, then by account. */
export function accountsToReset(
  alerts: AlertFacts[],
  sessions: SessionTable,
  signins: UnusualSignin[],
): AccountToReset[] {
  const out = new Map<string, AccountToReset & { order: number }>();
  const add = (
    key: string,
    shown: string,
    reason: string,
    evidence: string[],
    order: number,
    action: AccountToReset['action'] = 'reset',
  ) => {
    const e = out.get(key);
    if (!e) {
      out.set(key, { account: shown, action, reason, evidence: [...new Set(evidence)], order });
      return;
    }
    if (!e.reason.includes(reason)) e.reason = `${e.reason}; ${reason}`;
    for (const x of evidence) if (!e.evidence.includes(x) && e.evidence.length < 50) e.evidence.push(x);
    e.order = Math.min(e.order, order);
    if (action === 'reset twice') e.action = action;
  };
  const evidenceOf = (a: AlertFacts) => `${a.ruleId} ${a.where}`;
  // Intruders: who ran credential access, or lateral movement at medium or above (one reason per
  // account and tactic: the rules and the hosts).
  for (const [tactic, what, minLevel] of [
    ['credential-access', 'credential access', 'informational'],
    ['lateral-movement', 'lateral movement', 'medium'],
  ] as const) {
    const ran = new Map<
      string,
      { shown: string; titles: Set<string>; hosts: Map<string, string>; evidence: string[] }
    >();
    for (const a of alerts) {
      if (!a.tactics.includes(tactic) || !a.user) continue;
      if (LEVELS.indexOf(a.level) < LEVELS.indexOf(minLevel)) continue;
      const acc = accountName(a.user);
      if (acc?.kind !== 'user') continue;
      const r = ran.get(acc.key) ?? {
        shown: a.user,
        titles: new Set<string>(),
        hosts: new Map<string, string>(),
        evidence: [] as string[],
      };
      ran.set(acc.key, r);
      r.titles.add(a.title);
      const h = hostKey(a.host);
      if (h !== null && !r.hosts.has(h)) r.hosts.set(h, a.host!);
      if (r.evidence.length < 20) r.evidence.push(evidenceOf(a));
    }
    for (const [key, r] of ran) {
      const titles = [...r.titles];
      const listed =
        titles.slice(0, 3).join(', ') + (titles.length > 3 ? ` and ${titles.length - 3} more` : '');
      add(
        key,
        sessions.accounts.display(key, r.shown),
        `ran ${what} on ${[...r.hosts.values()].join(', ') || '?'}: ${listed}`,
        r.evidence,
        0,
      );
    }
  }
  for (const s of signins) {
    if (s.severity !== 'high') continue;
    const acc = accountName(s.account);
    if (acc)
      add(
        acc.key,
        s.account,
        `signed in from ${s.ip} (${s.why[0]}) then ran credential access`,
        [`sign-in ${s.host} ${s.time}`],
        0,
      );
  }
  // Exposed by LSASS dumps: sessions live on the host at the dump.
  for (const a of alerts) {
    if (!isLsassDump(a) || a.time === null) continue;
    const host = hostKey(a.host);
    if (host === null) continue;
    for (const s of sessions.liveAt(host, Date.parse(a.time))) {
      if (
        s.account === null ||
        s.kind !== 'user' ||
        s.logonType === null ||
        !LSASS_LOGON_TYPES.has(s.logonType)
      )
        continue;
      add(
        s.account,
        sessions.accounts.display(s.account),
        `credentials exposed by the LSASS dump on ${sessions.hosts.display(host)} (session of logon type ${s.logonType}${s.source ? ` from ${s.source}` : ''})`,
        [evidenceOf(a), `session ${sessions.hosts.display(host)} ${s.logonId}`],
        1,
      );
    }
  }
  // A copy of the AD database: the whole domain.
  const copies = alerts.filter(isAdCopy);
  if (copies.length > 0) {
    const domains = new Set<string>();
    for (const a of copies) {
      const acc = a.user ? accountName(a.user) : null;
      const fqdn = (a.host ?? '').split('.');
      // An account of the host itself (WORKSTATION5\wardog) names no domain; the host's DNS
      // suffix does, when it has one.
      const own = acc?.domain && acc.domain !== hostKey(a.host) ? acc.domain : null;
      const domain = own ?? (fqdn.length > 1 ? fqdn[1].toLowerCase() : null);
      if (domain) domains.add(domain);
    }
    const evidence = copies.slice(0, 10).map(evidenceOf);
    if (domains.size === 0) {
      const where = [...new Set(copies.map((a) => a.host ?? '?'))].join(', ');
      add(
        '?\\*',
        `every account of the domain of ${where}`,
        "the AD database was copied: every domain account's password hash left with it; krbtgt twice",
        evidence,
        3,
      );
    }
    for (const d of domains) {
      add(
        `${d}\\krbtgt`,
        `${d.toUpperCase()}\\krbtgt`,
        `the AD database was copied (${copies[0].title} on ${copies[0].host ?? '?'}): reset twice, the second after replication`,
        evidence,
        2,
        'reset twice',
      );
      add(
        `${d}\\*`,
        `${d.toUpperCase()}\\* (every domain account)`,
        "the AD database was copied: every domain account's password hash left with it",
        evidence,
        3,
      );
    }
  }
  return [...out.values()]
    .sort((x, y) => x.order - y.order || (x.account.toLowerCase() < y.account.toLowerCase() ? -1 : 1))
    .map(({ order: _order, ...rest }) => rest);
}
