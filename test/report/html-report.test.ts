/**
 * `lotl report --html`: the page of the scenario, section by section against golden files
 * (test/golden/report-html/; regenerate with `UPDATE_GOLDEN=1 npx vitest run test/report/html-report.test.ts`
 * and read the diff), its Content-Security-Policy, and a page built from hostile logs: nothing in a
 * log becomes markup or script.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers.js';

const GOLDEN = path.join(ROOT, 'test', 'golden', 'report-html');
const portable = (text: string) => text.split(ROOT).join('<repo>');
const SECTIONS = [
  'summary',
  'incidents',
  'accounts',
  'signins',
  'timeline',
  'matrix',
  'iocs',
  'alerts',
  'coverage',
  'appendix',
];

function golden(name: string, actual: string): void {
  const file = path.join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, actual);
  expect(actual, name).toBe(readFileSync(file, 'utf8'));
}

/** Each `<section id>` of a page, by id. */
function sectionsOf(html: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of html.matchAll(/<section id="([a-z]+)">[\s\S]*?<\/section>/g)) out.set(m[1], m[0]);
  return out;
}

/** The alerts a page carries (the gzip'd JSON the script reads). */
function pageData(html: string): {
  rules: { title: string }[];
  details: string[];
  hosts: string[];
  columns: { rule: number[] };
} {
  const base64 = /<script type="application\/octet-stream" id="lotl-data">([^<]*)<\/script>/.exec(html)![1];
  return JSON.parse(gunzipSync(Buffer.from(base64, 'base64')).toString('utf8'));
}

describe('lotl report --html', () => {
  it('writes the scenario as one page, section by section as the golden files, JSON only when asked', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lotl-html-'));
    const file = path.join(dir, 'report.html');
    const r = await runCli(['report', '--no-progress', 'examples/', '--html', file]);
    expect(r.code, r.stderr).toBe(0);
    // The page alone: nothing on stdout unless --format json is given too.
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/HTML report written to .*report\.html \(0\.\d MB, 57 alerts\)/);
    const html = readFileSync(file, 'utf8');
    const sections = sectionsOf(html);
    expect([...sections.keys()]).toEqual(SECTIONS);
    for (const id of SECTIONS) golden(`${id}.html`, `${portable(sections.get(id)!)}\n`);
    // The answers the JSON gives are the ones the page shows.
    expect(sections.get('incidents')).toContain('INC-1');
    expect(sections.get('accounts')).toContain('CONTOSO\\svc-fortinet');
    expect(sections.get('signins')).toContain('203.0.113.77');
    expect(pageData(html).columns.rule).toHaveLength(57);
    const both = await runCli(['report', '--no-progress', 'examples/', '--html', file, '--format', 'json']);
    expect(JSON.parse(both.stdout).incidents[0].id).toBe('INC-1');
    // A rule whose logs are not among the inputs is listed as one that could not apply.
    writeFileSync(
      path.join(dir, 'mac.yml'),
      'title: Mac Rule For Coverage\nid: 7e3c1d5a-0c49-4c3e-9a47-0a1b2c3d4e5f\nlogsource: {product: macos, category: process_creation}\ndetection: {sel: {Image|endswith: /osascript}, condition: sel}\nlevel: high\n',
    );
    await runCli([
      'report',
      '--no-progress',
      'examples/',
      '--html',
      file,
      '--sigma',
      path.join(dir, 'mac.yml'),
    ]);
    const coverage = sectionsOf(readFileSync(file, 'utf8')).get('coverage')!;
    expect(coverage).toContain('No event of their log source (1 Sigma rules)');
    expect(coverage).toContain(
      '<code>macos / process_creation / *</code></td><td>1</td><td>Mac Rule For Coverage',
    );
    const bad = await runCli(['report', '--no-progress', 'examples/', '--format', 'html']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--format must be json');
  });

  it('allows only its own script and style, by hash, and no network at all', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lotl-html-'));
    const file = path.join(dir, 'report.html');
    expect((await runCli(['report', '--no-progress', 'examples/', '--html', file])).code).toBe(0);
    const html = readFileSync(file, 'utf8');
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1];
    expect(csp).toMatch(
      /^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-[A-Za-z0-9+/=]+'; img-src data:; base-uri 'none'; form-action 'none'$/,
    );
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1];
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    const hash = (t: string) => createHash('sha256').update(t).digest('base64');
    expect(csp).toContain(`'sha256-${hash(script)}'`);
    expect(csp).toContain(`'sha256-${hash(style)}'`);
    // No address the page could load: no src, no link, no URL in the style sheet.
    expect(html).not.toMatch(/\ssrc=|<link|<iframe|@import|url\(/i);
  });

  it('a page of hostile logs: every value is text, the page has only its own two scripts', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lotl-html-'));
    const payload = '</script><script>alert(1)</script><img src=x onerror=alert(2)>\u001b[31m"\'&';
    // A Sysmon process creation the pack's ntdsutil rule flags, with markup in every field it shows.
    const event = {
      EventID: 1,
      Channel: 'Microsoft-Windows-Sysmon/Operational',
      Provider_Name: 'Microsoft-Windows-Sysmon',
      Computer: `ws<b>01</b>${payload}`,
      TimeCreated: '2024-01-01T00:00:00Z',
      Image: 'C:\\Windows\\System32\\ntdsutil.exe',
      CommandLine: `ntdsutil "ac i ntds" ifm "create full c:\\temp\\x" q q ${payload}`,
      User: `CONTOSO\\<i>admin</i>${payload}`,
    };
    writeFileSync(path.join(dir, `evil${'<x>'.replace(/[<>]/g, '_')}.jsonl`), `${JSON.stringify(event)}\n`);
    const file = path.join(dir, 'report.html');
    const r = await runCli(['report', '--no-progress', dir, '--html', file]);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(file, 'utf8');
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>01');
    expect(html).not.toContain('\u001b');
    expect(html).toContain('ws&lt;b&gt;01&lt;/b&gt;');
    // The alert table's values are data, kept as they were (the script sets them as text).
    expect(pageData(html).details.some((d) => d.includes('<script>alert(1)</script>'))).toBe(true);
  });
});
