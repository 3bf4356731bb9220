/**
 * `lotl report --html FILE`: one self-contained page. The sections are HTML written here
 * (sections.ts); the alert table is the page's own script (web/report/report.js, no library) over
 * the alerts inlined as gzip'd JSON. The Content-Security-Policy allows nothing but that script and
 * that style sheet, by their hashes: no network request, no other script can run, whatever a log
 * holds (docs/report-html.md).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { ReportAlertsBuilder, RuleEntry } from './report-data.js';
import {
  accountsSection,
  alertsSection,
  appendixSection,
  coverageSection,
  headerSection,
  incidentsSection,
  iocSection,
  matrixSection,
  type ReportFacts,
  signinsSection,
  summarySection,
  timelineSection,
} from './sections.js';

const ASSETS = new URL('../../../web/report/', import.meta.url);

let assets: { script: string; style: string } | null = null;
function readAssets(): { script: string; style: string } {
  assets ??= {
    script: readFileSync(new URL('report.js', ASSETS), 'utf8'),
    style: readFileSync(new URL('report.css', ASSETS), 'utf8'),
  };
  return assets;
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The policy for a page whose only script and style are these texts. */
export function contentSecurityPolicy(script: string, style: string): string {
  return [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(style)}`,
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** The sections in page order (each a `<section id>`, the golden tests compare them one by one). */
export function reportSections(facts: ReportFacts, alerts: ReportAlertsBuilder): Record<string, string> {
  const data = alerts.build();
  const rules = new Map<string, RuleEntry>(data.rules.map((r) => [r.id, r]));
  return {
    summary: summarySection(alerts, facts.answers),
    incidents: incidentsSection(facts.answers, rules),
    accounts: accountsSection(facts.answers),
    signins: signinsSection(facts.answers),
    timeline: timelineSection(alerts),
    matrix: matrixSection(alerts, data.rules),
    iocs: iocSection(alerts),
    alerts: alertsSection(alerts.count, alerts.dropped),
    coverage: coverageSection(facts),
    appendix: appendixSection(alerts, data.rules, facts.ruleSources),
  };
}

/** The whole page. */
export function htmlReport(facts: ReportFacts, alerts: ReportAlertsBuilder): string {
  const { script, style } = readAssets();
  // Base64 has no character that can end the script element it sits in.
  const data = gzipSync(JSON.stringify(alerts.build()), { level: 6 }).toString('base64');
  const sections = reportSections(facts, alerts);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(script, style)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lotl report</title>
<style>${style}</style>
</head>
<body>
${headerSection(facts, alerts)}<main>
${Object.values(sections).join('')}</main>
<script type="application/octet-stream" id="lotl-data">${data}</script>
<script>${script}</script>
</body>
</html>
`;
}
