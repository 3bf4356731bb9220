/**
 * `lotl serve`'s HTTP API and web UI (fastify). Loopback by default; writes (ingest, uploads) need
 * the token, and so do reads when the server listens beyond loopback; bodies are bounded; no CORS
 * headers, so other origins' pages cannot read answers, and on loopback a request must name a
 * loopback host (a DNS-rebinding page names its own). See docs/server.md.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Alert, Level } from '../detect/alert.js';
import { LEVELS } from '../detect/alert.js';
import { bindKql, lineCol } from '../detect/kql/frontend.js';
import { TABLES } from '../detect/kql/schemas.js';
import { KqlUnsupportedError } from '../detect/kql/to-sql.js';
import { BUILTIN } from '../hunt/builtin.js';
import { normalize } from '../normalize/normalize.js';
import { QueryLimitError } from '../store/duckdb.js';
import type { LiveAnswers } from './answers.js';
import type { Jobs } from './jobs.js';
import type { LiveHunts } from './kql-hunts.js';
import type { LiveDetection } from './live.js';
import { NdjsonError, parseNdjson } from './ndjson.js';
import type { AlertFilter, CommitResult, ServerStore } from './store.js';
import type { Webhook } from './webhooks.js';

export interface ServerLimits {
  /** Bytes of one POST /api/ingest body. */
  maxBody: number;
  /** Events in one ingest batch. */
  maxBatchEvents: number;
  /** Bytes of one uploaded file. */
  maxUpload: number;
  /** Rows of one page of a query's result. */
  maxPageRows: number;
  /** Ingest batches being committed at once; one more is answered 503 (Retry-After). */
  maxPendingBatches: number;
  /** Uploads waiting for their turn; one more is answered 503. */
  maxQueuedJobs: number;
  /** Server-sent event streams open at once. */
  maxListeners: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxBody: 16 * 1024 * 1024,
  maxBatchEvents: 100_000,
  maxUpload: 4 * 1024 * 1024 * 1024,
  maxPageRows: 10_000,
  maxPendingBatches: 8,
  maxQueuedJobs: 100,
  maxListeners: 100,
};

/** A rule the server runs, as the rule browser lists it. */
export interface RuleInfo {
  id: string;
  title: string;
  level: string;
  kind: 'sigma' | 'correlation' | 'kql';
  tags: string[];
  file: string;
}

export interface ServerParts {
  store: ServerStore;
  live: LiveDetection;
  jobs: Jobs;
  answers: LiveAnswers;
  /** The KQL hunts run as events arrive (none: not run). */
  hunts: LiveHunts | null;
  webhooks: Webhook[];
  rules: RuleInfo[];
  token: string;
  /** Where the server listens: loopback or not decides whether reads need the token. */
  loopback: boolean;
  limits: ServerLimits;
}

const WEB = fileURLToPath(new URL('../../web/app', import.meta.url));
const require = createRequire(import.meta.url);
/** Monaco and its Kusto language, served from the installed packages (AMD builds): no network. */
const VENDOR: [string, string][] = [
  [
    '/vendor/vs/language/kusto/',
    path.join(path.dirname(require.resolve('@kusto/monaco-kusto/package.json')), 'release', 'min'),
  ],
  ['/vendor/vs/', path.join(path.dirname(require.resolve('monaco-editor/package.json')), 'min', 'vs')],
];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.ttf': 'font/ttf',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

const CSP = [
  "default-src 'self'",
  // Monaco's Kusto worker runs Bridge.NET code that builds functions from text.
  "script-src 'self' 'unsafe-eval'",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export function buildApp(parts: ServerParts): FastifyInstance {
  const { store, live, jobs, answers, limits } = parts;
  const app = Fastify({ bodyLimit: limits.maxBody, logger: false, routerOptions: { maxParamLength: 200 } });
  const token = Buffer.from(parts.token);

  const tokenOf = (req: FastifyRequest): string | null => {
    const h = req.headers.authorization;
    if (typeof h === 'string' && h.startsWith('Bearer ')) return h.slice(7);
    // In the address only for the event stream (a browser's EventSource sends no headers).
    if (!req.url.startsWith('/api/stream')) return null;
    const q = (req.query as Record<string, unknown>)?.token;
    return typeof q === 'string' ? q : null;
  };
  const authorized = (req: FastifyRequest) => {
    const given = tokenOf(req);
    if (given === null) return false;
    const b = Buffer.from(given);
    return b.length === token.length && timingSafeEqual(b, token);
  };

  app.addHook('onRequest', async (req, reply) => {
    if (parts.loopback && !loopbackHost(req.headers.host)) {
      return reply.code(421).send({ error: 'this server answers requests to a loopback address only' });
    }
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('content-security-policy', CSP);
    reply.header('cache-control', 'no-store');
    const write = req.method !== 'GET' && req.method !== 'HEAD' && !req.url.startsWith('/api/query');
    const api = req.url.startsWith('/api/');
    if (api && (write || !parts.loopback) && !authorized(req)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({
        error: 'a token is required: Authorization: Bearer TOKEN (printed when the server started)',
      });
    }
  });

  // NDJSON bodies as bytes (bounded by bodyLimit: 413 past it); uploads as a stream, bounded here.
  app.addContentTypeParser(
    ['application/x-ndjson', 'application/jsonl'],
    { parseAs: 'buffer' },
    (_req, body, done) => done(null, body),
  );
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

  app.get('/api/status', async () => ({
    store: path.basename(store.name),
    version: store.version,
    ...(await store.counts()),
    rules: parts.rules.length,
    jobs: jobs.list().filter((j) => j.state === 'queued' || j.state === 'running').length,
    /** True while the KQL hunts are due to run or running (their alerts follow the commits). */
    hunting: parts.hunts?.busy ?? false,
    /** Hunts whose last run gave more rows than one run keeps (narrow them). */
    cappedHunts: [...(parts.hunts?.capped ?? [])].map((f) => path.basename(f)),
    webhooks: parts.webhooks.map((w) => ({ delivered: w.delivered, failed: w.failed, dropped: w.dropped })),
    limits,
  }));

  /** Batches being detected and committed, by key (bounded: past the bound a sender is told to wait). */
  const inFlight = new Map<string, Promise<CommitResult>>();
  app.post('/api/ingest', async (req, reply) => {
    if (!Buffer.isBuffer(req.body))
      return reply
        .code(415)
        .send({ error: 'send NDJSON (content-type application/x-ndjson), one event per line' });
    const key = req.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(key)))
      return reply.code(400).send({ error: 'Idempotency-Key: 1 to 200 printable ASCII characters' });
    const id = key === undefined ? `ingest:${crypto.randomUUID()}` : `ingest:${key}`;
    let events: ReturnType<typeof parseNdjson>;
    try {
      events = parseNdjson(req.body, 'ingest', limits.maxBatchEvents);
    } catch (err) {
      if (!(err instanceof NdjsonError)) throw err;
      return reply
        .code(400)
        .send({ error: err.message, line: err.line, column: err.column, offset: err.offset });
    }
    // A retried batch is answered from the store, before detection: the detectors keep state
    // (correlation windows) that must not see its events twice. One of the same key under way is
    // waited for.
    const answer = (r: CommitResult) => ({
      committed: true,
      duplicate: !r.stored,
      events: r.events,
      alerts: r.alerts,
    });
    const underWay = inFlight.get(id);
    if (underWay) return answer({ ...(await underWay), stored: false });
    const known = await store.known(id);
    if (known) return answer(known);
    if (inFlight.size >= limits.maxPendingBatches)
      return reply
        .code(503)
        .header('retry-after', '1')
        .send({ error: `${inFlight.size} batches are being committed: send this one again shortly` });
    const commit = (async () => {
      const views = events.map((e) => normalize(e));
      return live.commit(store, { id, source: 'ingest', views });
    })();
    inFlight.set(id, commit);
    try {
      return answer(await commit);
    } finally {
      inFlight.delete(id);
    }
  });

  app.post('/api/uploads', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const name = safeName(typeof q.name === 'string' ? q.name : '');
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (declared > limits.maxUpload)
      return reply.code(413).send({ error: `a file is at most ${limits.maxUpload} bytes` });
    if (!req.body || typeof (req.body as Readable).pipe !== 'function')
      return reply.code(415).send({ error: 'send the file as application/octet-stream, its name in ?name=' });
    if (jobs.queued() >= limits.maxQueuedJobs)
      return reply
        .code(503)
        .header('retry-after', '10')
        .send({ error: `${jobs.queued()} uploads are waiting: send this one when they are read` });
    const { id, dir } = jobs.reserve();
    const file = path.join(dir, name);
    let bytes = 0;
    let over = false;
    const body = req.body as Readable;
    // The file's hash names its batches: the same file uploaded again adds nothing.
    const hash = createHash('sha256');
    body.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
      if (bytes > limits.maxUpload && !over) {
        over = true;
        body.destroy(new Error('too large'));
      }
    });
    try {
      await pipeline(body, createWriteStream(file));
    } catch (err) {
      jobs.release(id);
      if (over) return reply.code(413).send({ error: `a file is at most ${limits.maxUpload} bytes` });
      throw err;
    }
    return reply.code(202).send(jobs.add(id, name, file, bytes, hash.digest('hex')));
  });

  app.get('/api/jobs', async () => jobs.list());
  app.get('/api/jobs/:id', async (req, reply) => {
    const job = jobs.get((req.params as { id: string }).id);
    return job ?? reply.code(404).send({ error: 'no such job' });
  });

  const filterOf = (q: Record<string, string | undefined>): AlertFilter | string => {
    const level = (q.level || undefined) as Level | undefined;
    if (level !== undefined && !LEVELS.includes(level)) return `level: one of ${LEVELS.join(', ')}`;
    const from = instant(q.from);
    const to = instant(q.to);
    if (from === null || to === null)
      return 'from and to: dates and times such as 2023-05-16T13:00 (UTC unless a zone is given)';
    return {
      minLevel: level,
      rule: q.rule || undefined,
      host: q.host || undefined,
      text: q.q || undefined,
      from,
      to,
    };
  };
  app.get('/api/timeline', async (req, reply) => {
    const filter = filterOf(req.query as Record<string, string | undefined>);
    if (typeof filter === 'string') return reply.code(400).send({ error: filter });
    return store.timeline(filter);
  });

  app.get('/api/alerts', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const filter = filterOf(q);
    if (typeof filter === 'string') return reply.code(400).send({ error: filter });
    const page = pageOf(q, 500);
    if (!page) return reply.code(400).send({ error: 'offset and limit: whole numbers, limit 1 to 500' });
    return store.alerts(filter, page);
  });

  // Committed alerts and job progress as they happen (server-sent events).
  let listeners = 0;
  /** The open streams: ended when the server closes (they would hold it open for ever). */
  const streams = new Set<import('node:http').ServerResponse>();
  app.addHook('preClose', async () => {
    for (const res of streams) res.end();
  });
  app.get('/api/stream', (req, reply) => {
    if (listeners >= limits.maxListeners)
      return reply.code(503).send({ error: `${listeners} streams are open already` });
    listeners++;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    res.write(': lotl\n\n');
    streams.add(res);
    let queued = 0;
    const send = (event: string, data: unknown) => {
      // A listener that does not read is not waited for: past its queue it misses events.
      if (res.writableLength > 8 * 1024 * 1024) {
        queued++;
        return;
      }
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const stopAlerts = live.listen((alerts: Alert[]) => {
      for (const a of alerts.slice(0, 1_000)) send('alert', a);
      if (alerts.length > 1_000) send('more', { alerts: alerts.length - 1_000 });
    });
    const stopJobs = jobs.listen((job) => send('job', job));
    const ping = setInterval(() => res.write(`: ping ${queued}\n\n`), 15_000);
    req.raw.on('close', () => {
      streams.delete(res);
      listeners--;
      clearInterval(ping);
      stopAlerts();
      stopJobs();
    });
  });

  app.get('/api/incidents', async () => {
    const a = await answers.get();
    return {
      incidents: a.incidents,
      accounts: a.accounts,
      correlationAlerts: a.correlationAlerts,
      limits: a.limits,
    };
  });
  app.get('/api/signins', async () => {
    const a = await answers.get();
    return { signins: a.signins, coverage: a.coverage };
  });

  app.get('/api/rules', async () => {
    const hits = await store.ruleHits();
    return parts.rules.map((r) => ({ ...r, hits: hits.get(r.id) ?? 0 }));
  });

  app.get('/api/schema', async () => kustoSchema());

  app.get('/api/hunts', async () =>
    readdirSync(BUILTIN.hunts)
      .filter((f) => f.endsWith('.kql'))
      .sort()
      .map((f) => ({
        name: f.replace(/\.kql$/, ''),
        query: readFileSync(path.join(BUILTIN.hunts, f), 'utf8'),
      })),
  );

  app.post('/api/query', { bodyLimit: 1024 * 1024 }, async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (typeof b.query !== 'string' || b.query.trim() === '')
      return reply.code(400).send({ error: 'query: the KQL text' });
    const page = pageOf(
      {
        offset: b.offset === undefined ? undefined : String(b.offset),
        limit: b.limit === undefined ? undefined : String(b.limit),
      },
      limits.maxPageRows,
    );
    if (!page)
      return reply
        .code(400)
        .send({ error: `offset and limit: whole numbers, limit 1 to ${limits.maxPageRows}` });
    const query = b.query;
    const bound = bindKql(query);
    const errors = bound.problems.filter((p) => p.severity === 'error');
    if (errors.length > 0)
      return reply.code(400).send({
        error: 'the query has errors',
        problems: errors.map((p) => ({
          line: p.line,
          column: p.col,
          start: p.start,
          length: p.length,
          message: p.message,
        })),
      });
    const started = performance.now();
    try {
      const result = await store.kql(bound, page, new Date());
      return { ...result, offset: page.offset, ms: Math.round(performance.now() - started) };
    } catch (err) {
      if (err instanceof KqlUnsupportedError) {
        const at = lineCol(query, err.start);
        return reply.code(400).send({
          error: 'the query uses what lotl does not run yet',
          problems: [
            { line: at.line, column: at.col, start: err.start, length: err.length, message: err.message },
          ],
        });
      }
      if (err instanceof QueryLimitError) return reply.code(422).send({ error: err.message });
      return reply
        .code(422)
        .send({ error: `the query failed while running: ${(err as Error).message.split('\n')[0]}` });
    }
  });

  // The web UI and the editor's files (read-only, from the package).
  const serveFile = (root: string, rel: string, reply: FastifyReply) => {
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep) || !existsSync(file))
      return reply.code(404).send({ error: 'not found' });
    return reply
      .header('content-type', TYPES[path.extname(file)] ?? 'application/octet-stream')
      .header('cache-control', 'public, max-age=3600')
      .send(readFileSync(file));
  };
  app.get('/', (_req, reply) => serveFile(WEB, 'index.html', reply));
  app.get('/app/*', (req, reply) => serveFile(WEB, (req.params as { '*': string })['*'], reply));
  for (const [prefix, root] of VENDOR)
    app.get(`${prefix}*`, (req, reply) => serveFile(root, (req.params as { '*': string })['*'], reply));

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    reply.code(status).send({ error: status === 500 ? `internal error: ${err.message}` : err.message });
  });
  return app;
}

/**
 * A filter's time as the ISO text alerts carry (so that texts compare as instants): undefined when
 * not given, null when not a time. Without a zone it is UTC, as the alerts' times are.
 */
export function instant(text: string | undefined): string | undefined | null {
  if (text === undefined || text.trim() === '') return undefined;
  const t = text.trim();
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(t) || !t.includes('T') ? t : `${t}Z`);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** True when a Host header names a loopback address (with any port). */
export function loopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** An uploaded file's name as it is saved: its last part, printable, short. */
export function safeName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[\x00-\x1f\x7f]/g, '').slice(-120);
  return clean === '' || clean === '.' || clean === '..' ? 'upload' : clean;
}

function pageOf(
  q: { offset?: string; limit?: string },
  max: number,
): { offset: number; limit: number } | null {
  const offset = q.offset === undefined ? 0 : Number(q.offset);
  const limit = q.limit === undefined ? Math.min(100, max) : Number(q.limit);
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(limit) || limit < 1 || limit > max)
    return null;
  return { offset, limit };
}

/** The tables as Kusto's `.show schema as json` gives them (what the editor completes from). */
function kustoSchema(): unknown {
  const clr: Record<string, string> = {
    string: 'System.String',
    long: 'System.Int64',
    int: 'System.Int32',
    real: 'System.Double',
    bool: 'System.SByte',
    datetime: 'System.DateTime',
    timespan: 'System.TimeSpan',
    dynamic: 'System.Object',
    guid: 'System.Guid',
  };
  const tables = Object.fromEntries(
    TABLES.map((t) => [
      t.name,
      {
        Name: t.name,
        DocString: '',
        OrderedColumns: t.columns.map(([name, type]) => ({ Name: name, Type: clr[type], CslType: type })),
      },
    ]),
  );
  return {
    Plugins: [],
    Databases: {
      lotl: {
        Name: 'lotl',
        Tables: tables,
        ExternalTables: {},
        MaterializedViews: {},
        Functions: {},
        MajorVersion: 1,
        MinorVersion: 0,
      },
    },
  };
}
