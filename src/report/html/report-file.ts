/**
 * What `lotl report --html` gathers while the hunt runs — input problems, the rules that could not
 * load, where each rule came from — and the page written once the answers are known.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Answers } from '../../correlate/correlator.js';
import { type InputProblem, isSkipped } from '../../ingest/raw-event.js';
import { location } from '../stats.js';
import { htmlReport } from './page.js';
import { ReportAlertsBuilder } from './report-data.js';
import { MAX_PROBLEMS_LISTED, MAX_SOURCE_CHARS, type ReportFacts } from './sections.js';

export class HtmlReportFile {
  readonly alerts = new ReportAlertsBuilder();
  private readonly problems: ReportFacts['problems'] = [];
  private problemCount = 0;
  readonly ruleProblems: ReportFacts['ruleProblems'] = [];
  /** Rule id → the file it was loaded from (Sigma, KQL), or a description (indicators, lotl's own). */
  private readonly ruleFiles = new Map<string, string>();
  private iocFiles: string[] = [];
  /** The Sigma engine, asked at the end which rules no event reached. */
  private engine: { rulesWithoutEvents(): Map<string, { title: string }[]> } | null = null;

  constructor(
    readonly file: string,
    private readonly version: string,
  ) {}

  problem(p: InputProblem): void {
    if (isSkipped(p)) return;
    this.problemCount++;
    if (this.problems.length < MAX_PROBLEMS_LISTED)
      this.problems.push({ where: location(p), code: p.code, message: p.message });
  }

  ruleFile(id: string, file: string): void {
    this.ruleFiles.set(id, file);
  }

  sigmaEngine(engine: { rulesWithoutEvents(): Map<string, { title: string }[]> }): void {
    this.engine = engine;
  }

  indicatorFiles(files: string[]): void {
    this.iocFiles = files;
  }

  /** The text behind each rule that raised alerts. */
  private sources(): ReportFacts['ruleSources'] {
    const out: ReportFacts['ruleSources'] = new Map();
    const texts = new Map<string, string>();
    for (const r of this.alerts.build().rules) {
      const file = this.ruleFiles.get(r.id);
      if (file) {
        let text = texts.get(file);
        if (text === undefined) {
          try {
            text = readFileSync(file, 'utf8').slice(0, MAX_SOURCE_CHARS + 1);
          } catch (err) {
            text = `(cannot read ${file}: ${(err as Error).message})`;
          }
          texts.set(file, text);
        }
        out.set(r.id, { file, text });
      } else if (r.kind === 'ioc') {
        const [, type, ...value] = r.id.split(':');
        out.set(r.id, {
          file: this.iocFiles.map((f) => path.basename(f)).join(', '),
          text: `indicator (${type}): ${value.join(':')}`,
        });
      } else if (r.kind === 'correlation' && r.id.startsWith('lotl:'))
        out.set(r.id, {
          file: 'lotl correlate stage',
          text: 'Raised by lotl itself from the signals of other rules (docs/correlate.md).',
        });
    }
    return out;
  }

  /** Writes the page; its size in bytes. */
  write(inputs: string[], events: number, answers: Answers, excluded: number): number {
    const facts: ReportFacts = {
      version: this.version,
      inputs,
      events,
      answers,
      problems: this.problems,
      problemCount: this.problemCount,
      ruleProblems: this.ruleProblems,
      excluded,
      ruleSources: this.sources(),
      unreached: [...(this.engine?.rulesWithoutEvents() ?? [])]
        .map(([logsource, rules]) => ({
          logsource: logsource.replace(/\|/g, ' / '),
          rules: rules.length,
          titles: rules.slice(0, 3).map((r) => r.title),
        }))
        .sort((a, b) => b.rules - a.rules || (a.logsource < b.logsource ? -1 : 1)),
    };
    const page = htmlReport(facts, this.alerts);
    writeFileSync(this.file, page);
    return Buffer.byteLength(page);
  }
}
