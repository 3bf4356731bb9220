import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { indicatorsToStix } from '../../src/detect/ioc/export.js';
import { extractIndicators } from '../../src/detect/ioc/extract.js';
import { loadIndicatorText } from '../../src/detect/ioc/loaders.js';
import { FIXTURES, ROOT, runCli } from '../helpers.js';

const SEED = path.resolve(ROOT, '../shared/seeds/000_3de54cb3c0ef0293.txt');
const HAS_SEED = existsSync(SEED);
// The advisory's IOC section, shipped so that these tests run on a fresh clone too.
const EXCERPT = path.join(FIXTURES, 'advisory', 'volt-typhoon-iocs.md');
if (!HAS_SEED) console.warn(`\n*** ${SEED} not found: the whole-advisory extraction test DID NOT RUN. ***\n`);

/** `ioc extract` of an advisory text: its 19 FRP hashes, each once, and every link a reference. */
async function expectTheAdvisoryHashes(file: string, references: number): Promise<void> {
  const { code, stdout, stderr } = await runCli(['ioc', 'extract', '--references', file]);
  expect(code).toBe(0);
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(19);
  expect(new Set(lines).size).toBe(19);
  for (const l of lines) expect(l).toMatch(/^sha256\t[0-9a-f]{64}$/);
  expect(lines[0]).toBe('sha256\tbaeffeb5fdef2f42a752c65c2d2a52e84fb57efc906d981f89dd518c314e231c');
  // Every link is reported as a reference and none became an indicator.
  expect(stderr).toContain(`19 indicators, ${references} references`);
  expect(stdout).not.toMatch(/url|domain/);
}

describe('ioc extract', () => {
  it('yields the 19 SHA-256 hashes of the advisory’s IOC section, each once, its links as references', async () => {
    await expectTheAdvisoryHashes(EXCERPT, 5);
  });

  it.runIf(HAS_SEED)(
    'yields exactly the whole advisory’s 19 SHA-256 hashes, each once, and none of its reference links',
    async () => {
      const advisoryLinks = readFileSync(SEED, 'utf8').match(/https?:\/\/[^\s)\]]+/g) ?? [];
      expect(advisoryLinks.length).toBeGreaterThan(15);
      await expectTheAdvisoryHashes(SEED, 20);
    },
  );

  it('refangs defanged indicators, skips image embeds, front matter and file names that look like domains', () => {
    const text = [
      '---',
      'abbrlink: 72106b6f3c9a43599084e496ae5e7643',
      '---',
      'Payload at hxxps://evil-cdn[.]top/payload.bin, C2 203.0.113[.]77 and 2001:db8::1;',
      'beacons to c2(.)example[.]ru and 10.0.0.0/8. See https://learn.microsoft.com/x and attack.mitre.org.',
      '![[_res_blog/92348dacc21ece6ed56f9f02e86b0c1f_MD5.webp]]',
      'Dropped comsvcs.dll, ntds.dit, script.py and README.md; md5 5f4dcc3b5aa765d61d8327deb882cf99 at 12:54:07.',
    ].join('\n');
    const r = extractIndicators(text, 'inline');
    expect(r.indicators.map((i) => `${i.type} ${i.value}`)).toEqual([
      'url https://evil-cdn.top/payload.bin',
      'domain evil-cdn.top',
      'ipv4 203.0.113.77',
      'ipv6 2001:db8::1',
      'cidr 10.0.0.0/8',
      'domain c2.example.ru',
      'md5 5f4dcc3b5aa765d61d8327deb882cf99',
    ]);
    expect(r.references).toEqual(['attack.mitre.org', 'https://learn.microsoft.com/x']);
  });

  it('reads HTML advisories, taking link targets from href', () => {
    const html =
      '<html><body><p>C2 at <a href="hxxp://bad[.]example[.]top/x">this site</a> &amp; <a href="https://github.com/org/repo">code</a></p></body></html>';
    const r = extractIndicators(html, 'inline.html');
    expect(r.indicators.map((i) => i.value)).toEqual(['http://bad.example.top/x', 'bad.example.top']);
    expect(r.references).toEqual(['https://github.com/org/repo']);
  });

  it('an extra allowlisted domain turns its links into references', () => {
    const r = extractIndicators('see https://vendor.example.top/report', 'x', {
      referenceDomains: ['example.top'],
    });
    expect(r.indicators).toEqual([]);
    expect(r.references).toEqual(['https://vendor.example.top/report']);
  });

  it('writes a STIX 2.1 bundle that loads back to the same indicators', () => {
    const r = extractIndicators(readFileSync(HAS_SEED ? SEED : EXCERPT, 'utf8'), 'seed');
    expect(r.indicators).toHaveLength(19);
    const bundle = indicatorsToStix(r.indicators, '2026-11-23T00:00:00.000Z');
    const back = loadIndicatorText(bundle, 'bundle.json');
    expect(back.problems).toEqual([]);
    expect(back.indicators.map((i) => i.value)).toEqual(r.indicators.map((i) => i.value));
    expect(indicatorsToStix(r.indicators, '2026-11-23T00:00:00.000Z')).toBe(bundle); // deterministic ids
  });
});
