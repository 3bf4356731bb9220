/**
 * How hunting commands finish: alerts in the chosen format on stdout (sorted, deterministic), a
 * summary on stderr, and the exit status (2 input problems, 1 findings at --fail-on, else 0).
 */
import type { Alert, Level } from '../detect/alert.js';
import { compareAlerts, LEVELS } from '../detect/alert.js';
import { alertsToCsv, alertsToTable } from '../report/alerts.js';
import { EXIT_ERROR, EXIT_FINDINGS, EXIT_OK } from './exit-codes.js';
import { write } from './output.js';

export const ALERT_FORMATS = ['table', 'jsonl', 'json', 'csv'];

export function checkAlertFormat(command: string, format: string, failOn: string | undefined): boolean {
  if (!ALERT_FORMATS.includes(format)) {
    process.stderr.write(
      `lotl ${command}: --format must be one of ${ALERT_FORMATS.join(', ')}, not ${JSON.stringify(format)}\n`,
    );
    return false;
  }
  if (failOn !== undefined && !LEVELS.includes(failOn as Level)) {
    process.stderr.write(`lotl ${command}: --fail-on must be one of ${LEVELS.join(', ')}\n`);
    return false;
  }
  return true;
}

export async function writeAlerts(alerts: Alert[], format: string): Promise<void> {
  alerts.sort(compareAlerts);
  if (format === 'jsonl') await write(alerts.map((a) => `${JSON.stringify(a)}\n`).join(''));
  else if (format === 'json') await write(`${JSON.stringify(alerts, null, 2)}\n`);
  else if (format === 'csv') await write(alertsToCsv(alerts));
  else await write(alertsToTable(alerts, process.stdout.isTTY === true && !process.env.NO_COLOR));
}

export function exitStatus(alerts: Alert[], problems: number, failOn: string | undefined): number {
  if (problems > 0) return EXIT_ERROR;
  if (failOn !== undefined) {
    const min = LEVELS.indexOf(failOn as Level);
    if (alerts.some((a) => LEVELS.indexOf(a.rule.level) >= min)) return EXIT_FINDINGS;
  }
  return EXIT_OK;
}

export function levelCounts(alerts: Alert[]): string {
  return LEVELS.slice()
    .reverse()
    .map((l) => `${l} ${alerts.filter((a) => a.rule.level === l).length}`)
    .join(', ');
}
