/**
 * KQL query files (`.kql`, like rules/hunts/): each parsed and bound against lotl's table schemas,
 * every problem with its file, line and column. The language service is loaded only when a folder
 * holds query files.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { checkKql } from './frontend.js';

export interface KqlFileProblem {
  file: string;
  line?: number;
  col?: number;
  code: string;
  severity: 'error' | 'warning';
  message: string;
}

/** Every .kql file under the paths, in name order. */
export function kqlFiles(paths: string[]): string[] {
  const out: string[] = [];
  const visit = (p: string) => {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch {
      return; // unreadable paths are reported by the Sigma loader, which walks the same paths
    }
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) visit(path.join(p, n));
    else if (/\.kql$/i.test(p)) out.push(p);
  };
  for (const p of paths) visit(p);
  return out;
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
