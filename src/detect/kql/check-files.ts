/**
 * KQL query files (`.kql`, like rules/hunts/): each parsed and bound against lotl's table schemas,
 * every problem with its file, line and column. The language service is loaded only when a folder
 * holds query files.
 */
import { readFileSync } from 'node:fs';
import { filesUnder } from '../rule-files.js';
import { checkKql } from './frontend.js';

export interface KqlFileProblem {
  file: string;
  line?: number;
  col?: number;
  code: string;
  severity: 'error' | 'warning';
  message: string;
}

/** Every .kql file under the paths, in name order (unreadable paths are the Sigma loader's to report). */
export function kqlFiles(paths: string[]): string[] {
  return filesUnder(paths, /\.kql$/i).files;
}

export function checkKqlFiles(paths: string[]): { files: number; problems: KqlFileProblem[] } {
  const files = kqlFiles(paths);
  const problems: KqlFileProblem[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      problems.push({ file, code: 'KQL_UNREADABLE', severity: 'error', message: (err as Error).message });
      continue;
    }
    for (const p of checkKql(text))
      problems.push({
        file,
        line: p.line,
        col: p.col,
        code: 'KQL_QUERY',
        severity: p.severity,
        message: p.message,
      });
  }
  return { files: files.length, problems };
}
