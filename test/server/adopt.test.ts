/**
 * A database `lotl ingest` filled, then served: the server runs its detections over the events it
 * finds there (numbering them in place, storing their alerts and KQL rows), so it holds what
 * `lotl hunt` raises on the same files, and its answers are `lotl report`'s. Stopped and started
 * again, it finds nothing left to detect, and answers the same.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { answersKey, runCli } from '../helpers.js';
import { huntedExamples, type RunningServer, serverAnswers, startServer } from './server-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lotl-serve-adopt-'));
const db = path.join(dir, 'case.duckdb');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function waitFor(what: () => Promise<boolean> | boolean, label: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await what()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`waited in vain: ${label}`);
}

describe('lotl serve on a database lotl ingest filled', () => {
  it('detects the events it finds, once: the alerts of lotl hunt over the same files', async () => {
    const ingest = await runCli(['ingest', '--no-progress', 'examples/', '--db', db]);
    expect(ingest.code, ingest.stderr).toBe(0);
    let server: RunningServer = await startServer(['--db', db]);
    try {
      expect(server.stderr()).toContain(
        '297 of the stored events came from lotl ingest: the detections run over them now',
      );
      await waitFor(
        () => /lotl ingest's 297 events detected: \d+ alerts/.test(server.stderr()),
        'the detection',
      );
      const status = async () =>
        (await (await fetch(`${server.url}/api/status`)).json()) as Record<string, unknown>;
      expect((await status()).events).toBe(297);
      await waitFor(async () => !(await status()).hunting, 'the KQL hunts');
      const served = (await (await fetch(`${server.url}/api/alerts?limit=500`)).json()).alerts as Alert[];
      const bursts = (await (await fetch(`${server.url}/api/incidents`)).json()).correlationAlerts as Alert[];
      const hunted = await huntedExamples();
      const key = (a: Alert) => `${a.rule.id} ${a.time} ${a.host}`;
      expect([...served, ...bursts].map(key).sort()).toEqual(hunted.map(key).sort());
      expect(served.filter((a) => a.rule.kind === 'kql').length).toBeGreaterThan(0);
      // The answers: the correlate stage had the events at start and their alerts as detected.
      const answers = () => serverAnswers(server);
      const report = await runCli(['report', '--no-progress', 'examples/']);
      expect(await answers()).toEqual(answersKey(report.stdout));
      const before = (await status()).alerts;
      await server.stop();
      // Started again: nothing left to detect, nothing detected twice.
      server = await startServer(['--db', db]);
      expect(server.stderr()).not.toContain('came from lotl ingest');
      expect((await status()).alerts).toBe(before);
      expect(await answers()).toEqual(answersKey(report.stdout));
    } finally {
      await server.stop();
    }
  }, 120_000);
});
