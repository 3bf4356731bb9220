import path from 'node:path';
import type { Command } from 'commander';
import { checkKqlFiles } from '../../detect/kql/check-files.js';
import { convertRules, TARGETS, type Target } from '../../detect/sigma/convert.js';
import { SigmaEngine } from '../../detect/sigma/engine.js';
import { loadRules, loadSummary, ruleFiles, type SigmaProblem } from '../../detect/sigma/load.js';

export { loadSummary };

import { readCase } from '../../detect/sigma/regression.js';
import { readFile } from '../../ingest/read.js';
import { normalize } from '../../normalize/normalize.js';
import { printable } from '../../report/terminal-text.js';
import { EXIT_ERROR, EXIT_FINDINGS, EXIT_OK } from '../exit-codes.js';
import { warn, write } from '../output.js';
import { loadPlaceholders, ruleCache } from './sigma-options.js';

export function problemLine(p: SigmaProblem): string {
  const where = `${p.file}${p.line !== undefined ? `:${p.line}` : ''}${p.col !== undefined ? `:${p.col}` : ''}`;
  return printable(`${where} ${p.severity} ${p.code} ${p.message}`);
}

export function registerRules(program: Command): void {
  const rules = program
    .command('rules')
    .description('Sigma rules: check that they load, run regression cases');

  rules
    .command('check')
    .description('load Sigma rules and report every problem with file:line:col, code and reason')
    .argument('<paths...>', 'rule files or folders')
    .option('--format <format>', 'text or json', 'text')
    .option('--placeholders <file>', 'YAML map of placeholder name → values, for the expand modifier')
    .action(async (paths: string[], opts: { format: string; placeholders?: string }) => {
      const placeholders = loadPlaceholders(opts.placeholders);
      if (placeholders === null) {
        process.exitCode = EXIT_ERROR;
        return;
      }
      const r = loadRules(paths, { placeholders, cache: ruleCache() });
      // KQL hunting queries (rules/hunts/*.kql) in the same folders are parsed and bound too.
      const kql = checkKqlFiles(paths);
      r.problems.push(...kql.problems);
      const errors = r.problems.filter((p) => p.severity === 'error');
      if (opts.format === 'json') {
        const failures = errors.map(({ file, line, col, code, message }) => ({
          file,
          line: line ?? null,
          col: col ?? null,
          code,
          message,
        }));
        await write(
          `${JSON.stringify({ loaded: r.rules.length, failed: failures.length, failures, warnings: r.problems.filter((p) => p.severity === 'warning').length, queries: kql.files }, null, 2)}\n`,
        );
      } else {
        const byCode = new Map<string, number>();
        for (const p of r.problems)
          byCode.set(`${p.severity} ${p.code}`, (byCode.get(`${p.severity} ${p.code}`) ?? 0) + 1);
        let out = `${loadSummary(r)}${kql.files > 0 ? `; ${kql.files} KQL queries checked` : ''}\n`;
        for (const [k, n] of [...byCode].sort()) out += `  ${n.toString().padStart(5)}  ${k}\n`;
        for (const p of r.problems) out += `${problemLine(p)}\n`;
        await write(out);
      }
      process.exitCode = errors.length > 0 ? EXIT_ERROR : EXIT_OK;
    });

  rules
    .command('convert')
    .description(
      'Sigma rules as DuckDB or ClickHouse SQL, or KQL, over a table with a column per Sigma field (docs/sql.md)',
    )
    .argument('<paths...>', 'rule files or folders')
    .requiredOption('--to <engine>', `duckdb, clickhouse or kql`)
    .option('--table <name>', 'the table the queries read', 'events')
    .option('--format <format>', 'text (the queries, one a rule) or json', 'text')
    .option('--placeholders <file>', 'YAML map of placeholder name → values, for the expand modifier')
    .action(
      async (paths: string[], opts: { to: string; table: string; format: string; placeholders?: string }) => {
        if (!TARGETS.includes(opts.to as Target)) {
          warn(
            `lotl rules convert: --to must be one of ${TARGETS.join(', ')}, not ${JSON.stringify(opts.to)}\n`,
          );
          process.exitCode = EXIT_ERROR;
          return;
        }
        const placeholders = loadPlaceholders(opts.placeholders);
        if (placeholders === null) {
          process.exitCode = EXIT_ERROR;
          return;
        }
        const { converted, unreadable } = convertRules(paths, opts.to as Target, {
          table: opts.table,
          placeholders,
        });
        for (const u of unreadable) warn(printable(`${u.file}: error ${u.message}\n`));
        const done = converted.filter((c) => c.query !== undefined);
        if (opts.format === 'json') await write(`${JSON.stringify(converted, null, 2)}\n`);
        else {
          const comment = opts.to === 'kql' ? '//' : '--';
          let out = '';
          for (const c of converted) {
            // Titles and file names come from the rules: one line each, no control characters.
            const head = printable(`${c.title} (${c.id ?? 'no id'}) logsource ${c.logsource}`).replace(
              /\n/g,
              ' ',
            );
            out +=
              c.query !== undefined
                ? `${comment} ${head}\n${c.query};\n\n`
                : `${comment} ${head}\n${comment} not converted: ${printable(c.unsupported ?? '').replace(/\n/g, ' ')}\n\n`;
          }
          await write(out);
        }
        const reasons = new Map<string, number>();
        for (const c of converted)
          if (c.unsupported !== undefined) {
            const why = c.unsupported
              .replace(/^regex \/.*\/: /s, 'regex: ')
              .replace(/^(regex: Invalid regular expression): .*: /s, '$1: ')
              .replace(/'[^']*'/g, "'…'");
            reasons.set(why, (reasons.get(why) ?? 0) + 1);
          }
        warn(
          `lotl rules convert: ${done.length} of ${converted.length} rules converted to ${opts.to}${[
            ...reasons,
          ]
            .sort((a, b) => b[1] - a[1])
            .map(([why, n]) => `\n  ${n}  ${printable(why)}`)
            .join('')}\n`,
        );
        process.exitCode = unreadable.length > 0 ? EXIT_ERROR : EXIT_OK;
      },
    );

  rules
    .command('test')
    .description(
      'run SigmaHQ-style regression cases (info.yml + EVTX/JSON); each expected rule must fire at least match_count times',
    )
    .argument('<cases...>', 'case folders (searched for info.yml)')
    .requiredOption('--sigma <paths...>', 'rule files or folders the cases name rules from')
    .option('--format <format>', 'text or json', 'text')
    .action(async (cases: string[], opts: { sigma: string[]; format: string }) => {
      const r = loadRules(opts.sigma, { cache: ruleCache() });
      const byId = new Map(r.rules.map((x) => [x.id, x]));
      const infos = ruleFiles(cases).files.filter((f) => path.basename(f) === 'info.yml');
      const failed: {
        case: string;
        rule: string;
        expected: number;
        got: number;
        file?: string;
        reason?: string;
      }[] = [];
      let total = 0;
      for (const info of infos) {
        const c = readCase(info);
        total++;
        if (c.problem) {
          failed.push({ case: c.dir, rule: '', expected: 0, got: 0, reason: c.problem });
          continue;
        }
        for (const id of c.ruleIds) {
          const rule = byId.get(id);
          if (!rule) {
            failed.push({
              case: c.dir,
              rule: id,
              expected: 1,
              got: 0,
              reason: 'rule not found or not loaded',
            });
            continue;
          }
          const engine = new SigmaEngine([rule]);
          for (const { file, minMatches } of c.files) {
            let got = 0;
            for await (const batch of readFile(file)) {
              for (const it of batch)
                if (it.kind === 'event') got += engine.evaluate(normalize(it.event)).length;
            }
            if (got < minMatches) failed.push({ case: c.dir, rule: id, expected: minMatches, got, file });
          }
        }
      }
      const failedCases = new Set(failed.map((f) => f.case)).size;
      if (opts.format === 'json') {
        await write(`${JSON.stringify({ cases: total, passed: total - failedCases, failed }, null, 2)}\n`);
      } else {
        let out = `${total} cases, ${total - failedCases} passed, ${failedCases} failed\n`;
        for (const f of failed)
          out += `FAIL ${f.file ?? f.case}: rule ${f.rule} expected ≥ ${f.expected} matches, got ${f.got}${f.reason ? ` (${f.reason})` : ''}\n`;
        await write(out);
      }
      process.exitCode = failed.length > 0 ? EXIT_FINDINGS : EXIT_OK;
    });
}
