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
  if (format === 'jsonl') await writePieces(alerts, (a) => `${JSON.stringify(a)}\n`);
  else if (format === 'json') {
    // The layout of JSON.stringify(alerts, null, 2), written alert by alert.
    if (alerts.length === 0) await write('[]\n');
    else
      await writePieces(
        alerts,
        (a, i) =>
          `${i === 0 ? '[\n' : ',\n'}  ${JSON.stringify(a, null, 2).replace(/\n/g, '\n  ')}${i === alerts.length - 1 ? '\n]\n' : ''}`,
      );
  } else if (format === 'csv') await write(alertsToCsv(alerts));
  else await write(alertsToTable(alerts, process.stdout.isTTY === true && !process.env.NO_COLOR));
}

/**
 * Output in pieces of about a megabyte: a hunt with many alerts never holds its whole output as one
 * string (for SigmaHQ over 250,000 events that string alone was 47 MB at the peak).
 */
async function writePieces(alerts: Alert[], piece: (a: Alert, i: number) => string): Promise<void> {
  let buffer = '';
  for (let i = 0; i < alerts.length; i++) {
    buffer += piece(alerts[i], i);
    if (buffer.length >= 1 << 20) {
      await write(buffer);
      buffer = '';
    }
  }
  if (buffer !== '') await write(buffer);
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
