/**
 * Matching indicators against events. Which fields can hold which kind of indicator is decided
 * from the field's name (once per name, cached): hash fields (Sysmon `Hashes`, Defender SHA256 /
 * SHA1 / MD5 and their InitiatingProcess forms), address fields (DestinationIp, RemoteIP,
 * IpAddress, DestAddress, ECS *.ip), host and URL fields (DestinationHostname, QueryName,
 * RemoteUrl, ECS url.*), and file fields (Image, TargetFilename, FolderPath, FileName, ...).
 */
import type { EventView } from '../../normalize/normalize.js';
import { type Alert, alertFor, type Level } from '../alert.js';
import type { Indicator, IndicatorSet } from './indicator.js';

export interface IocMatch {
  indicator: Indicator;
  field: string;
  value: string;
}

type FieldKind = 'hash' | 'ip' | 'host' | 'file' | null;

const kinds = new Map<string, FieldKind>();

function kindOf(field: string): FieldKind {
  let k = kinds.get(field);
  if (k !== undefined) return k;
  const f = field.toLowerCase();
  const last = f.slice(Math.max(f.lastIndexOf('.'), f.lastIndexOf('_')) + 1);
  if (/(hashes|hash|sha256|sha1|md5)$/.test(f)) k = 'hash';
  else if (
    /(^|[^a-z])ip$|ip$|ipaddress$|(dest|source|src|dst|remote|local|client|server)address$|^address$/.test(
      last,
    ) &&
    !/mac/.test(f)
  )
    k = 'ip';
  else if (
    /(hostname|queryname|domain|url|fqdn|servername|(^|\.)host\.name)$/.test(f) ||
    f === 'dns.question.name'
  )
    k = 'host';
  else if (
    /(image|imageloaded|filename|targetfilename|folderpath|executable|processname|newprocessname|parentprocessname|application|servicefilename|imagepath|path)$/.test(
      f,
    )
  )
    k = 'file';
  else k = null;
  if (kinds.size < 50_000) kinds.set(field, k);
  return k;
}

const HEX_TOKEN = /[0-9a-fA-F]{32,64}/g;

export function matchEvent(view: EventView, set: IndicatorSet): IocMatch[] {
  const data = view.raw.data;
  const out: IocMatch[] = [];
  const seen = new Set<Indicator>();
  const hit = (list: Indicator[], field: string, value: string) => {
    for (const indicator of list) {
      if (seen.has(indicator)) continue;
      seen.add(indicator);
      out.push({ indicator, field, value });
    }
  };
  for (const field in data) {
    const kind = kindOf(field);
    if (kind === null) continue;
    const raw = data[field];
    if (raw === null || raw === undefined || typeof raw === 'object') continue;
    const value = String(raw);
    if (value === '' || value === '-') continue;
    switch (kind) {
      case 'hash':
        // `SHA1=…,MD5=…,SHA256=…,IMPHASH=…`: an import hash is not a file hash.
        for (const part of value.split(',')) {
          const eq = part.indexOf('=');
          if (eq > 0 && part.slice(0, eq).trim().toUpperCase() === 'IMPHASH') continue;
          for (const m of part.matchAll(HEX_TOKEN))
            if (m[0].length === 32 || m[0].length === 40 || m[0].length === 64)
              hit(set.hash(m[0]), field, m[0]);
        }
        break;
      case 'ip':
        hit(set.ip(value.replace(/^::ffff:/i, '')), field, value);
        break;
      case 'host': {
        let host = value;
        if (value.includes('://')) {
          hit(set.url(value), field, value);
          try {
            host = new URL(value).hostname;
          } catch {
            break;
          }
        }
        hit(set.ip(host.replace(/^\[|\]$/g, '')), field, value);
        hit(set.domain(host), field, value);
        break;
      }
      case 'file': {
        hit(set.filepath(value), field, value);
        const base = value.slice(Math.max(value.lastIndexOf('\\'), value.lastIndexOf('/')) + 1);
        hit(set.filename(base), field, value);
        break;
      }
    }
  }
  return out;
}

/**
 * The rule an indicator stands for in alerts. A file hash or URL identifies the thing itself (high);
 * addresses and domains are shared infrastructure (medium); names alone are weak (low). A source's
 * own confidence below 50 lowers the level to low.
 */
export function indicatorRule(ind: Indicator): Alert['rule'] {
  let level: Level =
    ind.type === 'md5' || ind.type === 'sha1' || ind.type === 'sha256' || ind.type === 'url'
      ? 'high'
      : ind.type === 'filename' || ind.type === 'filepath'
        ? 'low'
        : 'medium';
  if (ind.confidence !== undefined && ind.confidence < 50) level = 'low';
  const source = ind.source.split(/[\\/]/).pop() ?? ind.source;
  return {
    id: `ioc:${ind.type}:${ind.value.toLowerCase()}`,
    title: `IOC ${ind.type} ${ind.value}${ind.description ? ` (${ind.description})` : ''}`,
    level,
    kind: 'ioc',
    author: source,
    techniques: [],
    tactics: [],
  };
}

export function iocAlerts(view: EventView, set: IndicatorSet): Alert[] {
  return matchEvent(view, set).map((m) =>
    alertFor(view, indicatorRule(m.indicator), {
      indicator: {
        type: m.indicator.type,
        value: m.indicator.value,
        source: m.indicator.source,
        ...(m.indicator.description ? { description: m.indicator.description } : {}),
      },
      field: m.field,
      value: m.value,
    }),
  );
}
