import type { FieldSource } from '../profile.js';

/**
 * The derived command-line fields of every process-creation source (src/normalize/command-line.ts):
 * rules of the built-in pack match them as well as CommandLine.
 */
export function commandLineDerived(field: string): Record<string, FieldSource> {
  return {
    CommandLineNormalized: { fields: [field], via: 'normalizedCommandLine' },
    CommandLineDecoded: { fields: [field], via: 'decodedCommand' },
  };
}
