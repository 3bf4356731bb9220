import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import { Correlator } from '../../correlate/correlator.js';
import { type Alert, type AlertHead, alertHead } from '../../detect/alert.js';
import { iocAlerts } from '../../detect/ioc/match.js';
import {
  huntRuleId,
  type KqlHunt,
  loadKqlHuntsApart,
  loadKqlTreeHunts,
  rowAlerts,
} from '../../detect/kql/hunts.js';
import { presentTreeRow } from '../../detect/kql/rows.js';
import { rulePredicates } from '../../detect/sigma/convert.js';
import { keyOf, SigmaEngine } from '../../detect/sigma/engine.js';
import { loadRules, type SigmaRule } from '../../detect/sigma/load.js';
import { BUILTIN } from '../../hunt/builtin.js';
import { type HuntSetup, SIGMA_STATUSES, selectRules } from '../../hunt/detectors.js';
import { noisyRuleIds } from '../../hunt/noisy-rules.js';
import { huntStage, useDetectorsHere } from '../../hunt/stage.js';
import { huntTable } from '../../hunt/table-hunt.js';
import { chunkPool } from '../../ingest/evtx/pool.js';
import { evtxUsesPool } from '../../ingest/evtx/reader.js';
import type { Stage } from '../../ingest/raw-event.js';
import { listInputs } from '../../ingest/read.js';
import { type EventView, normalize } from '../../normalize/normalize.js';
import { AlertSpool } from '../../report/alert-spool.js';
import { HtmlReportFile } from '../../report/html/report-file.js';
import { NavigatorLayer } from '../../report/navigator.js';
import { printable } from '../../report/terminal-text.js';
import { timeFormatter } from '../../report/time-zone.js';
import { ClickHouseTable } from '../../store/clickhouse-table.js';
import { DEFAULT_QUERY_LIMITS } from '../../store/duckdb.js';
import {
  openStoredEvents,
  type StoreChoice,
  type StoredEvents,
  storeName,
} from '../../store/stored-events.js';
import {
  alertFilter,
  checkAlertFormat,
  exitStatus,
  levelCounts,
  ruleMatcher,
  writeAlerts,
} from '../alert-output.js';
import { EXIT_ERROR } from '../exit-codes.js';
import {
  answersText,
  type Detector,
  reportAlerts,
  runHunt,
  runHuntParallel,
  writeHtml,
  writeNavigator,
} from '../hunt-run.js';
import { collect, wholeNumber } from '../option-values.js';
import { warn, write } from '../output.js';
import { startStepProgress } from '../progress.js';
import { VERSION } from '../version.js';
import { storeChoiceProblem } from './ingest.js';
import { loadIocs } from './ioc.js';
import { loadSummary, problemLine } from './rules.js';
import { loadPlaceholders, ruleCache } from './sigma-options.js';

/**
 * `--kql` values. Commander folds `--no-kql` into the same option (false): a `--kql` after it
 * starts a list that leaves the pack's hunts out (`--no-kql --kql mine.kql` runs mine only).
 */
const collectKql = (v: string, prev: string[] | false = []): string[] =>
  prev === false ? Object.assign([v], { withoutPack: true }) : [...prev, v];
const withoutPack = (kql: string[]) => (kql as string[] & { withoutPack?: boolean }).withoutPack === true;

/** Input size from which `hunt` uses worker threads by default (on machines with enough cores). */
const PARALLEL_BYTES = 100 * 1024 * 1024;
/**
 * Each worker holds its own copy of the compiled rules and their automata (about 190 MB for
 * SigmaHQ): on 2 cores two workers gain about 1.25x for 1.75x the memory, so threads are the
 * default from 4 cores (docs/benchmarks.md).
 */
const PARALLEL_CORES = 4;
/**
 * EVTX bytes from which the parser threads also hunt (see huntHere). On 2 cores, sharing breaks
 * even near 256 MB of EVTX (128 MB: 2.23 s shared vs 2.21 s not; 1 GiB: 7.8 s vs 9.9 s;
 * docs/benchmarks.md, session 5). `LOTL_SHARE_MIN_MB` moves the bar (other core counts; tests).
 */
const SHARE_MIN_BYTES = Number(process.env.LOTL_SHARE_MIN_MB ?? 256) * 1024 * 1024;

/**
 * `lotl hunt`: runs the built-in pack (unless --no-builtin) and the detections it is given — Sigma
 * rule folders (`--sigma`) and indicator files (`--iocs`) — over the inputs and writes alerts,
 * filtered by level, time, host and rule when asked.
 */
export function registerHunt(program: Command): void {
  program
    .command('hunt')
    .description('hunt the inputs with Sigma rules (--sigma) and indicators (--iocs), and write alerts')
    .argument('[paths...]', 'log files or directories (EVTX, JSON, JSONL, XML, CSV; .zip and .gz are opened)')
    .option(
      '--db <file>',
      'hunt the events of a database `lotl ingest --db` made, with the Sigma rules as SQL',
    )
    .option(
      '--clickhouse <url>',
      'hunt the events `lotl ingest --clickhouse` put in this ClickHouse server, as SQL',
    )
    .option(
      '--cluster <name>',
      'with --clickhouse: the events are sharded over this cluster (lotl ingest --cluster)',
    )
    .option('--sigma <path>', 'Sigma rule file or folder (e.g. SigmaHQ rules/); repeatable', collect, [])
    .option(
      '--iocs <file>',
      'indicator file: list, CSV, STIX 2.1 bundle or MISP event; repeatable',
      collect,
      [],
    )
    .option('--no-builtin', 'leave out the built-in rule pack (rules/sigma, rules/hunts and the FRP hashes)')
    .option(
      '--kql <path>',
      'KQL hunting query file (.kql) or folder, run over the inputs; repeatable',
      collectKql,
      [],
    )
    .option('--no-kql', "leave out KQL hunting queries (the pack's rules/hunts)")
    .option(
      '--no-correlate',
      'leave out the answers after the alerts (unusual sign-ins, accounts to reset); lets large hunts use threads',
    )
    .option(
      '--internal <cidr>',
      'an internal address range for the sign-in baselines (repeatable; default the private ranges)',
      collect,
      [] as string[],
    )
    .option(
      '--min-level <level>',
      'only alerts of this level or higher (informational, low, medium, high, critical)',
    )
    .option(
      '--from <time>',
      'only alerts at or after this time (ISO 8601, e.g. 2023-05-16 or 2023-05-16T13:00Z)',
    )
    .option('--to <time>', 'only alerts before this time (ISO 8601)')
    .option('--host <name>', 'only alerts from this host (case-insensitive; repeatable)', collect, [])
    .option(
      '--rule <text>',
      'only alerts of rules whose id or title contains this text (repeatable)',
      collect,
      [],
    )
    .option(
      '--exclude-rule <text>',
      'leave out rules whose id or title contains this text, everywhere: output, incidents, KQL alert tables (repeatable)',
      collect,
      [],
    )
    .option('--placeholders <file>', 'YAML map of placeholder name → values, for Sigma expand')
    .option(
      '--format <format>',
      'table, jsonl, json, csv or timesketch (JSON lines Timesketch imports)',
      'table',
    )
    .option(
      '--navigator <file>',
      'also write an ATT&CK Navigator layer of the alerts (techniques scored by alerts) to this file',
    )
    .option(
      '--timezone <zone>',
      'show the table\'s times in this IANA time zone (e.g. America/New_York) or "local", with the offset; JSON and CSV keep UTC',
    )
    .option('--local', 'the same as --timezone local')
    .option('--group-by <what>', 'rule: the table as one row per rule (level, alerts, hosts, first, last)')
    .option(
      '--status <list>',
      'only Sigma rules of these statuses, comma-separated (stable, test, experimental, deprecated, unsupported)',
      statusList,
    )
    .option(
      '--tag <tag>',
      'only Sigma rules with this tag or tag prefix (attack.t1003, attack.credential-access; repeatable)',
      collect,
      [],
    )
    .option('--include-noisy', 'keep the Sigma rules of rules/noisy-rules.txt (left out by default)')
    .option('--fail-on <level>', 'exit 1 when an alert of this level or higher is found')
    .option('--recover', 'EVTX: also read records left in chunk slack')
    .option(
      '--threads <n>',
      'worker threads (default: one per core, up to 4, on 4+ cores for inputs over 100 MB; 1 = this thread)',
      wholeNumber(1, 64),
    )
    .option('--no-progress', 'no progress bar')
    .action((paths: string[], opts: HuntCommandOptions & StoreChoice) => {
      const stored = opts.db !== undefined || opts.clickhouse !== undefined || opts.cluster !== undefined;
      if (stored && paths.length > 0) {
        warn(
          'lotl hunt: give either PATHS or a store (--db, --clickhouse), not both (lotl ingest adds PATHS to a store)\n',
        );
        process.exitCode = EXIT_ERROR;
        return;
      }
      if (stored) {
        const problem = storeChoiceProblem('hunt', opts);
        if (problem) {
          warn(`${problem}\n`);
          process.exitCode = EXIT_ERROR;
          return;
        }
        return huntDatabaseAction(opts, opts);
      }
      if (paths.length === 0) {
        warn('lotl hunt: no inputs: give log files or folders, or --db FILE, or --clickhouse URL\n');
        process.exitCode = EXIT_ERROR;
        return;
      }
      return huntAction(paths, opts, false);
    });
}

type HuntCommandOptions = {
  sigma: string[];
  iocs: string[];
  placeholders?: string;
  format: string;
  failOn?: string;
  progress: boolean;
  recover?: boolean;
  threads?: number;
  builtin: boolean;
  minLevel?: string;
  from?: string;
  to?: string;
  host: string[];
  rule: string[];
  kql: string[] | false;
  correlate: boolean;
  internal: string[];
  navigator?: string;
  excludeRule: string[];
  timezone?: string;
  local?: boolean;
  groupBy?: string;
  status?: string[];
  tag: string[];
  includeNoisy?: boolean;
  /** `lotl report --html`: the page being gathered. */
  html?: HtmlReportFile;
  /** `lotl report`: whether the JSON goes to stdout. */
  reportJson?: boolean;
};

/** The KQL hunts selected: the pack's unless --no-kql or --no-builtin, and --kql's. */
function kqlPathsOf(opts: HuntCommandOptions): string[] {
  // --kql adds hunts, --no-kql leaves them all out (commander folds both into `kql`).
  const kql = opts.kql === false ? [] : opts.kql;
  return opts.builtin && opts.kql !== false && !withoutPack(opts.kql) ? [BUILTIN.hunts, ...kql] : kql;
}

/**
 * `lotl hunt --db FILE | --clickhouse URL`: the Sigma rules (the pack's and --sigma) as SQL over
 * the stored events, and on ClickHouse the KQL hunts compiled to SQL over its KQL tables; then,
 * for the indicators and the correlate stage, one read of every stored event (streamed from the
 * store); the alerts written and the answers printed as a streamed hunt does.
 */
async function huntDatabaseAction(
  choice: StoreChoice,
  opts: HuntCommandOptions,
  report = false,
): Promise<void> {
  const command = report ? 'report' : 'hunt';
  const name = printable(storeName(choice));
  if (choice.db !== undefined && !existsSync(choice.db)) {
    warn(`lotl ${command}: no database ${name} (lotl ingest PATHS --db FILE makes it)\n`);
    process.exitCode = EXIT_ERROR;
    return;
  }
  const sigma = [...(opts.builtin ? [BUILTIN.sigma] : []), ...opts.sigma];
  // Only ClickHouse keeps KQL's tables (lotl ingest --clickhouse fills them).
  const kqlPaths = choice.clickhouse !== undefined ? kqlPathsOf(opts) : [];
  if (sigma.length === 0 && kqlPaths.length === 0 && opts.iocs.length === 0) {
    warn(
      `lotl ${command}: a store is hunted with Sigma rules${choice.clickhouse !== undefined ? ', KQL hunts' : ''} and indicators: none selected\n`,
    );
    process.exitCode = EXIT_ERROR;
    return;
  }
  if (!checkAlertFormat('hunt', opts.format, opts.failOn)) {
    process.exitCode = EXIT_ERROR;
    return;
  }
  const filter = alertFilter(opts);
  if (typeof filter === 'string') {
    warn(`lotl ${command}: ${filter}\n`);
    process.exitCode = EXIT_ERROR;
    return;
  }
  const placeholders = loadPlaceholders(opts.placeholders);
  if (placeholders === null) {
    process.exitCode = EXIT_ERROR;
    return;
  }
  // Indicators and the correlate stage: one read of the stored events after the SQL.
  const iocPaths = [...(opts.builtin ? [BUILTIN.iocs] : []), ...opts.iocs];
  const iocs = iocPaths.length > 0 ? loadIocs(command, iocPaths) : undefined;
  if (iocs === null) {
    process.exitCode = EXIT_ERROR;
    return;
  }
  let correlator: Correlator | undefined;
  if (opts.correlate) {
    try {
      correlator = new Correlator(opts.internal.length > 0 ? { internal: opts.internal } : {});
    } catch (err) {
      warn(`lotl ${command}: --internal: ${(err as Error).message}\n`);
      process.exitCode = EXIT_ERROR;
      return;
    }
  }
  warn(
    `lotl ${command}: over a store: Sigma rules as SQL (correlation rules over their matches)${choice.clickhouse !== undefined ? ', KQL hunts as SQL' : ' (KQL hunts need the KQL tables a ClickHouse store keeps)'}${iocs || correlator ? `, then ${[iocs ? 'indicators' : '', correlator ? 'the correlate stage' : ''].filter(Boolean).join(' and ')} over every stored event` : ''}\n`,
  );
  const started = performance.now();
  const loaded = loadRules(sigma, { placeholders, cache: ruleCache() });
  const errors = loaded.problems.filter((p) => p.severity === 'error');
  for (const p of errors) warn(`${problemLine(p)}\n`);
  const { rules, note } = selectRules(loaded.rules, huntSetup(opts, placeholders));
  if (sigma.length > 0) warn(`lotl ${command}: ${loadSummary(loaded)}${note}\n`);
  if (opts.html) {
    for (const p of errors)
      opts.html.ruleProblems.push({
        file: `${p.file}${p.line ? `:${p.line}` : ''}`,
        message: `${p.code} ${p.message}`,
      });
    for (const r of [...loaded.rules, ...loaded.correlations]) opts.html.ruleFile(r.id, r.file);
    opts.html.indicatorFiles(iocPaths);
  }
  const predicates = new Map([...rulePredicates(sigma, placeholders)].map((p) => [`${p.file}\n${p.id}`, p]));
  // What of the KQL hunts maps to SQL; the rest said with its place in the query.
  const kql = kqlPaths.length > 0 ? loadKqlTreeHunts(kqlPaths) : { hunts: [], problems: [] };
  for (const h of kql.hunts) opts.html?.ruleFile(huntRuleId(h), h.file);
  for (const p of kql.problems)
    warn(
      p.unsupported
        ? `${printable(p.file)}: KQL hunt not run on this store: ${printable(p.message)}\n`
        : `${printable(p.file)}: error KQL_QUERY ${printable(p.message)}\n`,
    );
  let table: StoredEvents;
  try {
    table = await openStoredEvents(choice);
  } catch (err) {
    warn(`lotl ${command}: cannot open ${name}: ${printable((err as Error).message.split('\n')[0])}\n`);
    process.exitCode = EXIT_ERROR;
    return;
  }
  let result: Awaited<ReturnType<typeof huntTable>>;
  const exclude = opts.excludeRule.length > 0 ? ruleMatcher(opts.excludeRule) : undefined;
  // Alerts go to the spool as each batch is read (bounded memory), filtered as a stream's are;
  // the correlate stage sees every alert not excluded, whatever the output keeps.
  const spool = new AlertSpool();
  let excludedCount = 0;
  const keep = (a: Alert, view?: EventView | null) => {
    const head = alertHead(a);
    if (exclude?.(head)) {
      excludedCount++;
      return;
    }
    correlator?.alert(a, view ?? undefined);
    if (!filter || filter(head)) spool.add(a);
  };
  let events = 0;
  try {
    events = (await table.counts()).events;
    if (opts.html) {
      // The page lists the rules no stored event could reach, by logsource, as a stream's does.
      const served = await table.keyCounts();
      const unreached = new Map<string, SigmaRule[]>();
      for (const rule of rules) {
        const key = keyOf(rule.logsource);
        if (served.has(key)) continue;
        unreached.set(key, [...(unreached.get(key) ?? []), rule]);
      }
      opts.html.sigmaEngine({ rulesWithoutEvents: () => unreached });
    }
    const progress = startStepProgress('queries', opts.progress);
    try {
      result = await huntTable(
        table,
        rules,
        predicates,
        { batch: progress.step, alert: keep },
        loaded.correlations,
      );
    } finally {
      progress.stop();
    }
    if (table instanceof ClickHouseTable)
      for (const hunt of kql.hunts) {
        const rows = await table.kql(hunt.tree.query, {
          maxRows: DEFAULT_QUERY_LIMITS.maxRows,
          timeoutMs: DEFAULT_QUERY_LIMITS.timeoutMs,
        });
        for (const a of rowAlerts(
          hunt,
          rows.map((r) => presentTreeRow(r, hunt.tree.columns)),
        ))
          keep(a);
      }
    if (iocs || correlator) {
      const progress = startStepProgress('events', opts.progress);
      let read = 0;
      try {
        for await (const batch of table.eachEvent()) {
          for (const raw of batch) {
            const view = normalize(raw);
            correlator?.event(view);
            if (iocs) for (const a of iocAlerts(view, iocs.set)) keep(a, view);
          }
          read += batch.length;
          progress.step(read, events);
        }
      } finally {
        progress.stop();
      }
    }
    // The correlate stage's own alerts (bursts of discovery), written with the others.
    const excluded = (a: Alert) => {
      const out = exclude?.(alertHead(a)) === true;
      if (out) excludedCount++;
      return out;
    };
    for (const a of correlator?.correlationAlerts(excluded) ?? [])
      if (!filter || filter(alertHead(a))) spool.add(a);
  } catch (err) {
    warn(`lotl ${command}: ${name}: ${printable((err as Error).message.split('\n')[0])}\n`);
    spool.discard();
    process.exitCode = EXIT_ERROR;
    return;
  } finally {
    table.close();
  }
  const reasons = new Map<string, number>();
  for (const s of result.skipped) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
  if (result.skipped.length > 0)
    warn(
      `lotl ${command}: ${result.skipped.length} rules not run as SQL:${[...reasons]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([why, n]) => `\n  ${n}  ${printable(why)}`)
        .join('')}\n`,
    );
  const answers = correlator?.answers();
  const layer = opts.navigator ? new NavigatorLayer() : null;
  let writeProblems = 0;
  if (report) await reportAlerts(spool, opts.html, layer);
  else
    await writeAlerts(spool, opts.format, {
      signals: opts.minLevel !== undefined,
      onAlert: layer ? (a) => layer.add(a) : undefined,
    });
  if (layer && opts.navigator && !writeNavigator(command, layer, opts.navigator, spool.count))
    writeProblems++;
  const seconds = (performance.now() - started) / 1000;
  const hunts = kqlPaths.length > 0 ? ` and ${kql.hunts.length} KQL hunts` : '';
  // A hunt this store's SQL cannot express is said above, not an error of its file.
  const problems = errors.length + kql.problems.filter((p) => !p.unsupported).length + (iocs?.problems ?? 0);
  warn(
    `lotl ${command}: ${result.ran} rules${hunts} ran as SQL (${result.queries + kql.hunts.length} queries) over ${events.toLocaleString('en-US')} events of ${name}${iocs ? `, with ${iocs.set.size} indicators,` : ''} in ${seconds.toFixed(1)} s, ${spool.count} alerts (${levelCounts(spool)}), ${problems} rule problems${excludedCount > 0 ? `; ${excludedCount} alerts of excluded rules left out` : ''}\n`,
  );
  if (answers && report) {
    const { limits, ...document } = answers;
    if (opts.reportJson !== false) await write(`${JSON.stringify(document, null, 2)}\n`);
    for (const l of limits) warn(`lotl ${command}: ${printable(l)}\n`);
    if (opts.html && !writeHtml(command, opts.html, [name], events, answers, excludedCount)) writeProblems++;
  } else if (answers) warn(answersText(command, answers));
  process.exitCode = writeProblems > 0 ? EXIT_ERROR : exitStatus(spool, problems, opts.failOn);
}

/** `lotl hunt` and `lotl report`: the report writes the answers as JSON instead of the alerts. */
async function huntAction(paths: string[], opts: HuntCommandOptions, report: boolean): Promise<void> {
  const kql = kqlPathsOf(opts);
  if (opts.builtin) {
    opts.sigma = [BUILTIN.sigma, ...opts.sigma];
    opts.iocs = [BUILTIN.iocs, ...opts.iocs];
  }
  if (opts.sigma.length === 0 && opts.iocs.length === 0 && kql.length === 0) {
    warn('lotl hunt: no detections selected: --no-builtin without --sigma, --iocs or --kql.\n');
    process.exitCode = EXIT_ERROR;
    return;
  }
  const zone = opts.local ? 'local' : opts.timezone;
  const showTime = zone === undefined ? undefined : timeFormatter(zone);
  if (showTime === null) {
    warn(`lotl hunt: --timezone: not a time zone this system knows: ${JSON.stringify(zone)}\n`);
    process.exitCode = EXIT_ERROR;
    return;
  }
  if (opts.groupBy !== undefined && opts.groupBy !== 'rule') {
    warn(`lotl hunt: --group-by must be rule, not ${JSON.stringify(opts.groupBy)}\n`);
    process.exitCode = EXIT_ERROR;
    return;
  }
  const filter = alertFilter(opts);
  if (typeof filter === 'string') {
    warn(`lotl hunt: ${filter}\n`);
    process.exitCode = EXIT_ERROR;
    return;
  }
  const huntOpts = {
    ...opts,
    filter,
    kql: undefined,
    kqlPaths: kql,
    report,
    signals: opts.minLevel !== undefined,
    exclude: opts.excludeRule.length > 0 ? ruleMatcher(opts.excludeRule) : undefined,
    showTime,
  };
  const placeholders = loadPlaceholders(opts.placeholders);
  if (placeholders === null) {
    process.exitCode = EXIT_ERROR;
    return;
  }
  // Each thread loads and compiles the rules itself, which only pays off on large inputs.
  const cores = availableParallelism();
  const listed = opts.threads === undefined && cores >= PARALLEL_CORES ? await listInputs(paths) : undefined;
  const sequential = () => huntHere(paths, huntOpts, placeholders, listed);
  const total = listed ? listed.files.reduce((s, f) => s + f.size, 0) : 0;
  const threads =
    opts.threads ?? (total >= PARALLEL_BYTES && cores >= PARALLEL_CORES ? Math.min(cores, 4) : 1);
  // KQL hunts query a store filled from every event, so they keep the hunt on this thread.
  if (threads > 1 && kql.length > 0 && opts.threads !== undefined)
    warn('lotl hunt: KQL hunting queries keep the hunt on one thread (--no-kql to use threads)\n');
  else if (threads > 1 && opts.correlate && opts.threads !== undefined)
    warn(
      'lotl hunt: the answers after the alerts need every event in one stream: the hunt stays on one thread (--no-correlate to use threads)\n',
    );
  if (threads > 1 && opts.sigma.length > 0 && kql.length === 0 && !opts.correlate) {
    // Worker threads load the rules themselves; correlation rules are judged here over their matches.
    let iocProblems = 0;
    if (opts.iocs.length > 0) {
      const loaded = loadIocs('hunt', opts.iocs);
      if (!loaded) {
        process.exitCode = EXIT_ERROR;
        return;
      }
      iocProblems = loaded.problems;
    }
    const setup = huntSetup(opts, placeholders);
    await runHuntParallel('hunt', paths, setup, iocProblems, { ...huntOpts, listed }, threads);
    return;
  }
  await sequential();
}

/** What a hunting or parser thread needs to load the same detectors as this one. */
function huntSetup(
  opts: {
    sigma: string[];
    iocs: string[];
    recover?: boolean;
    status?: string[];
    tag?: string[];
    includeNoisy?: boolean;
  },
  placeholders: Record<string, string[]>,
): HuntSetup {
  return {
    sigma: opts.sigma,
    iocs: opts.iocs,
    placeholders,
    recover: opts.recover === true,
    cache: ruleCache(),
    ...(opts.status ? { statuses: opts.status } : {}),
    ...(opts.tag && opts.tag.length > 0 ? { tags: opts.tag } : {}),
    ...(opts.includeNoisy ? {} : { noisy: noisyRuleIds() }),
  };
}

/** `--status stable,test` as a list; anything but the specification's statuses is a usage error. */
function statusList(text: string): string[] {
  const list = text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  if (list.length === 0 || list.some((s) => !SIGMA_STATUSES.includes(s)))
    throw new InvalidArgumentError(`--status takes ${SIGMA_STATUSES.join(', ')} (comma-separated)`);
  return list;
}

/** The hunt on this thread, every event in one stream (needed by correlation rules). */
async function huntHere(
  paths: string[],
  opts: {
    sigma: string[];
    iocs: string[];
    format: string;
    failOn?: string;
    progress: boolean;
    recover?: boolean;
    filter?: (a: AlertHead) => boolean;
    kqlPaths: string[];
    correlate: boolean;
    internal: string[];
    report: boolean;
    html?: HtmlReportFile;
  },
  placeholders: Record<string, string[]>,
  /** The inputs, when the caller has listed them already. */
  listedAlready?: Awaited<ReturnType<typeof listInputs>>,
): Promise<void> {
  const detectors: Detector[] = [];
  let problems = 0;
  let hunts: KqlHunt[] = [];
  if (opts.kqlPaths.length > 0) {
    const loaded = await loadKqlHuntsApart(opts.kqlPaths);
    for (const p of loaded.problems) warn(`${p.file}: error KQL_QUERY ${p.message}\n`);
    problems += loaded.problems.length;
    hunts = loaded.hunts;
    for (const p of loaded.problems)
      opts.html?.ruleProblems.push({ file: p.file, message: `KQL_QUERY ${p.message}` });
    for (const h of hunts) opts.html?.ruleFile(huntRuleId(h), h.file);
    warn(`lotl hunt: ${hunts.length} KQL hunting queries\n`);
  }
  // Large EVTX files are hunted where their chunks are parsed too (the parser threads run the
  // detectors as a stage, and send the matches that feed correlation rules here to be judged),
  // unless the detections need every event in one stream: KQL hunts (their store). The threads
  // load their rules while this one does.
  const setup = huntSetup(opts, placeholders);
  const listed = listedAlready ?? (await listInputs(paths));
  const bigEvtx = listed.files
    .filter((f) => /\.evtx$/i.test(f.path) && evtxUsesPool(f.size))
    .reduce((sum, f) => sum + f.size, 0);
  // The answers need every event on this thread: no sharing then.
  const sharing = hunts.length === 0 && !opts.correlate && bigEvtx >= SHARE_MIN_BYTES;
  const stage = huntStage(setup);
  if (sharing) chunkPool(availableParallelism() - 1)?.warm(stage);
  if (opts.sigma.length > 0) {
    const started = performance.now();
    const report = loadRules(opts.sigma, { placeholders, cache: ruleCache() });
    const errors = report.problems.filter((p) => p.severity === 'error');
    for (const p of errors) warn(`${problemLine(p)}\n`);
    if (opts.html) {
      for (const p of errors)
        opts.html.ruleProblems.push({
          file: `${p.file}${p.line ? `:${p.line}` : ''}`,
          message: `${p.code} ${p.message}`,
        });
      for (const r of [...report.rules, ...report.correlations]) opts.html.ruleFile(r.id, r.file);
    }
    const { rules, note } = selectRules(report.rules, setup);
    warn(
      `lotl hunt: ${loadSummary(report)} in ${((performance.now() - started) / 1000).toFixed(1)} s${note}\n`,
    );
    const engine = new SigmaEngine(rules, {
      correlations: report.correlations,
      scannerCache: ruleCache(),
    });
    detectors.push(engine);
    opts.html?.sigmaEngine(engine);
  }
  if (opts.iocs.length > 0) {
    const loaded = loadIocs('hunt', opts.iocs);
    if (!loaded) {
      process.exitCode = EXIT_ERROR;
      return;
    }
    problems += loaded.problems;
    detectors.push({ evaluate: (view) => iocAlerts(view, loaded.set) });
    opts.html?.indicatorFiles(opts.iocs);
  }
  let share: Stage | undefined;
  if (sharing) {
    useDetectorsHere(setup, detectors);
    share = stage;
  }
  let correlator: Correlator | undefined;
  if (opts.correlate) {
    try {
      correlator = new Correlator(opts.internal.length > 0 ? { internal: opts.internal } : {});
    } catch (err) {
      warn(`lotl hunt: --internal: ${(err as Error).message}\n`);
      process.exitCode = EXIT_ERROR;
      return;
    }
  }
  await runHunt(
    opts.report ? 'report' : 'hunt',
    paths,
    detectors,
    problems,
    { ...opts, kql: hunts, share, listed, observe: correlator },
    correlator,
  );
}

/**
 * `lotl report PATHS --format json`: the same hunt, and instead of the alerts its answers — the
 * incidents, the accounts to reset and the unusual sign-ins — as one JSON document
 * (docs/report.schema.json).
 */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description('hunt the inputs and write the answers: incidents, accounts to reset, unusual sign-ins')
    .argument('[paths...]', 'log files or directories (EVTX, JSON, JSONL, XML, CSV; .zip and .gz are opened)')
    .option('--db <file>', 'report on the events of a database `lotl ingest --db` made (Sigma rules as SQL)')
    .option(
      '--clickhouse <url>',
      'report on the events `lotl ingest --clickhouse` put in this ClickHouse server',
    )
    .option('--cluster <name>', 'with --clickhouse: the events are sharded over this cluster')
    .option('--format <format>', 'json: the answers as JSON on stdout (the default without --html)')
    .option('--html <file>', 'write the HTML report (one self-contained page) to this file')
    .option('--navigator <file>', 'also write an ATT&CK Navigator layer of the alerts to this file')
    .option(
      '--exclude-rule <text>',
      'leave out rules whose id or title contains this text (repeatable)',
      collect,
      [],
    )
    .option('--sigma <path>', 'Sigma rule file or folder, besides the pack; repeatable', collect, [])
    .option('--iocs <file>', 'indicator file; repeatable', collect, [])
    .option('--no-builtin', 'leave out the built-in rule pack')
    .option('--kql <path>', 'KQL hunting query file or folder; repeatable', collectKql, [])
    .option('--no-kql', "leave out KQL hunting queries (the pack's rules/hunts)")
    .option('--include-noisy', 'keep the Sigma rules of rules/noisy-rules.txt (left out by default)')
    .option(
      '--internal <cidr>',
      'an internal address range for the sign-in baselines (repeatable; default the private ranges)',
      collect,
      [] as string[],
    )
    .option('--placeholders <file>', 'YAML map of placeholder name → values, for Sigma expand')
    .option('--recover', 'EVTX: also read records left in chunk slack')
    .option('--no-progress', 'no progress bar')
    .action(
      (
        paths: string[],
        opts: Omit<HuntCommandOptions, 'host' | 'rule' | 'correlate'> & { html?: string } & StoreChoice,
      ) => {
        if (opts.format !== undefined && opts.format !== 'json') {
          warn(
            `lotl report: --format must be json, not ${JSON.stringify(opts.format)} (the page: --html FILE)\n`,
          );
          process.exitCode = EXIT_ERROR;
          return;
        }
        const stored = opts.db !== undefined || opts.clickhouse !== undefined || opts.cluster !== undefined;
        if (stored && paths.length > 0) {
          warn('lotl report: give either PATHS or a store (--db, --clickhouse), not both\n');
          process.exitCode = EXIT_ERROR;
          return;
        }
        if (!stored && paths.length === 0) {
          warn('lotl report: no inputs: give log files or folders, or --db FILE, or --clickhouse URL\n');
          process.exitCode = EXIT_ERROR;
          return;
        }
        if (stored) {
          const problem = storeChoiceProblem('report', opts);
          if (problem) {
            warn(`${problem}\n`);
            process.exitCode = EXIT_ERROR;
            return;
          }
        }
        const html = opts.html ? new HtmlReportFile(opts.html, VERSION) : undefined;
        const reportOpts = {
          ...opts,
          format: 'json',
          host: [],
          rule: [],
          correlate: true,
          threads: 1,
          html,
          reportJson: opts.format === 'json' || !html,
        };
        if (stored) return huntDatabaseAction(opts, reportOpts, true);
        return huntAction(paths, reportOpts, true);
      },
    );
}
