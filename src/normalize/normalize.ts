/**
 * Recognises each RawEvent's source profile and gives a lazy view of it under three names: the
 * source's own fields, Sigma's taxonomy and Defender's columns. Nothing is copied per event; a
 * field is computed when asked for.
 */
import type { RawEvent } from '../ingest/raw-event.js';
import type { FieldSource, LogSource, ProfileLogSource, SourceProfile } from './profile.js';
import { ALL_PROFILES } from './profiles/index.js';
import { servicesOfChannel } from './services.js';
import { TRANSFORMS } from './transforms.js';

type Resolver = (view: EventView) => unknown;

export interface CompiledProfile {
  readonly profile: SourceProfile;
  /** Lower-cased Sigma name → resolver. */
  readonly sigma: ReadonlyMap<string, Resolver>;
  /** Sigma names as the profile spells them, for output. */
  readonly sigmaNames: readonly string[];
  /** The Sigma names whose values are computed (transforms, system fields, constants), not a source field's. */
  readonly derivedSigmaNames: readonly string[];
  /**
   * Lower-case names of taxonomy fields computed from the source field of the same name (an access
   * list given its message texts): rules read these, not the source's value.
   */
  readonly overrides: ReadonlySet<string>;
  readonly defenderTable: string | null;
  readonly columns: ReadonlyMap<string, Resolver>;
  readonly columnNames: readonly string[];
  readonly providers: ReadonlySet<string> | null;
  readonly channels: ReadonlySet<string> | null;
  readonly where: readonly [string, ReadonlySet<string>][];
  /** Whether a logsource of the profile holds only for some events (`when`: Sysmon's registry event types). */
  readonly logsourcesVary: boolean;
}

function compileSource(source: FieldSource): Resolver {
  if (typeof source === 'string') return (v) => v.field(source);
  if ('first' in source) {
    const names = source.first;
    return (v) => {
      for (const n of names) {
        const x = v.field(n);
        if (x !== undefined && x !== null && x !== '') return x;
      }
      return undefined;
    };
  }
  if ('fields' in source) {
    const fn = TRANSFORMS[source.via] as (values: unknown[]) => unknown;
    const names = source.fields;
    if (names.length === 1) {
      const only = names[0];
      return (v) => fn([v.field(only)]);
    }
    return (v) => fn(names.map((n) => v.field(n)));
  }
  if ('system' in source) {
    switch (source.system) {
      case 'computer':
        return (v) => v.raw.computer ?? undefined;
      case 'time':
        return (v) => (v.raw.time === null ? undefined : new Date(v.raw.time).toISOString());
      case 'provider':
        return (v) => v.raw.provider ?? undefined;
      case 'channel':
        return (v) => v.raw.channel ?? undefined;
      case 'eventId':
        return (v) => v.raw.eventId ?? undefined;
      case 'recordId':
        return (v) => v.raw.recordId ?? undefined;
    }
  }
  const value = source.const;
  return () => value;
}

function lowerSet(values: string[] | undefined): Set<string> | null {
  return values && values.length > 0 ? new Set(values.map((v) => v.toLowerCase())) : null;
}

export function compileProfile(profile: SourceProfile): CompiledProfile {
  const sigma = new Map<string, Resolver>();
  for (const [name, source] of Object.entries(profile.sigma))
    sigma.set(name.toLowerCase(), compileSource(source));
  const columns = new Map<string, Resolver>();
  for (const [name, source] of Object.entries(profile.defender?.columns ?? {})) {
    columns.set(name.toLowerCase(), compileSource(source));
  }
  return {
    profile,
    sigma,
    sigmaNames: Object.keys(profile.sigma),
    overrides: new Set(
      Object.entries(profile.sigma)
        .filter(
          ([name, source]) =>
            typeof source !== 'string' && 'fields' in source && source.fields.includes(name),
        )
        .map(([name]) => name.toLowerCase()),
    ),
    derivedSigmaNames: Object.entries(profile.sigma)
      .filter(([, source]) => typeof source !== 'string' && !('first' in source))
      .map(([name]) => name),
    defenderTable: profile.defender?.table ?? null,
    logsourcesVary: profile.logsources.some((ls) => ls.when !== undefined),
    columns,
    columnNames: Object.keys(profile.defender?.columns ?? {}),
    providers: lowerSet(profile.match.providers),
    channels: lowerSet(profile.match.channels),
    where: Object.entries(profile.match.where ?? {}).map(([k, vs]) => [
      k,
      new Set(vs.map((x) => x.toLowerCase())),
    ]),
  };
}

/**
 * Finds the profile for an event. The provider is authoritative when the event names one (so an
 * EventID from another provider never borrows Sysmon's meaning, and forwarded events still match);
 * otherwise the channel decides. Profiles without EventIDs (Defender tables, ECS) are tried last.
 */
export class ProfileIndex {
  private readonly byEventId = new Map<number, CompiledProfile[]>();
  private readonly byChannel = new Map<string, CompiledProfile[]>();
  private readonly byFields: CompiledProfile[] = [];
  readonly profiles: readonly CompiledProfile[];

  constructor(profiles: readonly SourceProfile[] = ALL_PROFILES) {
    this.profiles = profiles.map(compileProfile);
    for (const p of this.profiles) {
      const ids = p.profile.match.eventIds;
      if (ids && ids.length > 0) {
        for (const id of ids) {
          const list = this.byEventId.get(id) ?? [];
          list.push(p);
          this.byEventId.set(id, list);
        }
      } else if (p.channels) {
        for (const c of p.channels) {
          const list = this.byChannel.get(c) ?? [];
          list.push(p);
          this.byChannel.set(c, list);
        }
      } else this.byFields.push(p);
    }
  }

  /** Provider and channel names repeat endlessly; lower-case each distinct one once. */
  private readonly lowered = new Map<string, string>();

  private lower(s: string | null): string | null {
    if (s === null) return null;
    let l = this.lowered.get(s);
    if (l === undefined) {
      l = s.toLowerCase();
      if (this.lowered.size < 10_000) this.lowered.set(s, l);
    }
    return l;
  }

  find(view: EventView): CompiledProfile | null {
    const raw = view.raw;
    if (raw.eventId !== null) {
      const candidates = this.byEventId.get(raw.eventId);
      if (candidates) {
        const provider = this.lower(raw.provider);
        const channel = this.lower(raw.channel);
        for (const p of candidates) {
          const identified =
            provider !== null && p.providers
              ? p.providers.has(provider)
              : channel !== null && p.channels
                ? p.channels.has(channel)
                : false;
          if (identified && whereHolds(p, view)) return p;
        }
      }
    }
    if (raw.channel !== null) {
      const candidates = this.byChannel.get(this.lower(raw.channel)!);
      if (candidates) for (const p of candidates) if (whereHolds(p, view)) return p;
    }
    for (const p of this.byFields) if (whereHolds(p, view)) return p;
    return null;
  }
}

function whereHolds(p: CompiledProfile, view: EventView): boolean {
  for (const [field, allowed] of p.where) if (!valueIn(view.field(field), allowed)) return false;
  return true;
}

/** ECS fields such as event.type are arrays: any element counts. */
function valueIn(value: unknown, allowed: ReadonlySet<string>): boolean {
  if (Array.isArray(value)) return value.some((v) => valueIn(v, allowed));
  if (value === undefined || value === null) return false;
  return allowed.has(String(value).toLowerCase());
}

/**
 * Lower-cased field names → the event's own, shared by events with the same fields in the same
 * order (every event of an EVTX template, of a JSON export's schema): a rule asking for a field the
 * event lacks is common, and building this map for each such event cost more than the rule.
 */
const KEY_MAPS = new Map<string, Map<string, string>>();

function lowerKeysOf(data: Record<string, unknown>): Map<string, string> {
  const keys = Object.keys(data);
  const shape = keys.join('\u0000');
  let map = KEY_MAPS.get(shape);
  if (map === undefined) {
    map = new Map();
    for (const k of keys) {
      const lk = k.toLowerCase();
      if (!map.has(lk)) map.set(lk, k);
      // Sigma names fields as the XML details view does, spaces stripped ("Threat Name" → ThreatName).
      if (lk.includes(' ')) {
        const bare = lk.replace(/ /g, '');
        if (!map.has(bare)) map.set(bare, k);
      }
    }
    // Shapes are few; a source whose every event differs gets no help, and no unbounded map.
    if (KEY_MAPS.size >= 4096) KEY_MAPS.clear();
    KEY_MAPS.set(shape, map);
  }
  return map;
}

/** Rules ask for the same few names over and over: each lower-cased once. */
const LOWER_NAMES = new Map<string, string>();

function lowerName(name: string): string {
  let l = LOWER_NAMES.get(name);
  if (l === undefined) {
    l = name.toLowerCase();
    if (LOWER_NAMES.size < 65_536) LOWER_NAMES.set(name, l);
  }
  return l;
}

/**
 * One event seen through its profile. `field` reads the source's own names; `sigma` reads Sigma's
 * taxonomy (profile aliases first, then the source's names); `column` reads Defender's columns.
 * Field names are matched case-insensitively; values are returned as the source has them.
 */
export class EventView {
  profile: CompiledProfile | null = null;
  private lowerKeys: Map<string, string> | null = null;

  constructor(readonly raw: RawEvent) {}

  field(name: string): unknown {
    const data = this.raw.data;
    const direct = data[name];
    if (direct !== undefined) return direct;
    this.lowerKeys ??= lowerKeysOf(data);
    const key = this.lowerKeys.get(lowerName(name));
    return key === undefined ? undefined : data[key];
  }

  sigma(name: string): unknown {
    return this.sigmaLower(name, name.toLowerCase());
  }

  /** `sigma` for callers that already hold the lower-cased name (compiled rules: once, not per event). */
  sigmaLower(name: string, lowerName: string): unknown {
    const resolver = this.profile?.sigma.get(lowerName);
    if (resolver) {
      const v = resolver(this);
      if (v !== undefined) return v;
    }
    return this.field(name);
  }

  /** Whether the taxonomy's `lowerName` replaces the source field of the same name. */
  overrides(lowerName: string): boolean {
    return this.profile?.overrides.has(lowerName) === true;
  }

  /** Whether the taxonomy gives `lowerName` a value of its own (an alias, not the source field). */
  hasAlias(lowerName: string): boolean {
    return this.profile?.sigma.has(lowerName) === true;
  }

  column(name: string): unknown {
    const resolver = this.profile?.columns.get(name.toLowerCase());
    return resolver ? resolver(this) : undefined;
  }

  /**
   * The logsources this event serves: its profile's (conditional ones, like Sysmon 12's
   * registry_add, checked) and the Sigma services its channel belongs to.
   */
  /**
   * Whether the logsources are those of every event of the same profile and channel, so that
   * what depends on them can be looked up by those two (see SigmaEngine).
   */
  logsourcesFollowProfile(): boolean {
    return this.profile === null || !this.profile.logsourcesVary;
  }

  logsources(): LogSource[] {
    const out: LogSource[] = [];
    if (this.profile)
      for (const ls of this.profile.profile.logsources) if (conditionHolds(ls, this)) out.push(stripWhen(ls));
    for (const service of servicesOfChannel(this.raw.channel)) {
      if (!out.some((l) => l.service === service)) out.push({ product: 'windows', service });
    }
    return out;
  }

  /** Every Sigma field the profile defines, with its value (for dump and tests). */
  sigmaFields(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (!this.profile) return out;
    for (const name of this.profile.sigmaNames) {
      const v = this.sigma(name);
      if (v !== undefined) out[name] = v;
    }
    return out;
  }

  /**
   * Every value a rule can look at that is not already a source field's value: the computed Sigma
   * fields (e.g. 4688's DOMAIN\\user), for searches that scan the source values anyway.
   */
  derivedSigmaValues(): unknown[] {
    const out: unknown[] = [];
    if (!this.profile) return out;
    for (const name of this.profile.derivedSigmaNames) {
      const v = this.sigma(name);
      if (v !== undefined) out.push(v);
    }
    return out;
  }

  /** The Defender table row this event stands for, or null when the source has no such view. */
  defenderRow(): { table: string; columns: Record<string, unknown> } | null {
    if (!this.profile || this.profile.defenderTable === null) return null;
    const columns: Record<string, unknown> = {};
    for (const name of this.profile.columnNames) {
      const v = this.column(name);
      if (v !== undefined) columns[name] = v;
    }
    return { table: this.profile.defenderTable, columns };
  }
}

function conditionHolds(ls: ProfileLogSource, view: EventView): boolean {
  if (!ls.when) return true;
  for (const [field, values] of Object.entries(ls.when)) {
    const v = view.field(field);
    if (v === undefined || !values.some((x) => x.toLowerCase() === String(v).toLowerCase())) return false;
  }
  return true;
}

function stripWhen(ls: ProfileLogSource): LogSource {
  const out: LogSource = {};
  if (ls.product) out.product = ls.product;
  if (ls.category) out.category = ls.category;
  if (ls.service) out.service = ls.service;
  return out;
}

const DEFAULT_INDEX = new ProfileIndex();

/**
 * Every taxonomy field name (lower-case) some built-in profile computes from the source field of
 * the same name: rule getters check `overrides` only for these, and read other fields directly.
 */
export const OVERRIDDEN_FIELDS: ReadonlySet<string> = new Set(
  DEFAULT_INDEX.profiles.flatMap((p) => [...p.overrides]),
);

/** Wraps a RawEvent in a view with its profile recognised. */
export function normalize(raw: RawEvent, index: ProfileIndex = DEFAULT_INDEX): EventView {
  const view = new EventView(raw);
  view.profile = index.find(view);
  return view;
}
