/**
 * The built-in pack (rules/ of the package): our Sigma rules for the advisory and its FRP hashes,
 * as paths for `lotl hunt` and as ready detectors for commands that want the pack's alerts.
 */
import { fileURLToPath } from 'node:url';
import { loadIndicatorSet } from '../detect/ioc/loaders.js';
import { iocAlerts } from '../detect/ioc/match.js';
import { SigmaEngine } from '../detect/sigma/engine.js';
import { loadRules } from '../detect/sigma/load.js';
import type { Detector } from './detectors.js';

export const BUILTIN = {
  sigma: fileURLToPath(new URL('../../rules/sigma', import.meta.url)),
  iocs: fileURLToPath(new URL('../../rules/iocs/volt-typhoon-frp.txt', import.meta.url)),
  hunts: fileURLToPath(new URL('../../rules/hunts', import.meta.url)),
};

/** The pack's Sigma rules (with its correlation rules) and indicators as detectors (`cache`: where parsed rules are kept). */
export function builtinDetectors(cache?: { dir: string; version: string }): Detector[] {
  const rules = loadRules([BUILTIN.sigma], { cache });
  const { set } = loadIndicatorSet([BUILTIN.iocs]);
  return [
    new SigmaEngine(rules.rules, { correlations: rules.correlations }),
    { evaluate: (view) => iocAlerts(view, set) },
  ];
}
