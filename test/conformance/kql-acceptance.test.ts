/**
 * The advisory's seven hunting queries (../shared/kql/acceptance.jsonl), verbatim, on the shared
 * samples: all run; their rows are exactly those an independent check finds among the loaded
 * events (a plain term-matching filter written here, over a broad projection of the table).
 * The samples hold ntdsutil IFM and netsh portproxy commands but none with the advisory's exact
 * terms ("pro", "wmic process call create"), so the blog queries find nothing there and the
 * Sentinel ones (without those terms) find the domain controllers' IFM commands.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadedStore, loadStore } from '../../src/cli/load-store.js';
import { bindKql } from '../../src/detect/kql/frontend.js';
import { compileKql } from '../../src/detect/kql/to-sql.js';
import { DATA, HAS_DATA } from '../helpers.js';

const ACCEPTANCE = path.join(DATA, '..', 'kql', 'acceptance.jsonl');
const HAS_ACCEPTANCE = HAS_DATA && existsSync(ACCEPTANCE);
if (!HAS_ACCEPTANCE)
  console.warn(`\n*** ${ACCEPTANCE} not found: the KQL acceptance queries DID NOT RUN. ***\n`);

const queries = HAS_ACCEPTANCE
  ? readFileSync(ACCEPTANCE, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; name: string; query: string })
  : [];
const byName = (part: string) => queries.find((q) => q.name.includes(part))!.query;

/** Kusto's `has`, written independently: the needle at term edges, ignoring case. */
function has(text: string, needle: string): boolean {
  const t = text.toLowerCase();
  const n = needle.toLowerCase();
  const word = /[a-z0-9]/;
  for (let i = t.indexOf(n); i >= 0; i = t.indexOf(n, i + 1)) {
    const before = i === 0 || !word.test(t[i - 1]) || !word.test(n[0]);
    const after = i + n.length === t.length || !word.test(t[i + n.length]) || !word.test(n[n.length - 1]);
    if (before && after) return true;
  }
  return false;
}
const hasAll = (text: string, needles: string[]) => needles.every((n) => has(text, n));

describe.skipIf(!HAS_ACCEPTANCE)("the advisory's hunting queries on the shared samples", () => {
  let loaded: LoadedStore;
  const run = async (query: string) => {
    const bound = bindKql(query);
    expect(bound.problems.filter((p) => p.severity === 'error')).toEqual([]);
    return loaded.store.kql(compileKql(bound));
  };

  beforeAll(async () => {
    loaded = await loadStore([DATA], { alerts: true });
  }, 120_000);
  afterAll(() => loaded?.store.close());

  it('all seven parse, bind and run', async () => {
    expect(queries).toHaveLength(7);
    for (const q of queries) await run(q.query);
  });

  it('domain controller installation media: the blog query and the Sentinel one', async () => {
    const processes = await run('DeviceProcessEvents | project DeviceName, ProcessCommandLine, Timestamp');
    const blog = await run(byName('domain controller installation media'));
    const expectedBlog = processes.filter((r) =>
      hasAll(String(r.ProcessCommandLine), ['ntdsutil', 'create full', 'pro']),
    );
    expect(blog).toHaveLength(expectedBlog.length);
    // The behaviour is in the samples, without the advisory's "pro" term.
    expect(
      processes.filter((r) => hasAll(String(r.ProcessCommandLine), ['ntdsutil', 'create full'])).length,
    ).toBeGreaterThanOrEqual(4);

    const security = await run(
      'SecurityEvent | where EventID == 4688 | project Computer, CommandLine, TimeGenerated',
    );
    const sentinel = await run(byName('Domain controller installation media creation'));
    const expected = security.filter((r) =>
      hasAll(String(r.CommandLine), ['ntdsutil', 'ac i ntds', 'create full']),
    );
    expect(sentinel.map((r) => `${r.Computer} ${r.TimeGenerated}`).sort()).toEqual(
      expected.map((r) => `${r.Computer} ${r.TimeGenerated}`).sort(),
    );
    expect(sentinel.map((r) => r.Computer).sort()).toEqual(['DC01.pandalab.com', 'rootdc1.offsec.lan']);
  });

  it('internal proxies: only netsh portproxy started through wmic process call create', async () => {
    const processes = await run('DeviceProcessEvents | project ProcessCommandLine');
    const terms = ['portproxy', 'netsh', 'wmic', 'process call create', 'v4tov4'];
    const blog = await run(byName('Find commands establishing internal proxies'));
    expect(blog).toHaveLength(processes.filter((r) => hasAll(String(r.ProcessCommandLine), terms)).length);
    expect(
      processes.filter((r) => hasAll(String(r.ProcessCommandLine), ['netsh', 'portproxy', 'v4tov4'])).length,
    ).toBeGreaterThan(0);
    const sentinel = await run(byName('Establishing internal proxies'));
    expect(sentinel).toHaveLength(0);
  });

  it('suspected LSASS dump and Impacket execution match exactly what the terms select', async () => {
    const security = await run('SecurityEvent | where EventID == 4688 | project CommandLine');
    const lsass = await run(byName('Suspected LSASS Dump'));
    const expected = security.filter(
      (r) =>
        hasAll(String(r.CommandLine), ['procdump', 'lsass']) ||
        hasAll(String(r.CommandLine), ['rundll32', 'comsvcs', 'MiniDump']),
    );
    expect(lsass.length).toBeGreaterThan(0);
    expect(lsass).toHaveLength(expected.length);

    const shares = await run('SecurityEvent | where EventID == 5145 | project RelativeTargetName, ShareName');
    const impacket = await run(byName('Potential Impacket Execution'));
    const expectedShares = shares.filter(
      (r) =>
        has(String(r.RelativeTargetName), 'SYSTEM32') &&
        String(r.RelativeTargetName).toLowerCase().endsWith('.tmp') &&
        has(String(r.ShareName), '\\\\*\\ADMIN$'),
    );
    expect(impacket.length).toBeGreaterThan(0);
    expect(impacket).toHaveLength(expectedShares.length);
    // The Sentinel enrichment: the account split at the backslash, the host at its first dot.
    for (const r of impacket) expect(String(r.HostName)).not.toContain('.');
  });

  it('custom FRP executables: hash hits of the built-in pack in AlertEvidence (none in the samples)', async () => {
    const frp = await run(byName('custom FRP executables'));
    expect(frp).toEqual([]);
  });
});
