/**
 * The detectors of a hunt, loaded from what can cross to another thread (rule paths, indicator
 * files, placeholders): how hunting threads and the parser threads' hunt stage get the same
 * rules as the main thread, each loading its own copy.
 */

import type { Alert } from '../detect/alert.js';
import { loadIndicatorSet } from '../detect/ioc/loaders.js';
import { iocAlerts } from '../detect/ioc/match.js';
import type { CorrelationRule, CorrelationSignal } from '../detect/sigma/correlation.js';
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
  /** Only Sigma rules with one of these tags or tag prefixes (`--tag attack.t1003`); all when absent. */
  tags?: string[];
  /** Rule ids left out as noisy (rules/noisy-rules.txt, unless `--include-noisy`). */
  noisy?: string[];
}

/** The statuses the Sigma specification names. */
export const SIGMA_STATUSES = ['stable', 'test', 'experimental', 'deprecated', 'unsupported'];

/** What loading the rules reported (shown once, by the main thread). */
export interface DetectorLoad {
  errors: SigmaProblem[];
  summary: string;
  correlations: number;
  /** The correlation rules, for the thread that judges them over the hunting threads' signals. */
  correlationRules: CorrelationRule[];
}

/**
 * The rules asked for: of these statuses (`--status`; a rule without one counts as experimental)
 * and with one of these tags (`--tag`: a tag, or a prefix ending a dot-separated part —
 * `attack.t1003` takes `attack.t1003.001`); all when neither is given. Also a note for the load
 * summary saying how many were left out.
 */
export function selectRules<R extends { id: string; status: string; tags: string[] }>(
  rules: R[],
  setup: Pick<HuntSetup, 'statuses' | 'tags' | 'noisy'>,
): { rules: R[]; note: string } {
  const noisy = new Set(setup.noisy ?? []);
  const quiet = noisy.size > 0 ? rules.filter((r) => !noisy.has(r.id)) : rules;
  const noisyLeft = rules.length - quiet.length;
  const selected = selectByStatusAndTag(quiet, setup);
  const noisyNote = noisyLeft > 0 ? ` (${noisyLeft} noisy rules left out: --include-noisy keeps them)` : '';
  return { rules: selected.rules, note: `${selected.note}${noisyNote}` };
}

function selectByStatusAndTag<R extends { status: string; tags: string[] }>(
  rules: R[],
  setup: Pick<HuntSetup, 'statuses' | 'tags'>,
): { rules: R[]; note: string } {
  const statuses = setup.statuses ? new Set(setup.statuses) : null;
  const tags = setup.tags?.map((t) => t.toLowerCase());
  const tagged = (r: R) =>
    r.tags.some((t) => {
      const tag = t.toLowerCase();
      return tags!.some((x) => tag === x || tag.startsWith(`${x}.`));
    });
  const kept = rules.filter(
    (r) => (!statuses || statuses.has(r.status || 'experimental')) && (!tags || tagged(r)),
  );
  const left = rules.length - kept.length;
  const asked = [
    setup.statuses ? `--status ${setup.statuses.join(',')}` : '',
    setup.tags ? `--tag ${setup.tags.join(',')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return { rules: kept, note: left > 0 ? ` (${left} left out by ${asked})` : '' };
}

/**
 * `signalsOut`: on a hunting thread, where matches of rules that feed correlations go (the main
 * thread judges the correlations); without it, correlations are not run here.
 */
export function loadDetectors(
  setup: HuntSetup,
  signalsOut?: (s: CorrelationSignal) => void,
): { detectors: Detector[]; load: DetectorLoad | null } {
  const detectors: Detector[] = [];
  let load: DetectorLoad | null = null;
  if (setup.sigma.length > 0) {
    const report = loadRules(setup.sigma, { placeholders: setup.placeholders, cache: setup.cache });
    const { rules, note } = selectRules(report.rules, setup);
    detectors.push(
      new SigmaEngine(rules, {
        scannerCache: setup.cache,
        ...(signalsOut ? { correlations: report.correlations, signalsOut } : {}),
      }),
    );
    load = {
      errors: report.problems.filter((p) => p.severity === 'error'),
      summary: `${loadSummary(report)}${note}`,
      correlations: report.correlations.length,
      correlationRules: report.correlations,
    };
  }
  if (setup.iocs.length > 0) {
    const { set } = loadIndicatorSet(setup.iocs);
    detectors.push({ evaluate: (view) => iocAlerts(view, set) });
  }
  return { detectors, load };
}
