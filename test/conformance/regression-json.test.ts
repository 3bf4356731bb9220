import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_PROFILES } from '../../src/normalize/profiles/index.js';
import { DATA, filesUnder, HAS_DATA, runCli } from '../helpers.js';

/** An independent reading of a regression file: pretty-printed objects each start with "{" alone on a line. */
function sourceEvents(file: string): Record<string, unknown>[] {
  const text = readFileSync(file, 'utf8');
  return text
    .split(/^(?=\{\s*$)/m)
    .filter((b) => b.trim() !== '')
    .map((b) => JSON.parse(b) as { Event: Record<string, unknown> })
    .map((o) => flattenEventData(o.Event));
}

function flattenEventData(event: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const ed = event.EventData as Record<string, unknown> | undefined;
  if (ed) for (const [k, v] of Object.entries(ed)) if (k !== '#attributes') out[k] = v;
  return out;
}

/** Sigma names a profile deliberately takes from another source field (4688's ProcessId, say). */
const renamed = new Map(
  ALL_PROFILES.map((p) => [
    p.id,
    new Set(
      Object.entries(p.sigma)
        .filter(([k, v]) => v !== k)
        .map(([k]) => k),
    ),
  ]),
);

describe.runIf(HAS_DATA)('lotl dump over every regression_data JSON of ../shared/data/sigma', () => {
  it("yields events whose source and Sigma-named fields equal the source's EventData", async () => {
    const files = filesUnder(path.join(DATA, 'sigma', 'regression_data'), '.json');
    expect(files.length).toBeGreaterThanOrEqual(150);
    const { code, stdout, stderr } = await runCli(['dump', ...files]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const dumped = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const byFile = new Map<string, typeof dumped>();
    for (const d of dumped) byFile.set(d.origin.file, [...(byFile.get(d.origin.file) ?? []), d]);
    let compared = 0;
    let comparedSigma = 0;
    for (const file of files) {
      const expected = sourceEvents(file);
      const got = byFile.get(file) ?? [];
      expect(got.length, file).toBe(expected.length);
      expected.forEach((fields, i) => {
        const event = got[i];
        expect(event.origin.format).toBe('evtx-json');
        for (const [k, v] of Object.entries(fields)) {
          expect(event.data[k], `${file} #${i} data.${k}`).toEqual(v);
          compared++;
          if (k in event.sigma && !renamed.get(event.profile)?.has(k)) {
            expect(event.sigma[k], `${file} #${i} sigma.${k}`).toEqual(v);
            comparedSigma++;
          }
        }
      });
    }
    expect(compared).toBeGreaterThan(2000);
    expect(comparedSigma).toBeGreaterThan(1000);
  });
});
