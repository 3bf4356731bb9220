/**
 * Coverage: per host and channel, across files, the record numbers seen and the gaps between
 * them (a cleared or filtered log), records out of order and seen twice; the scenario has none.
 */
import { describe, expect, it } from 'vitest';
import { Coverage } from '../../src/correlate/coverage.js';
import type { RawEvent } from '../../src/ingest/raw-event.js';
import { normalize } from '../../src/normalize/normalize.js';
import { runCli } from '../helpers.js';

const T0 = Date.UTC(2023, 4, 16, 13, 0, 0);
function record(n: number, file = 'Security.evtx', computer = 'DC01.contoso.local'): RawEvent {
  return {
    time: T0 + n * 1000,
    provider: 'Microsoft-Windows-Security-Auditing',
    channel: 'Security',
    eventId: 4688,
    computer,
    recordId: n,
    origin: { file, format: 'evtx', record: n },
    data: { EventID: 4688 },
  };
}

describe('coverage', () => {
  it('counts the records missing between runs, across the files of one log', () => {
    const c = new Coverage();
    for (const n of [1, 2, 3, 7, 8]) c.event(normalize(record(n, 'a.evtx')));
    for (const n of [4, 5, 20]) c.event(normalize(record(n, 'b.evtx'))); // the same log, exported twice
    c.event(normalize(record(5, 'b.evtx'))); // again: repeated, and lower than 20 in b.evtx
    c.event(normalize(record(1, 'x.evtx', 'WS07.contoso.local')));
    const [dc, ws] = c.streamsSeen();
    expect(dc).toMatchObject({
      host: 'DC01.contoso.local',
      channel: 'Security',
      files: ['a.evtx', 'b.evtx'],
      events: 9,
      firstRecord: 1,
      lastRecord: 20,
      missing: 1 + 11, // 6, and 9..19
      gaps: [
        [5, 7],
        [8, 20],
      ],
      outOfOrder: 1,
      repeated: 1,
      first: new Date(T0 + 1000).toISOString(),
      last: new Date(T0 + 20_000).toISOString(),
    });
    expect(ws).toMatchObject({ host: 'WS07.contoso.local', missing: 0, gaps: [] });
  });

  it('the scenario: every log whole (no gap is reported)', async () => {
    const { stdout, stderr } = await runCli(['report', '--no-progress', 'examples/']);
    const report = JSON.parse(stdout);
    const dc = report.coverage.find(
      (c: { host: string; channel: string }) => c.host === 'DC01.contoso.local' && c.channel === 'Security',
    );
    expect(dc).toMatchObject({ events: 109, firstRecord: 20001, lastRecord: 20109, missing: 0 });
    expect(report.coverage.every((c: { missing: number }) => c.missing === 0)).toBe(true);
    expect(stderr).not.toContain('record numbers skip');
  });
});
