/**
 * The event model every reader yields (DESIGN.md section 3). `data` keeps the source's own field
 * names: EventData/UserData flattened, System fields included, ECS documents flattened to dotted keys.
 */
export type InputFormat =
  | 'evtx'
  | 'evtx-json' // evtx_dump / SigmaHQ regression style: Event.System, Event.EventData, #attributes
  | 'flat-json' // Security-Datasets (Mordor) / NXLog style: one flat object per event
  | 'winlogbeat' // Winlogbeat / Elastic Agent: winlog.* plus ECS
  | 'ecs' // ECS documents without winlog (Elastic Endpoint, Sysmon-for-Linux shippers, ...)
  | 'defender' // Microsoft Defender Advanced Hunting / Sentinel rows
  | 'windows-xml' // wevtutil / Event Viewer XML export
  | 'csv' // CSV with a header row (Defender portal export, flat event exports)
  | 'json'; // a JSON object of no known shape: kept whole, fields still queryable

export interface Origin {
  /** The file the event came from; for archives `archive.zip!member.json`. */
  file: string;
  format: InputFormat;
  /** 1-based line where the event starts (text formats). */
  line?: number;
  /** Byte offset of the record (binary formats). */
  offset?: number;
  /** EVTX record number within the file, for binary formats. */
  record?: number;
}

export interface RawEvent {
  /** UTC instant in milliseconds since the epoch; null when the source has no usable timestamp. */
  time: number | null;
  provider: string | null;
  /** The Windows channel, or for Defender / Sentinel rows the table name. */
  channel: string | null;
  eventId: number | null;
  computer: string | null;
  recordId: number | null;
  data: Record<string, unknown>;
  origin: Origin;
}

/** Something in the input that could not be read. Readers report these and carry on. */
export interface InputProblem {
  file: string;
  line?: number;
  offset?: number;
  /** Machine-readable code, stable across releases (see docs/formats.md). */
  code: ProblemCode;
  message: string;
  /** How many events (or would-be events) this problem cost; 0 for problems that lose nothing. */
  rejected: number;
}

export type ProblemCode =
  | 'UNREADABLE' // the file or directory cannot be opened or read
  | 'UNKNOWN_FORMAT' // content matches no format we read
  | 'BAD_JSON' // a JSON value that does not parse
  | 'BAD_XML' // an <Event> element that does not parse
  | 'BAD_CSV' // a CSV record that does not parse
  | 'BAD_EVTX' // damage in an EVTX file: header, chunk or record (offset given)
  | 'BAD_ARCHIVE' // a zip or gzip that is truncated or corrupt
  | 'NOT_AN_EVENT' // a well-formed value that is not an event (a number, a string, an empty object)
  | 'CUT_VALUE' // a value nested too deep was cut; the event is kept
  | 'SKIPPED_MEMBER' // an archive member that is not log data (e.g. macOS __MACOSX resource forks)
  | 'SKIPPED_FILE'; // a file found while walking a directory that is not log data (README, YAML, ...)

/** A file or archive member that is not log data: listed, and not an error. */
export function isSkipped(p: InputProblem): boolean {
  return p.code === 'SKIPPED_FILE' || p.code === 'SKIPPED_MEMBER';
}

/**
 * Readers yield events and problems interleaved, in input order. A reader asked to run a stage
 * on its worker threads (see EvtxReadOptions.stage) yields that stage's output for a batch of
 * events instead of the events themselves.
 */
export type ReadItem =
  | { kind: 'event'; event: RawEvent }
  | { kind: 'problem'; problem: InputProblem }
  | { kind: 'staged'; value: string; events: number };

/**
 * A per-event stage to run where the events are parsed (on worker threads for EVTX): a module's
 * exported function `(events, options) => string`, named by URL so threads can load it.
 */
export interface Stage {
  module: string;
  name: string;
  options?: unknown;
}
