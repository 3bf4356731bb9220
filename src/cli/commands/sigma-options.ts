import { readFileSync } from 'node:fs';
import { defaultCacheDir } from '../../detect/sigma/rule-cache.js';
import { yaml } from '../../detect/sigma/yaml-parsers.js';
import { warn } from '../output.js';
import { VERSION } from '../version.js';

/** `--placeholders FILE`: a YAML map of placeholder name → value or list of values. Null on error (reported). */
export function loadPlaceholders(file: string | undefined): Record<string, string[]> | null {
  if (!file) return {};
  try {
    const doc = yaml().parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const out: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(doc ?? {})) out[k] = (Array.isArray(v) ? v : [v]).map(String);
    return out;
  } catch (err) {
    warn(`${file}: ${(err as Error).message}\n`);
    return null;
  }
}

/** Where parsed rule files are cached (LOTL_CACHE_DIR; empty turns the cache off). */
export function ruleCache(): { dir: string; version: string } | undefined {
  const dir = defaultCacheDir();
  return dir === null ? undefined : { dir, version: VERSION };
}
