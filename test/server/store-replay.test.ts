/**
 * The server's DuckDB store gives back what it holds, for the correlate stage at start: every event
 * once, each with the alerts stored with it, read a chunk at a time (chunks of 7 here, so the
 * 28 Sysmon events of the scenario cross chunk edges), then the events `lotl ingest` stored in the
 * same file (counted as not yet detected), then the alerts raised on no event.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { SigmaEngine } from '../../src/detect/sigma/engine.js';
import { loadRules } from '../../src/detect/sigma/load.js';
import { BUILTIN } from '../../src/hunt/builtin.js';
import { normalize } from '../../src/normalize/normalize.js';
import { LiveDetection } from '../../src/server/live.js';
import { DuckDbServerStore } from '../../src/server/store.js';
import { DEFAULT_QUERY_LIMITS } from '../../src/store/duckdb.js';
import { EventTable } from '../../src/store/event-table.js';
import { EXAMPLES, readAllItems } from '../helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lotl-store-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the server store’s replay', () => {
  it('gives every event once with its alerts, across chunks, then lotl ingest’s events, then loose alerts', async () => {
    const file = path.join(dir, 'replay.duckdb');
    // What `lotl ingest` stores first: the week of Security events, with no detection.
    const ingested = await EventTable.open(file);
    await ingested.ingest([path.join(EXAMPLES, 'security-week.jsonl')]);
    ingested.close();

    const stage = mkdtempSync(path.join(dir, 'stage-'));
    const store = await DuckDbServerStore.open(file, DEFAULT_QUERY_LIMITS, stage);
    try {
      expect(await store.undetected()).toBe(246);
      const pack = loadRules([BUILTIN.sigma]);
      const live = new LiveDetection([new SigmaEngine(pack.rules)]);
      const { events: raw } = await readAllItems([path.join(EXAMPLES, 'sysmon-fs02-ws07.jsonl')]);
      const views = raw.map((e) => normalize({ ...e, origin: { ...e.origin, file: 'sysmon.jsonl' } }));
      // Three batches; the last one's alerts also stored once more on no event (as a KQL hunt's are).
      const want = new Map<number, string[]>();
      for (const [b, part] of [views.slice(0, 10), views.slice(10, 20), views.slice(20)].entries()) {
        const { alerts } = live.detect(part);
        for (const { alert, event } of alerts) {
          const line = part[event!].raw.origin.line!;
          want.set(line, [...(want.get(line) ?? []), alert.rule.id].sort());
        }
        const extra = b === 2 ? [{ alert: alerts[0].alert, event: null }] : [];
        expect(
          (await store.commit({ id: `b${b}`, source: 's', views: part, alerts: [...alerts, ...extra] }))
            .stored,
        ).toBe(true);
      }
      const items = [];
      for await (const item of store.replay(7)) items.push(item);
      const events = items.filter((i) => i.event !== null);
      expect(events).toHaveLength(28 + 246);
      const got = new Map<number, string[]>();
      for (const { event, alerts } of events)
        if (event?.origin.file === 'sysmon.jsonl' && alerts.length > 0)
          got.set(event.origin.line!, alerts.map((a: Alert) => a.rule.id).sort());
      expect(got).toEqual(want);
      expect(want.size).toBeGreaterThan(10);
      // lotl ingest's events come too, with no alerts.
      expect(events.filter((i) => i.event?.origin.file.endsWith('security-week.jsonl'))).toHaveLength(246);
      const loose = items.filter((i) => i.event === null);
      expect(loose).toHaveLength(1);
      expect(loose[0].alerts).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});
