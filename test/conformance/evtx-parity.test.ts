/**
 * Field-by-field parity with libevtx's evtxexport (Debian libevtx-utils): for every file it reads,
 * every record's EventRecordID, TimeCreated, EventID, Provider, Channel, Computer and all
 * EventData / UserData name-value pairs must equal ours. The deliberate differences, applied to
 * libevtx's side before comparing, are in docs/formats.md: FILETIMEs keep 7 fractional digits
 * (libevtx pads to 9), and the XML parser we read libevtx's output with normalises line ends.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { RawEvent } from '../../src/ingest/raw-event.js';
import { readFile } from '../../src/ingest/read.js';
import { DATA, filesUnder, HAS_DATA } from '../helpers.js';

const HAS_EVTXEXPORT = (() => {
  try {
    execFileSync('evtxexport', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: '@',
  textNodeName: '#text',
  parseTagValue: false,
  trimValues: false,
  isArray: (n) => n === 'Data',
});

type X = Record<string, unknown>;

function text(v: unknown): string {
  if (v && typeof v === 'object') return String((v as X)['#text'] ?? '');
  return String(v ?? '');
}

/** XML line-end normalisation, and FILETIME fractions without trailing zeros. */
function norm(v: unknown): string {
  return String(v ?? '')
    .replace(/\r\n?/g, '\n')
    .replace(
      /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d*?)0*Z$/,
      (_, a: string, b: string) => `${a}${b === '.' ? '' : b}Z`,
    );
}

function leaves(o: X, out: X = {}): X {
  for (const [k, v] of Object.entries(o)) {
    if (k === '@' || (k === '#text' && String(v).trim() === '')) continue;
    if (v && typeof v === 'object' && Object.keys(v).some((c) => c !== '@' && c !== '#text'))
      leaves(v as X, out);
    else out[k] = text(v);
  }
  return out;
}

describe.runIf(HAS_DATA)('parity with libevtx evtxexport', () => {
  it('evtxexport is installed (.ci/run installs libevtx-utils)', () => {
    expect(HAS_EVTXEXPORT).toBe(true);
  });

  it.runIf(HAS_EVTXEXPORT)(
    'every record libevtx renders has the same header and data fields in lotl',
    async () => {
      const mismatches: string[] = [];
      let records = 0;
      let compared = 0;
      for (const file of filesUnder(DATA, '.evtx')) {
        let out: string;
        try {
          out = execFileSync('evtxexport', ['-f', 'xml', file], {
            encoding: 'utf8',
            maxBuffer: 1 << 28,
            stdio: ['ignore', 'pipe', 'ignore'],
          });
        } catch (err) {
          out = String((err as { stdout?: string }).stdout ?? '');
        }
        const blocks = out.split(/\n(?=<Event xmlns)/).filter((b) => b.startsWith('<Event'));
        if (blocks.length === 0) continue;
        const ours = new Map<string, RawEvent[]>();
        for await (const batch of readFile(file)) {
          for (const it of batch) {
            if (it.kind !== 'event') continue;
            const key = String(it.event.data.EventRecordID);
            ours.set(key, [...(ours.get(key) ?? []), it.event]);
          }
        }
        const rel = path.relative(DATA, file);
        for (const block of blocks) {
          const x = (parser.parse(block) as X).Event as X;
          const sys = x.System as X;
          const rid = text(sys.EventRecordID);
          const list = ours.get(rid) ?? [];
          const e = list.find((c) => c.data.Channel === text(sys.Channel)) ?? list[0];
          records++;
          if (!e) {
            mismatches.push(`${rel} record ${rid}: missing in lotl`);
            continue;
          }
          list.splice(list.indexOf(e), 1);
          const d = e.data;
          const cmp = (name: string, ours: unknown, theirs: unknown) => {
            compared++;
            if (norm(ours) !== norm(theirs)) {
              mismatches.push(
                `${rel} record ${rid} ${name}: lotl ${JSON.stringify(ours)} libevtx ${JSON.stringify(theirs)}`,
              );
            }
          };
          cmp('EventRecordID', d.EventRecordID, rid);
          cmp('TimeCreated', d.TimeCreated_SystemTime, ((sys.TimeCreated as X)?.['@'] as X)?.SystemTime);
          cmp('EventID', d.EventID, text(sys.EventID));
          cmp('Provider', d.Provider_Name, ((sys.Provider as X)?.['@'] as X)?.Name);
          cmp('Channel', d.Channel, text(sys.Channel));
          cmp('Computer', d.Computer, text(sys.Computer));
          const ed = x.EventData as X | undefined;
          if (ed && typeof ed === 'object') {
            for (const item of (ed.Data as X[]) ?? []) {
              const name = (item?.['@'] as X | undefined)?.Name;
              if (typeof name === 'string') cmp(`Data ${name}`, d[name], text(item));
            }
          }
          const ud = x.UserData as X | undefined;
          if (ud && typeof ud === 'object')
            for (const [k, v] of Object.entries(leaves(ud))) cmp(`UserData ${k}`, d[k], v);
        }
      }
      expect(mismatches.slice(0, 20)).toEqual([]);
      expect(records).toBeGreaterThan(16_000);
      expect(compared).toBeGreaterThan(250_000);
    },
  );
});
