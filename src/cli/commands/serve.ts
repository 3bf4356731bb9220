/**
 * `lotl serve`: the team's server — the HTTP API (NDJSON ingest, uploads as jobs, alerts, incidents,
 * KQL) and the web UI, over an embedded DuckDB file. See docs/server.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadIndicatorSet } from '../../detect/ioc/loaders.js';
import { iocAlerts } from '../../detect/ioc/match.js';
import { huntRuleId } from '../../detect/kql/hunts.js';
import { SigmaEngine } from '../../detect/sigma/engine.js';
import { loadRules } from '../../detect/sigma/load.js';
import { BUILTIN } from '../../hunt/builtin.js';
import { printable } from '../../report/terminal-text.js';
import { IngestedEvents } from '../../server/adopt.js';
import { LiveAnswers } from '../../server/answers.js';
import { buildApp, DEFAULT_LIMITS, type RuleInfo } from '../../server/app.js';
import { ClickHouseServerStore } from '../../server/clickhouse-store.js';
import { Jobs } from '../../server/jobs.js';
import { LiveHunts } from '../../server/kql-hunts.js';
import { LiveDetection } from '../../server/live.js';
import { DuckDbServerStore, MAX_RESTORED_SIGNALS, type ServerStore } from '../../server/store.js';
import { WEBHOOK_DRAIN_MS, Webhook } from '../../server/webhooks.js';
import { DEFAULT_QUERY_LIMITS } from '../../store/duckdb.js';
import { storeName } from '../../store/stored-events.js';
import { makeTempDir, onInterrupt, removeTempDir } from '../../temp-dirs.js';
import { EXIT_ERROR } from '../exit-codes.js';
import { collect, memorySize, wholeNumber } from '../option-values.js';
import { warn } from '../output.js';
import { ruleCache } from './sigma-options.js';

interface ServeOptions {
  db: string;
  host: string;
  port: number;
  token?: string;
  sigma: string[];
  pack: boolean;
  kql: string[] | false;
  webhook: string[];
  maxBody: number;
  maxUpload: number;
  maxBatchEvents: number;
  maxPendingBatches: number;
  timeout: number;
  maxMemory: string;
  clickhouse?: string;
  cluster?: string;
  uploads?: string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'the HTTP API and web UI: upload logs, ingest NDJSON, see alerts and incidents, run KQL (docs/server.md)',
    )
    .option(
      '--db <file>',
      'the DuckDB database file the server keeps its events in (made if absent)',
      'lotl-serve.duckdb',
    )
    .option(
      '--host <address>',
      'the address to listen on (beyond loopback, reads need the token too)',
      '127.0.0.1',
    )
    .option('--port <n>', 'the port (0: any free one)', wholeNumber(0, 65535), 8080)
    .option('--token <token>', 'the token writes need (default: LOTL_TOKEN, else a random one, printed)')
    .option(
      '--sigma <path>',
      'Sigma rules to run on arriving events besides the pack (repeatable)',
      collect,
      [],
    )
    .option('--no-pack', 'leave out the built-in pack')
    .option(
      '--kql <path>',
      'KQL hunting queries to run as events arrive, besides the pack’s (repeatable)',
      collect,
      [],
    )
    .option('--no-kql', 'run no KQL hunting query')
    .option(
      '--webhook <url>',
      'POST each committed batch of alerts to this URL as a JSON array, signed with LOTL_WEBHOOK_SECRET when set (repeatable)',
      collect,
      [],
    )
    .option(
      '--max-body <bytes>',
      'bytes of one NDJSON ingest body',
      wholeNumber(1024),
      DEFAULT_LIMITS.maxBody,
    )
    .option('--max-upload <bytes>', 'bytes of one uploaded file', wholeNumber(1024), DEFAULT_LIMITS.maxUpload)
    .option(
      '--max-batch-events <n>',
      'events of one NDJSON batch',
      wholeNumber(1),
      DEFAULT_LIMITS.maxBatchEvents,
    )
    .option(
      '--max-pending-batches <n>',
      'ingest batches committed at once; one more is told to retry (503)',
      wholeNumber(1),
      DEFAULT_LIMITS.maxPendingBatches,
    )
    .option(
      '--timeout <seconds>',
      'seconds a KQL query may run',
      wholeNumber(1),
      DEFAULT_QUERY_LIMITS.timeoutMs / 1000,
    )
    .option(
      '--max-memory <size>',
      "DuckDB's memory limit (past it, it pages to its file)",
      memorySize,
      '512MB',
    )
    .option(
      '--clickhouse <url>',
      'keep the events in a ClickHouse server instead: http://[user:password@]host:8123/[?database=NAME]',
    )
    .option(
      '--uploads <dir>',
      'where uploaded files wait to be read; a restart resumes the jobs it finds there (default: DB.uploads beside --db; with --clickhouse a temporary folder, not resumed)',
    )
    .option(
      '--cluster <name>',
      "with --clickhouse: shard the events over this cluster of the server's configuration",
    )
    .action(async (opts: ServeOptions) => {
      if (opts.cluster !== undefined && opts.clickhouse === undefined) {
        warn('lotl serve: --cluster goes with --clickhouse\n');
        process.exitCode = EXIT_ERROR;
        return;
      }
      const token = opts.token ?? process.env.LOTL_TOKEN ?? randomBytes(24).toString('base64url');
      let webhooks: Webhook[];
      try {
        const secret = process.env.LOTL_WEBHOOK_SECRET || undefined;
        webhooks = opts.webhook.map(
          (u) => new Webhook(u, (m) => warn(`lotl serve: ${printable(m)}\n`), secret),
        );
      } catch (err) {
        warn(`lotl serve: ${printable((err as Error).message)}\n`);
        process.exitCode = EXIT_ERROR;
        return;
      }
      const sigmaPaths = [...(opts.pack ? [BUILTIN.sigma] : []), ...opts.sigma];
      const loaded = loadRules(sigmaPaths, { cache: ruleCache() });
      for (const p of loaded.problems.filter((x) => x.severity === 'error').slice(0, 20))
        warn(`lotl serve: ${printable(`${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`)}\n`);
      const iocs = opts.pack ? loadIndicatorSet([BUILTIN.iocs]).set : null;
      // The matches that feed correlation windows go with their batch (LiveDetection collects
      // them), so that a restart opens the windows again.
      const sigma = new SigmaEngine(loaded.rules, {
        correlations: loaded.correlations,
        onSignal: (s) => live.signal(s),
      });
      const detectors = [
        sigma,
        ...(iocs ? [{ evaluate: (view: Parameters<typeof iocAlerts>[0]) => iocAlerts(view, iocs) }] : []),
      ];
      const rules: RuleInfo[] = [
        ...loaded.rules.map((r) => ({
          id: r.id,
          title: r.title,
          level: r.level,
          kind: 'sigma' as const,
          tags: r.tags,
          file: r.file,
        })),
        ...loaded.correlations.map((r) => ({
          id: r.id,
          title: r.title,
          level: r.level,
          kind: 'correlation' as const,
          tags: r.tags,
          file: r.file,
        })),
      ];
      let store: ServerStore;
      const stage = makeTempDir('lotl-serve-stage-');
      const limits = { ...DEFAULT_QUERY_LIMITS, timeoutMs: opts.timeout * 1000, memory: opts.maxMemory };
      const where = printable(
        opts.clickhouse !== undefined
          ? storeName({ clickhouse: opts.clickhouse, cluster: opts.cluster })
          : opts.db,
      );
      try {
        store =
          opts.clickhouse !== undefined
            ? await ClickHouseServerStore.open(opts.clickhouse, limits, opts.cluster)
            : await DuckDbServerStore.open(path.resolve(opts.db), limits, stage);
      } catch (err) {
        warn(`lotl serve: cannot open ${where}: ${printable((err as Error).message.split('\n')[0])}\n`);
        removeTempDir(stage);
        process.exitCode = EXIT_ERROR;
        return;
      }
      const live = new LiveDetection(detectors);
      const span = sigma.correlationSpanMs();
      if (span > 0) {
        try {
          const kept = await store.recentSignals(span, MAX_RESTORED_SIGNALS);
          const restored = sigma.restore(kept.signals);
          if (kept.total > 0)
            warn(
              `lotl serve: correlation windows opened again from ${restored.toLocaleString('en-US')} matches of the last ${printable(spanText(span))}${kept.total > kept.signals.length ? ` (the newest; ${(kept.total - kept.signals.length).toLocaleString('en-US')} older ones left out)` : ''}\n`,
            );
        } catch (err) {
          warn(
            `lotl serve: correlation windows not opened again: ${printable((err as Error).message.split('\n')[0])}\n`,
          );
        }
      }
      for (const w of webhooks) live.listen((alerts) => w.post(alerts));
      const huntPaths = opts.kql === false ? [] : [...(opts.pack ? [BUILTIN.hunts] : []), ...opts.kql];
      const kql = await LiveHunts.open(huntPaths, store, live, (m) => warn(`lotl serve: ${printable(m)}\n`));
      for (const p of kql.problems)
        warn(
          `lotl serve: ${printable(p.file)}: ${p.unsupported ? 'KQL hunt not run: ' : 'error KQL_QUERY '}${printable(p.message)}\n`,
        );
      live.onCommit(() => kql.hunts.schedule());
      for (const h of kql.infos)
        rules.push({
          id: huntRuleId(h),
          title: h.title,
          level: h.level,
          kind: 'kql',
          tags: h.techniques,
          file: h.file,
        });
      // The correlate stage is given what the store holds before the server takes any batch.
      const answers = new LiveAnswers(store, live);
      try {
        const started = Date.now();
        const replayed = await answers.load((n) =>
          warn(`lotl serve: correlating the stored events: ${n.toLocaleString('en-US')}\n`),
        );
        if (replayed > 0)
          warn(
            `lotl serve: ${replayed.toLocaleString('en-US')} stored events correlated in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
          );
      } catch (err) {
        warn(`lotl serve: cannot read ${where}: ${printable((err as Error).message.split('\n')[0])}\n`);
        kql.hunts.stop();
        await store.close();
        removeTempDir(stage);
        process.exitCode = EXIT_ERROR;
        return;
      }
      // Uploads wait beside the database, so a restart finds the jobs it cut short.
      const uploadsDir =
        opts.uploads ?? (opts.clickhouse === undefined ? `${path.resolve(opts.db)}.uploads` : undefined);
      let uploads: string;
      try {
        uploads = uploadsDir === undefined ? makeTempDir('lotl-serve-') : makeUploadsDir(uploadsDir);
      } catch (err) {
        warn(
          `lotl serve: cannot use ${printable(uploadsDir ?? '')} for uploads: ${printable((err as Error).message)}\n`,
        );
        kql.hunts.stop();
        await store.close();
        removeTempDir(stage);
        process.exitCode = EXIT_ERROR;
        return;
      }
      const jobs = new Jobs(uploads, store, live);
      const ingested = new IngestedEvents(store, live);
      const loopback = LOOPBACK.has(opts.host);
      const app = buildApp({
        store,
        live,
        jobs,
        answers,
        hunts: kql.hunts,
        webhooks,
        rules,
        token,
        loopback,
        limits: {
          maxBody: opts.maxBody,
          maxUpload: opts.maxUpload,
          maxBatchEvents: opts.maxBatchEvents,
          maxPageRows: DEFAULT_LIMITS.maxPageRows,
          maxPendingBatches: opts.maxPendingBatches,
          maxQueuedJobs: DEFAULT_LIMITS.maxQueuedJobs,
          maxListeners: DEFAULT_LIMITS.maxListeners,
        },
      });
      let address: string;
      try {
        address = await app.listen({ host: opts.host, port: opts.port });
      } catch (err) {
        warn(
          `lotl serve: cannot listen on ${printable(`${opts.host}:${opts.port}`)}: ${printable((err as Error).message)}\n`,
        );
        await store.close();
        if (uploadsDir === undefined) removeTempDir(uploads);
        removeTempDir(stage);
        process.exitCode = EXIT_ERROR;
        return;
      }
      const counts = await store.counts();
      const undetected = await store.undetected().catch(() => 0);
      if (undetected > 0)
        warn(
          store.undetectedEvents
            ? `lotl serve: ${undetected.toLocaleString('en-US')} of the stored events came from lotl ingest: the detections run over them now\n`
            : `lotl serve: ${undetected.toLocaleString('en-US')} of the stored events came from lotl ingest and are not run through the server's detections on this store (it detects what it is sent): \`lotl hunt\` or \`lotl report\` with the same store hunts them\n`,
        );
      warn(
        `lotl serve: ${printable(store.name)} holds ${counts.events.toLocaleString('en-US')} events, ${counts.alerts.toLocaleString('en-US')} alerts; ${rules.length} rules\n`,
      );
      if (!loopback)
        warn(
          `lotl serve: listening beyond loopback (${printable(opts.host)}): every request needs the token\n`,
        );
      ingested.start(undetected, (m) => warn(`lotl serve: ${printable(m)}\n`));
      const resumed = jobs.resume((m) => warn(`lotl serve: ${printable(m)}\n`));
      if (resumed.length > 0)
        warn(
          `lotl serve: resuming ${resumed.length} uploads a stop cut short: ${printable(
            resumed
              .map((j) => j.name)
              .join(', ')
              .slice(0, 300),
          )}\n`,
        );
      // The token rides in the fragment: the page reads it, browsers never send it to a server.
      warn(`lotl serve: listening on ${address}/#token=${token}\n`);
      // On SIGINT or SIGTERM: no new requests, the commit under way finished, the store closed.
      onInterrupt(async () => {
        kql.hunts.stop();
        await ingested.stop();
        await jobs.stop();
        await app.close();
        await store.close();
        // Alerts still on their way to a webhook get a few seconds; what is left is said.
        for (const [i, left] of (await Promise.all(webhooks.map((w) => w.close(WEBHOOK_DRAIN_MS)))).entries())
          if (left > 0)
            warn(
              `lotl serve: webhook ${printable(webhooks[i].url)}: ${left} batches of alerts not delivered at shutdown\n`,
            );
      });
    });
}

/** The uploads folder: made if absent, readable by its owner only (the logs are the case's). */
function makeUploadsDir(dir: string): string {
  const resolved = path.resolve(dir);
  mkdirSync(resolved, { recursive: true, mode: 0o700 });
  return resolved;
}

/** A timespan in the largest unit that divides it: 24h → "24 h", 90m → "90 min". */
function spanText(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}
