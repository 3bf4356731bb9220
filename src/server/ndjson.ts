/**
 * A POST /api/ingest body: NDJSON, one event per line in any JSON shape lotl reads (evtx_dump's,
 * Winlogbeat/ECS, Defender and Sentinel rows, flat Windows fields). The batch is all or nothing: the
 * first line that is not valid JSON, or not an event, refuses the whole batch with its place.
 */
import { jsonToRawEvent } from '../ingest/json-events.js';
import type { RawEvent } from '../ingest/raw-event.js';

/** Where a batch went wrong: 1-based line and column, byte offset in the body. */
export class NdjsonError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    readonly offset: number,
  ) {
    super(message);
  }
}

export function parseNdjson(body: Buffer, source: string, maxEvents: number): RawEvent[] {
  const events: RawEvent[] = [];
  let start = 0;
  for (let line = 1; start < body.length; line++) {
    let end = body.indexOf(0x0a, start);
    if (end < 0) end = body.length;
    const text = body.toString('utf8', start, end).replace(/\r$/, '');
    if (text.trim() !== '') {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        // V8 names the character position ("at position 12"): the column, counted from 1.
        const at = /position (\d+)/.exec((err as Error).message);
        const col = at ? Number(at[1]) + 1 : 1;
        const offset = start + Buffer.byteLength(text.slice(0, col - 1));
        throw new NdjsonError(`line ${line}: not valid JSON (${(err as Error).message})`, line, col, offset);
      }
      const raw = jsonToRawEvent(value, { file: source, line, offset: start, container: 'json' });
      if (raw === null)
        throw new NdjsonError(
          `line ${line}: not an event (an object with fields was expected)`,
          line,
          1,
          start,
        );
      if (events.length >= maxEvents)
        throw new NdjsonError(`line ${line}: more than ${maxEvents} events in one batch`, line, 1, start);
      events.push(raw);
    }
    start = end + 1;
  }
  return events;
}
