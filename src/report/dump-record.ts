/**
 * The record `lotl dump` writes per event (documented in docs/formats.md), and the same as a stage
 * that EVTX worker threads run on each chunk, so that normalising and serialising happen on both
 * cores while the main thread only writes.
 */
import type { RawEvent } from '../ingest/raw-event.js';
import { type EventView, normalize } from '../normalize/normalize.js';

export const DUMP_PARTS = ['data', 'sigma', 'defender'];

/**
 * One normalised event as `lotl dump` writes it (documented in docs/formats.md): the header, the
 * profile and logsources it was recognised as, the source's own fields, the Sigma taxonomy view,
 * the Defender table view, and where it came from.
 */
export function dumpRecord(view: EventView, parts: ReadonlySet<string>): Record<string, unknown> {
  const raw = view.raw;
  const out: Record<string, unknown> = {
    time: raw.time === null ? null : new Date(raw.time).toISOString(),
    provider: raw.provider,
    channel: raw.channel,
    eventId: raw.eventId,
    computer: raw.computer,
    recordId: raw.recordId,
    profile: view.profile?.profile.id ?? null,
    logsources: view.logsources(),
  };
  if (parts.has('data')) out.data = raw.data;
  if (parts.has('sigma')) out.sigma = view.sigmaFields();
  if (parts.has('defender')) out.defender = view.defenderRow();
  out.origin = raw.origin;
  return out;
}

/** Worker stage: a chunk's events → their dump lines, one JSON object a line. */
export function dumpLines(events: RawEvent[], options: { parts: string[] }): string {
  const parts = new Set(options.parts);
  let out = '';
  for (const e of events) out += `${JSON.stringify(dumpRecord(normalize(e), parts))}\n`;
  return out;
}
