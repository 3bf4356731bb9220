/**
 * The detectors of a hunt, loaded from what can cross to another thread (rule paths, indicator
 * files, placeholders): how hunting threads and the parser threads' hunt stage get the same
 * rules as the main thread, each loading its own copy.
 */

import type { Alert } from '../detect/alert.js';
import { loadIndicatorSet } from '../detect/ioc/loaders.js';
import { iocAlerts } from '../detect/ioc/match.js';
import { SigmaEngine } from '../detect/sigma/engine.js';
import { loadRules, loadSummary, type SigmaProblem } from '../detect/sigma/load.js';
import type { EventView } from '../normalize/normalize.js';

/** What a hunt runs on each event: Sigma rules, indicators, the pack. */
export interface Detector {
  evaluate(view: EventView): Alert[];
  /** Alerts that only the end of input completes (correlation windows). */
  flush?(): Alert[];
  /** Bounds reached while hunting, as sentences for the user. */
  limits?(): string[];
}

export interface HuntSetup {
  sigma: string[];
  iocs: string[];
  placeholders: Record<string, string[]>;
  recover: boolean;
  /** Where parsed rule files and scanners are cached (none: no cache). */
  cache?: { dir: string; version: string };
  /** Only Sigma rules of these statuses (`--status`); all when absent. */
  statuses?: string[];
}

/** The statuses the Sigma specification names. */
export const SIGMA_STATUSES = ['stable', 'test', 'experimental', 'deprecated', 'unsupported'];

/** What loading the rules reported (shown once, by the main thread). */
export interface DetectorLoad {
  errors: SigmaProblem[];
  summary: string;
  correlations: number;
}

/**
 * The rules of the statuses asked for (`--status`; all when none), and a note for the load
 * summary saying how many were left out. A rule without a status counts as experimental.
 */
export function withStatus<R extends { status: string }>(
  rules: R[],
  statuses: string[] | undefined,
): { rules: R[]; note: string } {
  if (!statuses) return { rules, note: '' };
  const wanted = new Set(statuses);
  const kept = rules.filter((r) => wanted.has(r.status || 'experimental'));
  const left = rules.length - kept.length;
  return {
    rules: kept,
    note: left > 0 ? ` (${left} of other statuses left out: --status ${statuses.join(',')})` : '',
  };
}

export function loadDetectors(setup: HuntSetup): { detectors: Detector[]; load: DetectorLoad | null } {
  const detectors: Detector[] = [];
  let load: DetectorLoad | null = null;
  if (setup.sigma.length > 0) {
    const report = loadRules(setup.sigma, { placeholders: setup.placeholders, cache: setup.cache });
    const { rules, note } = withStatus(report.rules, setup.statuses);
    detectors.push(new SigmaEngine(rules, { scannerCache: setup.cache }));
    load = {
      errors: report.problems.filter((p) => p.severity === 'error'),
      summary: `${loadSummary(report)}${note}`,
      correlations: report.correlations.length,
    };
  }
  if (setup.iocs.length > 0) {
    const { set } = loadIndicatorSet(setup.iocs);
    detectors.push({ evaluate: (view) => iocAlerts(view, set) });
  }
  return { detectors, load };
}
