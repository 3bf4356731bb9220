/**
 * The shipped list of noisy Sigma rules (rules/noisy-rules.txt): rules that fire on Windows' own
 * routine activity, left out of hunts unless `--include-noisy` (as Hayabusa's noisy_rules.txt).
 * Each line of the file gives its evidence.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const NOISY_RULES_FILE = fileURLToPath(new URL('../../rules/noisy-rules.txt', import.meta.url));

/** The rule ids of the list (text after `#` is a comment). */
export function noisyRuleIds(file = NOISY_RULES_FILE): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((id) => id !== '');
}
