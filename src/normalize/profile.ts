/**
 * Source profiles: data that recognises a kind of event (Sysmon 1, Security 4688, a
 * DeviceProcessEvents row, an ECS process document) and says how to read it under two vocabularies:
 * Sigma's field names and the Defender Advanced Hunting columns. One detection then runs on every
 * source that carries the data. Profiles are tables; the only code is the small, named value
 * transforms in transforms.ts.
 */
import type { TransformName } from './transforms.js';

export interface LogSource {
  product?: string;
  category?: string;
  service?: string;
}

/** A logsource that applies only when fields hold given values (Sysmon 12 is registry_add for CreateKey). */
export interface ProfileLogSource extends LogSource {
  when?: Record<string, string[]>;
}

/**
 * Where a field's value comes from:
 * - `'Name'`: the source field of that name (names are matched case-insensitively);
 * - `{ first: [...] }`: the first of these source fields that has a value;
 * - `{ fields: [...], via: 'transform' }`: these fields' values passed through a named transform;
 * - `{ system: 'computer' }`: a RawEvent header value;
 * - `{ const: v }`: a constant (Defender's ActionType for a Sysmon event, for instance).
 */
export type FieldSource =
  | string
  | { first: string[] }
  | { fields: string[]; via: TransformName }
  | { system: 'computer' | 'time' | 'provider' | 'channel' | 'eventId' | 'recordId' }
  | { const: string | number };

export interface SourceProfile {
  /** Stable id, used in output and tests: `sysmon-1`, `security-4688`, `defender-DeviceProcessEvents`. */
  id: string;
  title: string;
  match: {
    /** Provider names that identify the source (any one matches). */
    providers?: string[];
    /** Channel names, or Defender table names, that identify the source (any one matches). */
    channels?: string[];
    eventIds?: number[];
    /** Field values that must also hold (ECS documents are told apart by event.category). */
    where?: Record<string, string[]>;
  };
  logsources: ProfileLogSource[];
  /** Sigma taxonomy field → where its value comes from. Identity entries document the taxonomy. */
  sigma: Record<string, FieldSource>;
  /** The Defender / Sentinel table view of this source, when it has one. */
  defender?: { table: string; columns: Record<string, FieldSource> };
}

/** Identity entries: `same('Image', 'CommandLine')` → `{ Image: 'Image', CommandLine: 'CommandLine' }`. */
export function same(...names: string[]): Record<string, FieldSource> {
  return Object.fromEntries(names.map((n) => [n, n]));
}
