/**
 * IPv4 / IPv6 addresses and CIDR ranges as bigints, for indicator matching (and Sigma's cidr
 * modifier). Parsing is strict: a value that is not an address returns null rather than a guess.
 */
export interface IpAddress {
  version: 4 | 6;
  value: bigint;
}

export interface Cidr {
  version: 4 | 6;
  network: bigint;
  prefix: number;
}

export function parseIPv4(s: string): bigint | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255 || (p.length > 1 && p[0] === '0')) return null;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

export function parseIPv6(input: string): bigint | null {
  let s = input;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return null;
  // An embedded IPv4 tail (::ffff:1.2.3.4) is two groups.
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  let tailGroups: string[] = [];
  if (tail.includes('.')) {
    const v4 = parseIPv4(tail);
    if (v4 === null) return null;
    tailGroups = [((v4 >> 16n) & 0xffffn).toString(16), (v4 & 0xffffn).toString(16)];
    s = `${s.slice(0, lastColon + 1)}${tailGroups.join(':')}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const rest = halves.length === 2 ? (halves[1] === '' ? [] : halves[1].split(':')) : [];
  const missing = 8 - head.length - rest.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0 || (halves.length === 2 && missing < 1))
    return null;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  if (groups.length !== 8) return null;
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    v = (v << 16n) | BigInt(Number.parseInt(g, 16));
  }
  return v;
}

export function parseIp(s: string): IpAddress | null {
  const t = s.trim();
  const v4 = parseIPv4(t);
  if (v4 !== null) return { version: 4, value: v4 };
  const v6 = parseIPv6(t);
  if (v6 === null) return null;
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) is that IPv4 address.
  if (v6 >> 32n === 0xffffn) return { version: 4, value: v6 & 0xffffffffn };
  return { version: 6, value: v6 };
}

export function parseCidr(s: string): Cidr | null {
  const t = s.trim();
  const slash = t.indexOf('/');
  if (slash < 0) return null;
  const ip = parseIp(t.slice(0, slash));
  const prefixText = t.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  const bits = ip.version === 4 ? 32 : 128;
  if (prefix > bits) return null;
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return { version: ip.version, network: ip.value & mask, prefix };
}

/**
 * An address as text that sorts as the address does within its version: the version's digit, then
 * the value in fixed-width hex (8 digits for IPv4, 32 for IPv6). A range is then the keys between
 * its first and last address (rangeKeys): SQL compares two texts instead of parsing per range.
 */
export function addressKey(ip: IpAddress): string {
  return `${ip.version}${ip.value.toString(16).padStart(ip.version === 4 ? 8 : 32, '0')}`;
}

/** The first and last address key of a range (see addressKey). */
export function rangeKeys(c: Cidr): [string, string] {
  const bits = c.version === 4 ? 32 : 128;
  const host = (1n << BigInt(bits - c.prefix)) - 1n;
  return [
    addressKey({ version: c.version, value: c.network }),
    addressKey({ version: c.version, value: c.network | host }),
  ];
}

export function cidrContains(c: Cidr, ip: IpAddress): boolean {
  if (c.version !== ip.version) return false;
  const bits = c.version === 4 ? 32 : 128;
  const mask = c.prefix === 0 ? 0n : ((1n << BigInt(c.prefix)) - 1n) << BigInt(bits - c.prefix);
  return (ip.value & mask) === c.network;
}

/** Canonical text: dotted IPv4, compressed lower-case IPv6 (RFC 5952). */
export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) {
    const v = ip.value;
    return [24n, 16n, 8n, 0n].map((s) => ((v >> s) & 0xffn).toString()).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // Compress the longest run of two or more zero groups.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
