/**
 * A digest of the code of some of this folder's modules. Caches of what that code computed (the
 * needs of compiled rules, built scanners) carry it, so that they are dropped whenever the code
 * changes — a development build keeps its version number, and a stale need would silently skip a
 * rule. Reading a few modules' text costs well under a millisecond, once per process.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const known = new Map<string, string>();

/** The digest of the named modules of this folder (`compile`, `aho-corasick`, …). */
export function codeDigest(modules: readonly string[]): string {
  const key = modules.join(',');
  let digest = known.get(key);
  if (digest === undefined) {
    // The same extension as this module: .js when built, .ts when tests run the sources.
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    const hash = createHash('sha1');
    for (const m of modules) {
      hash.update(m);
      try {
        hash.update(readFileSync(new URL(`./${m}${ext}`, import.meta.url)));
      } catch {
        hash.update('\u0000missing'); // bundled differently: the version alone then decides
      }
    }
    digest = hash.digest('hex').slice(0, 16);
    known.set(key, digest);
  }
  return digest;
}
