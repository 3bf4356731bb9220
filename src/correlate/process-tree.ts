/**
 * Who started whom, from every process creation (Sysmon 1, Security 4688, DeviceProcessEvents),
 * not only the alerting ones: a payload that opens LSASS and the cmd.exe whose children run
 * discovery are one activity even when the cmd.exe itself raised nothing. A process is known by
 * its GUID where the source gives one, else by host and process id (kept with its start time,
 * since Windows reuses ids). Bounded: the oldest processes are forgotten first.
 */
import type { EventView } from '../normalize/normalize.js';
import { hostKey } from './entities.js';

/** The most processes remembered (each about 150 bytes). */
export const MAX_PROCESSES = 200_000;
/** How many generations an alert's ancestry is followed up. */
export const MAX_GENERATIONS = 6;

interface Started {
  parent: string;
  time: number | null;
}

/** `host|guid` or `host|pid:N` keys of an event's process and its parent. */
export function processKeys(view: EventView): {
  guid: string | null;
  pid: string | null;
  parentGuid: string | null;
  parentPid: string | null;
} {
  const host = hostKey(view.raw.computer ?? (view.column('DeviceName') as string | undefined));
  if (host === null) return { guid: null, pid: null, parentGuid: null, parentPid: null };
  // A process access event (Sysmon 10) names the acting process Source….
  const guid = guidText(view.sigma('ProcessGuid') ?? view.sigma('SourceProcessGUID'));
  const parentGuid = guidText(view.sigma('ParentProcessGuid'));
  const pid = numberText(view.sigma('ProcessId') ?? view.sigma('SourceProcessId'));
  const ppid = numberText(view.sigma('ParentProcessId'));
  return {
    guid: guid ? `${host}|${guid}` : null,
    pid: pid ? `${host}|pid:${pid}` : null,
    parentGuid: parentGuid ? `${host}|${parentGuid}` : null,
    parentPid: ppid ? `${host}|pid:${ppid}` : null,
  };
}

export class ProcessTree {
  private readonly started = new Map<string, Started>();
  forgotten = 0;

  /** Takes a process creation (other events are ignored). */
  add(view: EventView): void {
    const creation =
      view.profile?.defenderTable === 'DeviceProcessEvents' &&
      (view.raw.eventId === 1 || view.raw.eventId === 4688 || view.column('ActionType') === 'ProcessCreated');
    if (!creation) return;
    const k = processKeys(view);
    if (k.guid && k.parentGuid) this.remember(k.guid, k.parentGuid, view.raw.time);
    if (k.pid && k.parentPid) this.remember(k.pid, k.parentPid, view.raw.time);
  }

  private remember(child: string, parent: string, time: number | null): void {
    // A reused id starts a new process: the newest entry goes to the back of the queue.
    this.started.delete(child);
    this.started.set(child, { parent, time });
    if (this.started.size > MAX_PROCESSES) {
      const oldest = this.started.keys().next().value as string;
      this.started.delete(oldest);
      this.forgotten++;
    }
  }

  /**
   * The ancestors of a process (its parent's parent and up), nearest first. Id-keyed links hold
   * only when the parent started no later than the child (else the id was reused since).
   */
  ancestors(parent: string | null, time: number | null): string[] {
    const out: string[] = [];
    let key = parent;
    let at = time;
    while (key !== null && out.length < MAX_GENERATIONS) {
      const s = this.started.get(key);
      if (!s) break;
      if (key.includes('|pid:') && at !== null && s.time !== null && s.time > at) break;
      if (out.includes(s.parent)) break; // a loop in hostile data
      out.push(s.parent);
      key = s.parent;
      at = s.time;
    }
    return out;
  }
}

export function guidText(v: unknown): string | null {
  return typeof v === 'string' && /^\{?[0-9a-f-]{36}\}?$/i.test(v)
    ? v.replace(/[{}]/g, '').toLowerCase()
    : null;
}

export function numberText(v: unknown): string | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : Number.NaN;
  return Number.isSafeInteger(n) && n > 0 ? String(n) : null;
}
