/** Writing indicator sets: one a line (`type<TAB>value`), CSV, or a STIX 2.1 bundle. */
import { createHash } from 'node:crypto';
import type { Indicator } from './indicator.js';

export function indicatorsToList(inds: Indicator[]): string {
  return inds.map((i) => `${i.type}\t${i.value}`).join('\n') + (inds.length > 0 ? '\n' : '');
}

function cell(v: unknown): string {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function indicatorsToCsv(inds: Indicator[]): string {
  const rows = inds.map((i) =>
    [i.type, i.value, i.description, i.confidence, i.source, i.line].map(cell).join(','),
  );
  return `${['type,value,description,confidence,source,line', ...rows].join('\n')}\n`;
}

/** STIX path and quoting per indicator type. */
function stixPattern(i: Indicator): string {
  const q = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  switch (i.type) {
    case 'md5':
      return `[file:hashes.MD5 = ${q(i.value)}]`;
    case 'sha1':
      return `[file:hashes.'SHA-1' = ${q(i.value)}]`;
    case 'sha256':
      return `[file:hashes.'SHA-256' = ${q(i.value)}]`;
    case 'ipv4':
    case 'cidr':
      return i.value.includes(':')
        ? `[ipv6-addr:value = ${q(i.value)}]`
        : `[ipv4-addr:value = ${q(i.value)}]`;
    case 'ipv6':
      return `[ipv6-addr:value = ${q(i.value)}]`;
    case 'domain':
      return `[domain-name:value = ${q(i.value)}]`;
    case 'url':
      return `[url:value = ${q(i.value)}]`;
    case 'filename':
      return `[file:name = ${q(i.value)}]`;
    case 'filepath':
      return `[file:name = ${q(i.value.split(/[\\\\/]/).pop() ?? i.value)}]`;
  }
}

/** A deterministic id from content (UUIDv5-like shape), so the same input gives the same bundle. */
function stableId(kind: string, text: string): string {
  const h = createHash('sha256').update(`${kind}:${text}`).digest('hex');
  return `${kind}--${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function indicatorsToStix(inds: Indicator[], created: string): string {
  const objects = inds.map((i) => ({
    type: 'indicator',
    spec_version: '2.1',
    id: stableId('indicator', `${i.type}:${i.value}`),
    created,
    modified: created,
    name: `${i.type} ${i.value}`,
    ...(i.description ? { description: i.description } : {}),
    indicator_types: ['malicious-activity'],
    pattern: stixPattern(i),
    pattern_type: 'stix',
    valid_from: created,
    ...(i.confidence !== undefined ? { confidence: i.confidence } : {}),
  }));
  const bundle = {
    type: 'bundle',
    id: stableId('bundle', inds.map((i) => `${i.type}:${i.value}`).join(',')),
    objects,
  };
  return `${JSON.stringify(bundle, null, 2)}\n`;
}
