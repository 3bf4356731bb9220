/**
 * Indicators of compromise: what they are, how their values are recognised and put in canonical
 * form, and the set they are collected in for fast lookup.
 */
import { type Cidr, cidrContains, formatIp, type IpAddress, parseCidr, parseIp } from '../ir/ip.js';

export const INDICATOR_TYPES = [
  'md5',
  'sha1',
  'sha256',
  'ipv4',
  'ipv6',
  'cidr',
  'domain',
  'url',
  'filename',
  'filepath',
] as const;
export type IndicatorType = (typeof INDICATOR_TYPES)[number];

export interface Indicator {
  type: IndicatorType;
  /** Canonical value: hashes and domains lower-case, IPs in canonical text, URLs as written (refanged). */
  value: string;
  /** Where it came from: the file it was loaded or extracted from. */
  source: string;
  description?: string;
  /** 0–100 where the source says (STIX confidence, MISP to_ids → 100); absent when unknown. */
  confidence?: number;
  /** Location in the source (1-based line), for reports. */
  line?: number;
}

/** A problem met while loading indicators, with where it is. */
export interface IocProblem {
  file: string;
  line?: number;
  col?: number;
  /** JSON path for JSON sources (`objects[3].pattern`). */
  path?: string;
  code:
    | 'BAD_HASH'
    | 'BAD_VALUE'
    | 'UNKNOWN_TYPE'
    | 'BAD_JSON'
    | 'BAD_CSV'
    | 'UNSUPPORTED_PATTERN'
    | 'BAD_PATTERN'
    | 'UNREADABLE';
  message: string;
}

/**
 * Top-level domains an indicator may end in (generic, country codes, common new gTLDs), minus the
 * ones that are also everyday file extensions in advisories (.py .pl .sh .ps .md .zip .mov .rs).
 */
export const TLDS = new Set(
  (
    'com net org info biz io co me tv cc ru cn su ua by kz de fr uk nl it es pt pl ch at be se no dk fi ie ' +
    'cz sk hu ro bg gr tr il ir iq sa ae qa kw eg ma ng za ke in pk bd lk np th vn my sg id ph hk tw kr ' +
    'jp au nz ca us mx br ar cl pe ve uy ec bo py tk ml ga cf gq ws top xyz online site club live shop app ' +
    'dev cloud tech store space website link click icu work fun vip cyou buzz monster rest bar pw gov edu mil ' +
    'int eu asia mobi name pro news today world life email host services network digital one win bid loan men ' +
    'date download stream trade review party racing science cricket accountant faith gdn'
  )
    .split(' ')
    .filter((t) => !['py', 'pl', 'sh', 'ps', 'md', 'zip', 'mov', 'rs'].includes(t)),
);

const HEX = /^[0-9a-fA-F]+$/;
const HASH_LENGTHS: Record<number, IndicatorType> = { 32: 'md5', 40: 'sha1', 64: 'sha256' };
const DOMAIN = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}$/i;

/** Undoes the usual defanging: hxxp, [.], (.), {.}, [dot], [:], [at]. */
export function refang(s: string): string {
  return s
    .replace(/\bhxxp(s?)(\[:\]|:)/gi, 'http$1:')
    .replace(/\bfxp(\[:\]|:)/gi, 'ftp:')
    .replace(/\[:\]/g, ':')
    .replace(/\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)/gi, '.')
    .replace(/\[at\]|\(at\)/gi, '@')
    .replace(/\[\/\]/g, '/');
}

/** Guesses the type of a bare value (plain lists without a type column). */
export function classify(raw: string): IndicatorType | null {
  const v = refang(raw.trim());
  if (HEX.test(v) && HASH_LENGTHS[v.length]) return HASH_LENGTHS[v.length];
  if (parseCidr(v)) return 'cidr';
  const ip = parseIp(v);
  if (ip) return ip.version === 4 ? 'ipv4' : 'ipv6';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return 'url';
  // A domain ends in a real top-level domain; `frpc.exe` is a file name.
  if (DOMAIN.test(v) && TLDS.has(v.slice(v.lastIndexOf('.') + 1).toLowerCase())) return 'domain';
  if (/^[a-zA-Z]:\\|^\\\\|^\//.test(v)) return 'filepath';
  if (/^[^\\/:*?"<>|]+\.[a-z0-9]{1,8}$/i.test(v)) return 'filename';
  return null;
}

/** Canonical form of a value of a given type, or an error message. */
export function canonical(type: IndicatorType, raw: string): { value: string } | { error: string } {
  const v = refang(raw.trim());
  switch (type) {
    case 'md5':
    case 'sha1':
    case 'sha256': {
      const want = type === 'md5' ? 32 : type === 'sha1' ? 40 : 64;
      if (!HEX.test(v)) return { error: `${type} must be hexadecimal, got ${JSON.stringify(raw)}` };
      if (v.length !== want) return { error: `${type} must be ${want} hex digits, got ${v.length}` };
      return { value: v.toLowerCase() };
    }
    case 'ipv4':
    case 'ipv6': {
      const ip = parseIp(v);
      if (!ip) return { error: `not an IP address: ${JSON.stringify(raw)}` };
      return { value: formatIp(ip) };
    }
    case 'cidr': {
      const c = parseCidr(v);
      if (!c) {
        const ip = parseIp(v);
        if (ip) return { value: `${formatIp(ip)}/${ip.version === 4 ? 32 : 128}` };
        return { error: `not a CIDR range: ${JSON.stringify(raw)}` };
      }
      return { value: `${formatIp({ version: c.version, value: c.network })}/${c.prefix}` };
    }
    case 'domain': {
      const d = v.toLowerCase().replace(/\.$/, '');
      if (!DOMAIN.test(d)) return { error: `not a domain name: ${JSON.stringify(raw)}` };
      return { value: d };
    }
    case 'url':
      if (!/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(v)) return { error: `not a URL: ${JSON.stringify(raw)}` };
      return { value: v };
    case 'filename':
      if (v === '' || /[\\/]/.test(v)) return { error: `not a file name: ${JSON.stringify(raw)}` };
      return { value: v };
    case 'filepath':
      if (v === '') return { error: 'empty file path' };
      return { value: v };
  }
}

/** The indicators of a hunt, indexed by what they match on. */
export class IndicatorSet {
  readonly all: Indicator[] = [];
  private readonly exact = new Map<string, Indicator[]>();
  private readonly cidrs: { cidr: Cidr; indicator: Indicator }[] = [];
  private readonly domains = new Map<string, Indicator[]>();

  private readonly byKey = new Map<string, Indicator>();

  /** Adds an indicator; the same value from several sources is one indicator naming them all. */
  add(ind: Indicator): void {
    const key = `${ind.type}:${ind.value.toLowerCase()}`;
    const existing = this.byKey.get(key);
    if (existing) {
      if (!existing.source.split(', ').includes(ind.source))
        existing.source = `${existing.source}, ${ind.source}`;
      if (!existing.description && ind.description) existing.description = ind.description;
      if (ind.confidence !== undefined)
        existing.confidence = Math.max(existing.confidence ?? 0, ind.confidence);
      return;
    }
    ind = { ...ind };
    this.byKey.set(key, ind);
    this.all.push(ind);
    if (ind.type === 'cidr') {
      const c = parseCidr(ind.value);
      if (c) this.cidrs.push({ cidr: c, indicator: ind });
      return;
    }
    if (ind.type === 'domain') push(this.domains, ind.value, ind);
    const k = ind.type === 'ipv4' || ind.type === 'ipv6' ? `ip:${ind.value}` : key;
    push(this.exact, k, ind);
  }

  get size(): number {
    return this.all.length;
  }

  has(type: IndicatorType): boolean {
    return this.all.some((i) => i.type === type);
  }

  hash(value: string): Indicator[] {
    const v = value.toLowerCase();
    const type = HASH_LENGTHS[v.length];
    return type ? (this.exact.get(`${type}:${v}`) ?? []) : [];
  }

  ip(value: string): Indicator[] {
    const ip: IpAddress | null = parseIp(value);
    if (!ip) return [];
    const out = [...(this.exact.get(`ip:${formatIp(ip)}`) ?? [])];
    for (const c of this.cidrs) if (cidrContains(c.cidr, ip)) out.push(c.indicator);
    return out;
  }

  /** A domain matches itself and its subdomains (indicator evil.com matches a.evil.com). */
  domain(value: string): Indicator[] {
    let d = value.toLowerCase().replace(/\.$/, '');
    const out: Indicator[] = [];
    for (;;) {
      const hit = this.domains.get(d);
      if (hit) out.push(...hit);
      const dot = d.indexOf('.');
      if (dot < 0) break;
      d = d.slice(dot + 1);
    }
    return out;
  }

  url(value: string): Indicator[] {
    return this.exact.get(`url:${value.toLowerCase()}`) ?? [];
  }

  filename(value: string): Indicator[] {
    return this.exact.get(`filename:${value.toLowerCase()}`) ?? [];
  }

  filepath(value: string): Indicator[] {
    return this.exact.get(`filepath:${value.toLowerCase()}`) ?? [];
  }
}

function push<K, V>(map: Map<K, V[]>, k: K, v: V): void {
  const list = map.get(k);
  if (list) list.push(v);
  else map.set(k, [v]);
}
