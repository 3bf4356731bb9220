/** Parsers for option values: a bad value is a usage error (exit 2) naming the option. */
import { InvalidArgumentError } from 'commander';

/** A whole number from `min` up (`--threads abc`, `--threads 0` and `--top 1.5` are refused). */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(
        `expected a whole number${max === Number.MAX_SAFE_INTEGER ? ` of at least ${min}` : ` from ${min} to ${max}`}, not ${JSON.stringify(value)}`,
      );
    return n;
  };
}

/** A memory size for DuckDB: digits and a unit (`512MB`, `4GB`, `4GiB`). */
export function memorySize(value: string): string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$/i.exec(value);
  if (!m)
    throw new InvalidArgumentError(`expected a size such as 512MB or 4GB, not ${JSON.stringify(value)}`);
  return `${m[1]}${m[2]}`;
}

/** A repeatable option's values, in order (`--sigma a --sigma b`). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
