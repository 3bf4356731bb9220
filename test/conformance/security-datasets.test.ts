import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATA, HAS_DATA, indexRecords, runCli } from '../helpers.js';

describe.runIf(HAS_DATA)('lotl stats over ../shared/data/security-datasets', () => {
  it('reads every JSON and zipped dataset; events per file equal INDEX.csv records', async () => {
    const root = path.join(DATA, 'security-datasets');
    const { code, stdout, stderr } = await runCli(['stats', '--format', 'json', '--per-file', root]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      events: number;
      rejected: number;
      byFile: Record<string, number>;
      problems: unknown[];
      skipped: { file: string; code: string }[];
    };
    expect(report.problems).toEqual([]);
    expect(report.rejected).toBe(0);
    const perArchive = new Map<string, number>();
    for (const [file, n] of Object.entries(report.byFile)) {
      const rel = path.relative(DATA, file.split('!')[0]);
      perArchive.set(rel, (perArchive.get(rel) ?? 0) + n);
    }
    const expected = [...indexRecords()].filter(([p]) => p.startsWith('security-datasets/'));
    expect(expected.length).toBe(24);
    for (const [p, { records }] of expected) expect(perArchive.get(p), p).toBe(records);
    expect(perArchive.size).toBe(24);
    expect(report.events).toBe(expected.reduce((s, [, r]) => s + (r.records ?? 0), 0));
    // The macOS junk member is reported, not counted.
    const macJunk = report.skipped.filter((s) => s.file.includes('__MACOSX'));
    expect(macJunk).toHaveLength(1);
    expect(macJunk[0].code).toBe('SKIPPED_MEMBER');
  });
});
