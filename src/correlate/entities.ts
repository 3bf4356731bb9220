/**
 * Hosts and accounts as one entity each, however the sources spell them. Logs name one host
 * `FS02`, `fs02` and `fs02.contoso.local`, and one account `CONTOSO\jdoe`, `contoso.local\JDoe` and
 * `jdoe@contoso.local`; incidents, sign-in baselines and the reset list must see one.
 *
 * Keys are lower-case: a host by its first DNS label, an account by its domain's first label and
 * its name. SIDs are kept as what was seen, not used to merge: sources disagree on them (a 4624's
 * TargetUserSid of a machine account logon is often S-1-5-18), and two names under one SID in a
 * log is evidence to show, not to fold away.
 */

/** The key of a host name: lower-case, its first DNS label (`DC01.contoso.local` → `dc01`). */
export function hostKey(name: string | null | undefined): string | null {
  if (typeof name !== 'string') return null;
  const n = name.trim().replace(/\.$/, '').toLowerCase();
  if (n === '' || n === '-' || n === 'localhost') return null;
  // An address is its own key (a host named only by its IP), not its first octet.
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(n) || n.includes(':')) return n;
  return n.split('.')[0];
}

/** Host names seen under one key: the display name is the longest (the FQDN when one was seen). */
export class HostNames {
  private readonly names = new Map<string, string>();

  /** Records a name; returns its key (null for no host). */
  see(name: string | null | undefined): string | null {
    const key = hostKey(name);
    if (key === null) return null;
    const shown = this.names.get(key);
    const n = String(name).trim().replace(/\.$/, '');
    if (shown === undefined || n.length > shown.length) this.names.set(key, n);
    return key;
  }

  display(key: string): string {
    return this.names.get(key) ?? key;
  }

  /** The key of a host already seen under this name (a sign-in's source workstation), else null. */
  known(name: string): string | null {
    const key = hostKey(name);
    return key !== null && this.names.has(key) ? key : null;
  }
}

export type AccountKind = 'user' | 'machine' | 'system';

export interface AccountName {
  /** `domain\name`, lower-case, domain by its first label (`contoso\jdoe`); `\name` without one. */
  key: string;
  name: string;
  domain: string | null;
  kind: AccountKind;
}

// Principals of the operating system itself: their logons are not anyone's sign-in.
const SYSTEM_NAMES = new Set([
  'system',
  'local service',
  'network service',
  'anonymous logon',
  'localsystem',
  'iusr',
  '-',
]);
const SYSTEM_DOMAINS = new Set(['nt authority', 'font driver host', 'window manager', 'nt service']);

/**
 * An account from a name and a domain as events give them: `DOMAIN\name` or a UPN in `name` is
 * split; the domain is reduced to its first label. Null when there is no name.
 */
export function accountName(nameIn: unknown, domainIn?: unknown): AccountName | null {
  let name = typeof nameIn === 'string' ? nameIn.trim() : '';
  let domain = typeof domainIn === 'string' ? domainIn.trim() : '';
  if (name === '') return null;
  const slash = name.indexOf('\\');
  if (slash >= 0) {
    domain = name.slice(0, slash);
    name = name.slice(slash + 1);
  } else if (name.includes('@')) {
    const at = name.lastIndexOf('@');
    domain = name.slice(at + 1);
    name = name.slice(0, at);
  }
  if (name === '') return null;
  const d = domain === '' || domain === '-' ? null : domain.toLowerCase().split('.')[0];
  const lower = name.toLowerCase();
  const kind: AccountKind =
    SYSTEM_NAMES.has(lower) ||
    (d !== null && SYSTEM_DOMAINS.has(domain.toLowerCase())) ||
    /^(dwm|umfd)-\d+$/.test(lower)
      ? 'system'
      : lower.endsWith('$')
        ? 'machine'
        : 'user';
  return { key: `${d ?? ''}\\${lower}`, name, domain: d, kind };
}

/** Accounts seen under one key: the display spelling is the first seen with a domain. */
export class AccountNames {
  private readonly shown = new Map<string, string>();
  private readonly sids = new Map<string, Set<string>>();

  see(account: AccountName, sid?: unknown): string {
    if (!this.shown.has(account.key) || (account.domain && !this.shown.get(account.key)!.includes('\\')))
      this.shown.set(
        account.key,
        account.domain ? `${account.domain.toUpperCase()}\\${account.name}` : account.name,
      );
    if (typeof sid === 'string' && /^S-1-/i.test(sid)) {
      const set = this.sids.get(account.key) ?? new Set<string>();
      this.sids.set(account.key, set);
      if (set.size < 16) set.add(sid.toUpperCase());
    }
    return account.key;
  }

  /** The spelling to show for a key (`fallback`, else the key, when it was never seen). */
  display(key: string, fallback = key): string {
    return this.shown.get(key) ?? fallback;
  }

  sidsOf(key: string): string[] {
    return [...(this.sids.get(key) ?? [])].sort();
  }
}
