/**
 * The hunt session without the command line: what the CLI prints comes from its handlers, and
 * what it writes from the spool it returns. A report or a server uses the same session.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { loadKqlHunts, loadKqlHuntsApart } from '../../src/detect/kql/hunts.js';
import { SigmaEngine } from '../../src/detect/sigma/engine.js';
import { loadRules } from '../../src/detect/sigma/load.js';
import { BUILTIN, builtinDetectors } from '../../src/hunt/builtin.js';
import { huntHere } from '../../src/hunt/session.js';
import type { InputProblem } from '../../src/ingest/raw-event.js';
import { EXAMPLES, runCli } from '../helpers.js';

describe('hunt session', () => {
  it('returns the alerts the CLI writes, and reports problems and progress through its handlers', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lotl-session-'));
    writeFileSync(path.join(dir, 'broken.jsonl'), '{"EventID": 1, "Computer": "X"\n');
    const problems: InputProblem[] = [];
    let bytes = 0;
    let files = 0;
    const result = await huntHere(
      [EXAMPLES, dir],
      builtinDetectors(),
      {},
      {
        problem: (p) => problems.push(p),
        progress: (total) => {
          expect(total).toBeGreaterThan(0);
          return { add: (n) => (bytes += n), file: () => files++, stop() {} };
        },
      },
    );
    expect(result.events).toBe(297);
    expect(result.problems).toBe(1);
    // Skipped files (the scenario's README) are reported too, and not counted as problems.
    expect(problems.map((p) => [path.basename(p.file), p.line, p.code])).toEqual([
      ['README.md', undefined, 'SKIPPED_FILE'],
      ['broken.jsonl', 1, 'BAD_JSON'],
    ]);
    expect(bytes).toBeGreaterThan(0);
    expect(files).toBeGreaterThan(3);
    const alerts: Alert[] = [];
    for await (const a of result.alerts.sorted()) alerts.push(a);
    // The session raises the detectors' alerts; the correlate stage's own (bursts) come on top.
    const cli = await runCli(['hunt', '--no-kql', '--no-correlate', '--format', 'jsonl', EXAMPLES]);
    const written = cli.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(alerts.map((a) => [a.time, a.rule.id, a.host])).toEqual(
      written.map((a) => [a.time, a.rule.id, a.host]),
    );
  });

  it('hunts on worker threads with the same alerts, correlation rules judged over their matches', async () => {
    // The threads run built code (dist/hunt/worker.js), as the CLI does.
    const { huntOnThreads } = (await import(
      new URL('../../dist/hunt/session.js', import.meta.url).href
    )) as typeof import('../../src/hunt/session.js');
    const setup = { sigma: [BUILTIN.sigma], iocs: [BUILTIN.iocs], placeholders: {}, recover: false };
    const threaded = await huntOnThreads([EXAMPLES], setup, {}, 2);
    expect(threaded).not.toBeNull();
    const here = await huntHere([EXAMPLES], builtinDetectors(), {});
    const texts = async (r: { alerts: { sortedText(): AsyncGenerator<string> } }) => {
      const out: string[] = [];
      for await (const t of r.alerts.sortedText()) out.push(t);
      return out;
    };
    expect(await texts(threaded!)).toEqual(await texts(here));
    expect(threaded!.threads).toBe(2);
    const rules = mkdtempSync(path.join(tmpdir(), 'lotl-session-corr-'));
    writeFileSync(
      path.join(rules, 'c.yml'),
      `title: base\nid: base-1\nname: base\nlogsource:\n  product: windows\ndetection:\n  s:\n    EventID: 1\n  condition: s\n---\ntitle: many\nid: corr-1\ncorrelation:\n  type: event_count\n  rules: [base]\n  group-by: [Computer]\n  timespan: 1h\n  condition:\n    gte: 2\n`,
    );
    // Correlations over the threads' matches: the one stream's alerts (the events of each host's
    // processes are in time order in the examples).
    const withCorrelation = { ...setup, sigma: [rules], iocs: [] };
    const corrThreaded = await huntOnThreads([EXAMPLES], withCorrelation, {}, 2);
    const loaded = loadRules([rules]);
    const corrHere = await huntHere(
      [EXAMPLES],
      [new SigmaEngine(loaded.rules, { correlations: loaded.correlations })],
      {},
    );
    const corrTexts = await texts(corrThreaded);
    expect(corrTexts).toEqual(await texts(corrHere));
    expect(corrTexts.filter((t) => t.includes('"kind":"correlation"')).length).toBeGreaterThan(0);
  });

  it('compiles the KQL hunts on a thread of its own, to the same hunts', async () => {
    const here = loadKqlHunts([BUILTIN.hunts]);
    const apart = await loadKqlHuntsApart([BUILTIN.hunts]);
    expect(apart.hunts.length).toBe(7);
    expect(
      apart.hunts.map((h) => [h.file, h.title, h.compiled.sql, [...h.compiled.rowNeeds.keys()]]),
    ).toEqual(here.hunts.map((h) => [h.file, h.title, h.compiled.sql, [...h.compiled.rowNeeds.keys()]]));
    // A query that does not compile is the same problem either way.
    const dir = mkdtempSync(path.join(tmpdir(), 'lotl-kql-'));
    writeFileSync(path.join(dir, 'bad.kql'), 'SecurityEvent | where NoSuchColumn == 1');
    expect((await loadKqlHuntsApart([dir])).problems).toEqual(loadKqlHunts([dir]).problems);
  });
});
