/**
 * Turns one parsed JSON object into a RawEvent, whatever the shipper that wrote it: evtx_dump's
 * nested form, flat Security-Datasets/NXLog rows, Winlogbeat and ECS documents, Defender Advanced
 * Hunting and Sentinel rows. The shape is recognised from the object's own keys.
 */
import { DEFENDER_PROVIDER, inferTable, knownTable, looksLikeDefenderRow } from './defender-tables.js';
import type { InputFormat, Origin, RawEvent } from './raw-event.js';
import { parseTimestamp } from './time.js';

export interface JsonContext {
  file: string;
  line?: number;
  offset?: number;
  /** The table named by the file (DeviceProcessEvents.json), for Defender rows that do not say. */
  tableHint?: string | null;
  /** The format the container was sniffed as (CSV rows are classified here too). */
  container?: 'json' | 'csv';
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Returns null when the value is not an event at all (a scalar, an array, an empty object). */
export function jsonToRawEvent(value: unknown, ctx: JsonContext): RawEvent | null {
  if (!isObj(value)) return null;
  const keys = Object.keys(value);
  if (keys.length === 0) return null;
  const event = value.Event;
  if (isObj(event) && (isObj(event.System) || isObj(event.EventData) || isObj(event.UserData))) {
    return fromEvtxJson(event, ctx, 'evtx-json');
  }
  if (isObj(value.System) && (isObj(value.EventData) || isObj(value.UserData))) {
    return fromEvtxJson(value, ctx, 'evtx-json');
  }
  if (isObj(value.winlog) || typeof value['winlog.channel'] === 'string') return fromWinlogbeat(value, ctx);
  const wrapped = defenderWrapper(value);
  if (wrapped) return fromDefender(wrapped.row, wrapped.table, ctx);
  if (hasAny(value, EVENT_ID_KEYS)) return fromFlat(value, ctx);
  const typed = knownTable(value.Type) ?? knownTable(value.$table);
  // A row of a file named after its table (SigninLogs.json) is that table's even when it names
  // no device (Entra ID sign-ins do not).
  if (typed || looksLikeDefenderRow(value) || (ctx.tableHint && 'TimeGenerated' in value))
    return fromDefender(value, typed ?? ctx.tableHint ?? null, ctx);
  if (
    '@timestamp' in value &&
    (isObj(value.event) || isObj(value.process) || isObj(value.host) || 'event.category' in value)
  ) {
    return fromEcs(value, ctx);
  }
  return fromGeneric(value, ctx);
}

function origin(ctx: JsonContext, format: InputFormat): Origin {
  // CSV rows keep the container as their format; for JSON the shape is the more telling name.
  const o: Origin = { file: ctx.file, format: ctx.container === 'csv' ? 'csv' : format };
  if (ctx.line !== undefined) o.line = ctx.line;
  if (ctx.offset !== undefined) o.offset = ctx.offset;
  return o;
}

function hasAny(obj: Obj, keys: readonly string[]): boolean {
  for (const k of keys) if (obj[k] !== undefined) return true;
  return false;
}

function pick(obj: Obj, keys: readonly string[]): unknown {
  for (const k of keys) {
    const v = obj[k];
    if (v !== undefined && v !== null && v !== '') return v;
  }
  return undefined;
}

function str(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v === '' ? null : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function int(v: unknown): number | null {
  if (typeof v === 'number') return Number.isInteger(v) ? v : null;
  if (typeof v === 'string' && /^\s*\d+\s*$/.test(v)) return Number(v);
  return null;
}

// ---- evtx_dump / SigmaHQ regression JSON -------------------------------------------------------

/** Also used by the XML reader, whose parsed elements have the same shape. */
export function fromEvtxJson(event: Obj, ctx: JsonContext, format: InputFormat): RawEvent {
  const data: Obj = {};
  const system = isObj(event.System) ? event.System : {};
  flattenSystem(system, '', data);
  if (isObj(event.EventData)) flattenEventData(event.EventData, data);
  else if (event.EventData !== undefined && event.EventData !== null) data.EventData = event.EventData;
  if (isObj(event.UserData)) flattenUserData(event.UserData, data);
  const rendering = event.RenderingInfo;
  if (isObj(rendering) && rendering.Message !== undefined) data.Message = textOf(rendering.Message);
  return fromWindowsFields(data, ctx, format);
}

/** A RawEvent from flattened Windows event fields (System fields named as fromEvtxJson names them). */
export function fromWindowsFields(data: Obj, ctx: JsonContext, format: InputFormat): RawEvent {
  return {
    time: parseTimestamp(data.TimeCreated_SystemTime ?? data.TimeCreated),
    provider: str(data.Provider_Name),
    channel: str(data.Channel),
    eventId: int(data.EventID),
    computer: str(data.Computer),
    recordId: int(data.EventRecordID),
    data,
    origin: origin(ctx, format),
  };
}

/** `#text` holds an element's text when it also has attributes. */
export function textOf(v: unknown): unknown {
  if (isObj(v) && '#text' in v) return v['#text'];
  return v;
}

/**
 * System: scalar children keep their name; attributes become `Element_Attribute`
 * (Provider_Name, TimeCreated_SystemTime, Execution_ProcessID, Security_UserID), the names Sigma
 * rules and Hayabusa use. EventID's Qualifiers attribute is kept as EventID_Qualifiers.
 */
function flattenSystem(node: Obj, prefix: string, out: Obj): void {
  for (const [key, value] of Object.entries(node)) {
    if (key === '#attributes') {
      if (isObj(value)) for (const [a, av] of Object.entries(value)) out[prefix ? `${prefix}_${a}` : a] = av;
      continue;
    }
    if (key === '#text') {
      if (prefix) out[prefix] = value;
      continue;
    }
    const name = prefix ? `${prefix}_${key}` : key;
    if (isObj(value)) flattenSystem(value, name, out);
    else out[name] = value;
  }
}

/** EventData: named Data elements are fields; unnamed ones keep their list under `Data`. */
function flattenEventData(node: Obj, out: Obj): void {
  for (const [key, value] of Object.entries(node)) {
    if (key === '#attributes') continue;
    if (key === 'Data' && (Array.isArray(value) || isObj(value))) {
      const items = Array.isArray(value) ? value : [value];
      const unnamed: unknown[] = [];
      for (const item of items) {
        if (isObj(item) && isObj(item['#attributes']) && typeof item['#attributes'].Name === 'string') {
          out[item['#attributes'].Name] = item['#text'] ?? ''; // <Data Name="X"/> is empty, not absent
        } else unnamed.push(textOf(item));
      }
      if (unnamed.length > 0) out.Data = unnamed.length === 1 ? unnamed[0] : unnamed;
      continue;
    }
    out[key] = textOf(value);
  }
}

/** UserData wraps its fields in one provider-specific element; the fields are what rules name. */
function flattenUserData(node: Obj, out: Obj): void {
  for (const [key, value] of Object.entries(node)) {
    if (key === '#attributes') continue;
    if (isObj(value) && !('#text' in value)) flattenUserData(value, out);
    else if (!(key in out)) out[key] = textOf(value);
  }
}

// ---- flat rows: Security-Datasets (Mordor), NXLog, Sentinel SecurityEvent ------------------------

const EVENT_ID_KEYS = ['EventID', 'EventId', 'event_id'] as const;
const FLAT_TIME_KEYS = [
  'TimeCreated',
  '@timestamp',
  'TimeGenerated',
  'UtcTime',
  'EventTime',
  'timestamp',
] as const;
const FLAT_HOST_KEYS = [
  'Hostname',
  'Computer',
  'host',
  'ComputerName',
  'computer_name',
  'MachineName',
] as const;
const FLAT_PROVIDER_KEYS = [
  'SourceName',
  'ProviderName',
  'Provider_Name',
  'Provider',
  'EventSourceName',
] as const;

function fromFlat(row: Obj, ctx: JsonContext): RawEvent {
  return {
    time: parseTimestamp(pick(row, FLAT_TIME_KEYS)),
    provider: str(pick(row, FLAT_PROVIDER_KEYS)),
    channel: str(pick(row, ['Channel', 'channel', 'LogName'])),
    eventId: int(pick(row, EVENT_ID_KEYS)),
    computer: str(pick(row, FLAT_HOST_KEYS)),
    recordId: int(pick(row, ['RecordNumber', 'EventRecordID', 'RecordId'])),
    data: row,
    origin: origin(ctx, 'flat-json'),
  };
}

// ---- Winlogbeat / Elastic Agent -----------------------------------------------------------------

function fromWinlogbeat(doc: Obj, ctx: JsonContext): RawEvent {
  const data: Obj = {};
  flattenDotted(doc, '', data);
  // Rules name EventData fields bare (CommandLine, not winlog.event_data.CommandLine).
  for (const [key, value] of Object.entries(data)) {
    for (const prefix of ['winlog.event_data.', 'winlog.user_data.']) {
      if (key.startsWith(prefix)) {
        const bare = key.slice(prefix.length);
        if (!(bare in data)) data[bare] = value;
      }
    }
  }
  const eventId = int(data['winlog.event_id']) ?? int(data['event.code']);
  if (eventId !== null && data.EventID === undefined) data.EventID = eventId;
  const channel = str(data['winlog.channel']);
  if (channel !== null && data.Channel === undefined) data.Channel = channel;
  const provider = str(data['winlog.provider_name']);
  if (provider !== null && data.Provider_Name === undefined) data.Provider_Name = provider;
  const computer = str(data['winlog.computer_name']) ?? str(data['host.name']) ?? str(data['host.hostname']);
  if (computer !== null && data.Computer === undefined) data.Computer = computer;
  return {
    time: parseTimestamp(data['@timestamp'] ?? data['event.created']),
    provider,
    channel,
    eventId,
    computer,
    recordId: int(data['winlog.record_id']),
    data,
    origin: origin(ctx, 'winlogbeat'),
  };
}

/** Nested objects become dotted keys (ECS's own convention); arrays stay values. */
export function flattenDotted(node: Obj, prefix: string, out: Obj): void {
  for (const [key, value] of Object.entries(node)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (isObj(value)) flattenDotted(value, name, out);
    else out[name] = value;
  }
}

// ---- ECS documents without winlog ---------------------------------------------------------------

function fromEcs(doc: Obj, ctx: JsonContext): RawEvent {
  const data: Obj = {};
  flattenDotted(doc, '', data);
  return {
    time: parseTimestamp(data['@timestamp']),
    provider: str(data['event.provider']) ?? str(data['event.module']) ?? 'ecs',
    channel: str(data['event.dataset']),
    eventId: int(data['event.code']),
    computer: str(data['host.name']) ?? str(data['host.hostname']),
    recordId: null,
    data,
    origin: origin(ctx, 'ecs'),
  };
}

// ---- Defender Advanced Hunting / Sentinel -------------------------------------------------------

/** The streaming API and Event Hub exports wrap each row: `{category: "AdvancedHunting-X", properties}`. */
function defenderWrapper(value: Obj): { row: Obj; table: string | null } | null {
  const category = value.category;
  if (typeof category === 'string' && category.startsWith('AdvancedHunting-') && isObj(value.properties)) {
    return { row: value.properties, table: knownTable(category.slice('AdvancedHunting-'.length)) };
  }
  return null;
}

function fromDefender(row: Obj, table: string | null, ctx: JsonContext): RawEvent {
  const name = table ?? inferTable(row) ?? 'DeviceEvents';
  return {
    time: parseTimestamp(pick(row, ['Timestamp', 'TimeGenerated'])),
    provider: DEFENDER_PROVIDER,
    channel: name,
    eventId: null,
    computer: str(pick(row, ['DeviceName', 'Computer'])),
    recordId: int(row.ReportId),
    data: row,
    origin: origin(ctx, 'defender'),
  };
}

// ---- anything else ------------------------------------------------------------------------------

function fromGeneric(obj: Obj, ctx: JsonContext): RawEvent {
  const data: Obj = {};
  flattenDotted(obj, '', data);
  return {
    time: parseTimestamp(pick(data, [...FLAT_TIME_KEYS, 'time', 'date'])),
    provider: null,
    channel: null,
    eventId: null,
    computer: str(pick(data, FLAT_HOST_KEYS)),
    recordId: null,
    data,
    origin: origin(ctx, 'json'),
  };
}
