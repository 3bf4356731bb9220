/**
 * Pulls indicators out of advisory text (markdown, HTML or plain). Defanged forms are refanged;
 * links to the publisher, documentation, code hosting and standards bodies are references, not
 * indicators (an allowlist the user can extend or replace); image embeds are skipped.
 */
import { parseIp } from '../ir/ip.js';
import { canonical, type Indicator, type IndicatorType, refang, TLDS } from './indicator.js';

/** Sites whose links in an advisory are references: publishers, documentation, standards, news. */
export const DEFAULT_REFERENCE_DOMAINS = [
  // publishers and their documentation
  'microsoft.com',
  'windows.com',
  'azure.com',
  'office.com',
  'live.com',
  'msft.it',
  'google.com',
  'blog.google',
  'mandiant.com',
  'crowdstrike.com',
  'paloaltonetworks.com',
  'fortinet.com',
  'fortiguard.com',
  'sophos.com',
  'trendmicro.com',
  'kaspersky.com',
  'securelist.com',
  'eset.com',
  'welivesecurity.com',
  'talosintelligence.com',
  'cisco.com',
  'broadcom.com',
  'symantec.com',
  'checkpoint.com',
  'sentinelone.com',
  'proofpoint.com',
  'recordedfuture.com',
  'elastic.co',
  // code hosting
  'github.com',
  'githubusercontent.com',
  'gitlab.com',
  'bitbucket.org',
  // standards bodies and government advisories
  'mitre.org',
  'nist.gov',
  'cisa.gov',
  'us-cert.gov',
  'defense.gov',
  'nsa.gov',
  'fbi.gov',
  'ic3.gov',
  'ncsc.gov.uk',
  'cyber.gov.au',
  'cyber.gc.ca',
  'cert.europa.eu',
  'enisa.europa.eu',
  'ietf.org',
  'rfc-editor.org',
  'w3.org',
  'oasis-open.org',
  'first.org',
  'cve.org',
  'iso.org',
  // encyclopaedias, news and social sites that quote advisories
  'wikipedia.org',
  'virustotal.com',
  'darkreading.com',
  'bleepingcomputer.com',
  'securityweek.com',
  'therecord.media',
  'thehackernews.com',
  'nytimes.com',
  'twitter.com',
  'x.com',
  'linkedin.com',
  'youtube.com',
  'shutterstock.com',
];

export interface Extraction {
  indicators: Indicator[];
  /** Links and domains recognised as references (not indicators), for the user to review. */
  references: string[];
}

export interface ExtractOptions {
  referenceDomains?: string[];
  types?: IndicatorType[];
}

function isReference(host: string, domains: string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return domains.some((d) => h === d || h.endsWith(`.${d}`));
}

/** Markdown and HTML to plain text, keeping link targets and code spans; image embeds dropped. */
function toText(input: string): string {
  let t = input;
  if (/<(html|body|p|div|a|table|span)\b/i.test(t)) t = htmlToText(t);
  return (
    t
      // Front matter (--- … ---) is metadata about the page, not content.
      .replace(/^---\r?\n[\s\S]*?\r?\n---\r?\n/, (m) => '\n'.repeat(m.split('\n').length - 1))
      // Image embeds: ![[…]] (Obsidian, also escaped as !\[\[…]]) and ![alt](src).
      .replace(/!\\?\[\\?\[[^\n]*?\]\]/g, ' ')
      .replace(/!\[[^\]\n]*\]\([^)\n]*\)/g, ' ')
  );
}

/**
 * HTML to text in one pass: tags become spaces (line breaks for block ends), links their target,
 * scripts and styles nothing. Written as a scan rather than regexes over the whole page: a page of
 * unclosed `<a href=…` tags made those regexes cubic (32 KB took 6 s, 64 KB 56 s).
 */
function htmlToText(t: string): string {
  const lower = t.toLowerCase();
  const parts: string[] = [];
  // Where the next `</script` / `</style` is, or -1 once there is none left.
  const closes: Record<string, number> = {};
  let i = 0;
  while (i < t.length) {
    const lt = t.indexOf('<', i);
    if (lt < 0) {
      parts.push(t.slice(i));
      break;
    }
    parts.push(t.slice(i, lt));
    const gt = t.indexOf('>', lt + 1);
    if (gt < 0) {
      // An unclosed tag: what follows is text.
      parts.push(' ', t.slice(lt + 1));
      break;
    }
    const tag = t.slice(lt + 1, gt);
    const name = /^\/?([a-z][a-z0-9]*)/i.exec(tag)?.[1]?.toLowerCase() ?? '';
    i = gt + 1;
    if (!tag.startsWith('/') && (name === 'script' || name === 'style')) {
      let close = closes[name];
      if (close === undefined || (close >= 0 && close < gt))
        close = closes[name] = lower.indexOf(`</${name}`, gt);
      if (close >= 0) {
        const end = t.indexOf('>', close);
        i = end < 0 ? t.length : end + 1;
      }
      parts.push(' ');
      continue;
    }
    if (name === 'a' && !tag.startsWith('/')) {
      const href = /\bhref\s*=\s*["']([^"']+)["']/i.exec(tag);
      parts.push(href ? ` ${href[1]} ` : ' ');
    } else if (name === 'br' || (tag.startsWith('/') && /^(p|div|li|tr|h\d)$/.test(name))) parts.push('\n');
    else parts.push(' ');
  }
  return parts
    .join('')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d{1,7});/g, (_, n: string) =>
      Number(n) <= 0x10ffff ? String.fromCodePoint(Number(n)) : ' ',
    );
}

const URL_RE = /\b(?:https?|ftp):\/\/[^\s<>"'`)\]]+/gi;
const HASH_RE = /(?<![0-9a-fA-F_])(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{40}|[0-9a-fA-F]{32})(?![0-9a-fA-F_])/g;
const IPV4_RE = /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?:\/\d{1,2})?(?![\d.]*\d)/g;
const IPV6_RE = /(?<![0-9a-fA-F:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![0-9a-fA-F:])/g;
const DOMAIN_RE = /(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}(?![\w-]|\.[a-z0-9])/gi;

export function extractIndicators(input: string, source: string, options: ExtractOptions = {}): Extraction {
  const domains = options.referenceDomains ?? DEFAULT_REFERENCE_DOMAINS;
  const wanted = options.types ? new Set(options.types) : null;
  const text = refang(toText(input));
  const lines = text.split('\n');
  const found = new Map<string, Indicator>();
  const references = new Set<string>();
  const add = (type: IndicatorType, raw: string, line: number) => {
    if (wanted && !wanted.has(type)) return;
    const c = canonical(type, raw);
    if ('error' in c) return;
    const key = `${type}:${c.value.toLowerCase()}`;
    if (!found.has(key)) found.set(key, { type, value: c.value, source, line });
  };
  lines.forEach((original, i) => {
    const lineNo = i + 1;
    let line = original;
    // URLs first, then blank them so their parts are not read again as domains or IPs.
    line = line.replace(URL_RE, (url) => {
      const clean = url.replace(/[.,;:!?*_]+$/, '');
      let host = '';
      try {
        host = new URL(clean).hostname;
      } catch {
        return ' ';
      }
      if (isReference(host, domains)) references.add(clean);
      else {
        add('url', clean, lineNo);
        const ip = parseIp(host.replace(/^\[|\]$/g, ''));
        if (ip) add(ip.version === 4 ? 'ipv4' : 'ipv6', host.replace(/^\[|\]$/g, ''), lineNo);
        else add('domain', host, lineNo);
      }
      return ' ';
    });
    for (const m of line.matchAll(HASH_RE)) {
      const v = m[0];
      add(v.length === 64 ? 'sha256' : v.length === 40 ? 'sha1' : 'md5', v, lineNo);
    }
    line = line.replace(HASH_RE, ' ');
    for (const m of line.matchAll(IPV4_RE)) {
      const v = m[0];
      if (v.includes('/')) add('cidr', v, lineNo);
      else if (parseIp(v)) add('ipv4', v, lineNo);
    }
    for (const m of line.matchAll(IPV6_RE)) {
      // Needs a hex letter or '::' to tell it from times and ratios (12:54:07).
      if ((m[0].includes('::') || /[a-f]/i.test(m[0])) && parseIp(m[0])) add('ipv6', m[0], lineNo);
    }
    for (const m of line.matchAll(DOMAIN_RE)) {
      const d = m[0].toLowerCase();
      const tld = d.slice(d.lastIndexOf('.') + 1);
      if (!TLDS.has(tld)) continue;
      if (isReference(d, domains)) references.add(d);
      else add('domain', d, lineNo);
    }
  });
  return { indicators: [...found.values()], references: [...references].sort() };
}
