/**
 * SigmaHQ-style regression cases: a folder holding `info.yml` (the rule ids that must fire, and for
 * each test file the minimum match count) beside the events as EVTX and JSON. Each case is run from
 * every event file it has.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { yaml } from './yaml-parsers.js';

export interface RegressionCase {
  /** The case folder. */
  dir: string;
  ruleIds: string[];
  /** Event files with the matches each must give at least. */
  files: { file: string; minMatches: number }[];
  problem?: string;
}

export function readCase(infoFile: string): RegressionCase {
  const dir = path.dirname(infoFile);
  let info: Record<string, unknown>;
  try {
    info = yaml().parse(readFileSync(infoFile, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    return { dir, ruleIds: [], files: [], problem: `info.yml does not parse: ${(err as Error).message}` };
  }
  const ruleIds = ((info.rule_metadata as { id?: string }[]) ?? [])
    .map((m) => String(m.id ?? ''))
    .filter(Boolean);
  const files: RegressionCase['files'] = [];
  for (const t of (info.regression_tests_info as { path?: string; match_count?: number }[]) ?? []) {
    if (!t.path) continue;
    const base = path.basename(t.path).replace(/\.(evtx|json)$/i, '');
    for (const ext of ['.evtx', '.json']) {
      const f = path.join(dir, base + ext);
      if (existsSync(f)) files.push({ file: f, minMatches: t.match_count ?? 1 });
    }
  }
  return { dir, ruleIds, files };
}
