/**
 * `lotl serve`'s HTTP API on loopback: the token for writes, body limits, NDJSON batches all or
 * nothing with the bad line's place, retries by Idempotency-Key stored once, uploads as jobs, live
 * alerts (server-sent events and a webhook), incidents of the example scenario, KQL pages and
 * located errors, and hostile requests (a rebinding Host, a crafted query).
 */
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { EXAMPLES, FIXTURES } from '../helpers.js';
import { type ClickHouse, HAS_CLICKHOUSE, startClickHouse } from '../support/clickhouse.js';
import { huntedExamples, type RunningServer, SCENARIO_FILES, startServer } from './server-process.js';

let dir: string;
let server: RunningServer;
let hook: Server;
const hooked: unknown[][] = [];
const hookHeaders: Record<string, string | string[] | undefined>[] = [];
const hookBodies: string[] = [];
const HOOK_SECRET = 'hook-secret';

const lines = readFileSync(path.join(EXAMPLES, 'sysmon-fs02-ws07.jsonl'), 'utf8').trim().split('\n');

async function api(
  method: string,
  route: string,
  body?: string | Buffer | object,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const isObject = body !== undefined && typeof body === 'object' && !Buffer.isBuffer(body);
  const res = await fetch(`${server.url}${route}`, {
    method,
    headers: {
      ...(isObject ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: isObject
      ? JSON.stringify(body)
      : Buffer.isBuffer(body)
        ? new Uint8Array(body)
        : (body as string | undefined),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : {} };
}

const auth = () => ({ authorization: `Bearer ${server.token}` });
const ndjson = { 'content-type': 'application/x-ndjson' };

/** The two stores the server keeps its events in: a DuckDB file, a ClickHouse server on loopback. */
const STORES: { name: string; available: boolean; args: () => Promise<string[]> }[] = [
  { name: 'DuckDB', available: true, args: async () => ['--db', path.join(dir, 'api.duckdb')] },
  {
    name: 'ClickHouse',
    available: HAS_CLICKHOUSE,
    args: async () => {
      clickhouse = await startClickHouse();
      return ['--clickhouse', clickhouse.url];
    },
  },
];
let clickhouse: ClickHouse | undefined;
if (!HAS_CLICKHOUSE)
  process.stderr.write(
    '\n*** clickhouse-server not found: lotl serve --clickhouse API tests DID NOT RUN. ***\n',
  );

describe.each(STORES)('lotl serve, the API, on $name', ({ available, args: storeArgs }) => {
  beforeAll(async () => {
    if (!available) return;
    dir = mkdtempSync(path.join(tmpdir(), 'lotl-serve-api-'));
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        hooked.push(JSON.parse(body));
        hookHeaders.push(req.headers);
        hookBodies.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    const port = (hook.address() as { port: number }).port;
    server = await startServer(
      [
        ...(await storeArgs()),
        '--max-body',
        '65536',
        '--max-upload',
        '300000',
        '--webhook',
        `http://127.0.0.1:${port}/alerts`,
      ],
      undefined,
      undefined,
      { LOTL_WEBHOOK_SECRET: HOOK_SECRET },
    );
  }, 60_000);

  afterAll(async () => {
    if (!available) return;
    await server?.stop();
    await clickhouse?.stop();
    clickhouse = undefined;
    hooked.length = 0;
    hookHeaders.length = 0;
    hookBodies.length = 0;
    hook?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses writes without the token (401), and takes reads on loopback without it', async () => {
    expect((await api('POST', '/api/ingest', lines[0], ndjson)).status).toBe(401);
    expect(
      (await api('POST', '/api/ingest', lines[0], { ...ndjson, authorization: 'Bearer wrong' })).status,
    ).toBe(401);
    expect(
      (
        await api('POST', '/api/uploads?name=a.jsonl', lines[0], {
          'content-type': 'application/octet-stream',
        })
      ).status,
    ).toBe(401);
    // The token in the address counts for the event stream only (it cannot send headers).
    expect((await api('POST', `/api/ingest?token=${server.token}`, lines[0], ndjson)).status).toBe(401);
    expect((await api('GET', '/api/status')).status).toBe(200);
  });

  it.skipIf(!available)('refuses a body over the limit (413) and stores nothing of it', async () => {
    const big = `${lines[0]}\n`.repeat(Math.ceil(70_000 / lines[0].length));
    const r = await api('POST', '/api/ingest', big, { ...ndjson, ...auth() });
    expect(r.status).toBe(413);
    const up = await api('POST', '/api/uploads?name=big.jsonl', Buffer.alloc(400_000, 32), {
      'content-type': 'application/octet-stream',
      ...auth(),
    });
    expect(up.status).toBe(413);
    expect((await api('GET', '/api/status')).json.events).toBe(0);
  });

  it.skipIf(!available)(
    'refuses a batch with a malformed line (400) with its line, column and offset, and stores none of it',
    async () => {
      const body = [lines[0], lines[1], '{"Event": {"System": {"EventID": 1,}}}', lines[2]].join('\n');
      const r = await api('POST', '/api/ingest', body, { ...ndjson, ...auth() });
      expect(r.status).toBe(400);
      expect(r.json.line).toBe(3);
      expect(r.json.column).toBe(36); // the } after `1,`
      expect(r.json.offset).toBe(Buffer.byteLength(`${lines[0]}\n${lines[1]}\n`) + 35); // bytes
      expect(String(r.json.error)).toMatch(/^line 3: not valid JSON/);
      const notEvent = await api('POST', '/api/ingest', `${lines[0]}\n42\n`, { ...ndjson, ...auth() });
      expect(notEvent.status).toBe(400);
      expect(notEvent.json.line).toBe(2);
      expect((await api('GET', '/api/status')).json.events).toBe(0);
    },
  );

  it.skipIf(!available)(
    'acknowledges a committed batch, raises its alerts live (server-sent events, webhook), and stores a retried key once',
    async () => {
      const stream = await fetch(`${server.url}/api/stream`);
      const reader = stream.body?.getReader();
      if (!reader) throw new Error('no stream');
      const first = await api('POST', '/api/ingest', lines.join('\n'), {
        ...ndjson,
        ...auth(),
        'idempotency-key': 'b-1',
      });
      expect(first.status).toBe(200);
      expect(first.json).toMatchObject({ committed: true, duplicate: false, events: lines.length });
      const alerts = first.json.alerts as number;
      expect(alerts).toBeGreaterThan(10);
      // The stream carries each committed alert.
      let text = '';
      while ((text.match(/^event: alert$/gm) ?? []).length < alerts) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      await reader.cancel();
      expect((text.match(/^event: alert$/gm) ?? []).length).toBe(alerts);
      expect(text).toContain('LSASS Memory Dump Via Comsvcs.dll MiniDump');
      const again = await api('POST', '/api/ingest', lines.join('\n'), {
        ...ndjson,
        ...auth(),
        'idempotency-key': 'b-1',
      });
      expect(again.json).toMatchObject({ committed: true, duplicate: true, events: lines.length });
      const status = (await api('GET', '/api/status')).json;
      expect(status.events).toBe(lines.length);
      expect(status.alerts).toBe(alerts);
      // The webhook got the batch's alerts as one array.
      for (let i = 0; i < 100 && hooked.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(hooked).toHaveLength(1);
      expect(hooked[0]).toHaveLength(alerts);
      // Signed with the server's secret over the timestamp and the body.
      const h = hookHeaders[0];
      const mac = createHmac('sha256', HOOK_SECRET).update(`${h['x-lotl-timestamp']}.${hookBodies[0]}`);
      expect(h['x-lotl-signature']).toBe(`sha256=${mac.digest('hex')}`);
      expect(Math.abs(Date.now() / 1000 - Number(h['x-lotl-timestamp']))).toBeLessThan(120);
    },
  );

  it.skipIf(!available)(
    'reads uploaded files as jobs (the same file twice stored once), then answers with the scenario’s incident and accounts to reset',
    async () => {
      // (The Sysmon file went in as NDJSON above.)
      const files = SCENARIO_FILES.filter((f) => f !== 'sysmon-fs02-ws07.jsonl');
      const ids: string[] = [];
      for (const f of files) {
        const r = await api(
          'POST',
          `/api/uploads?name=${encodeURIComponent(path.basename(f))}`,
          readFileSync(path.join(EXAMPLES, f)),
          {
            'content-type': 'application/octet-stream',
            ...auth(),
          },
        );
        expect(r.status).toBe(202);
        ids.push(String(r.json.id));
      }
      for (const id of ids) {
        let job: Record<string, unknown> = {};
        for (let i = 0; i < 200; i++) {
          job = (await api('GET', `/api/jobs/${id}`)).json;
          if (job.state === 'done' || job.state === 'failed') break;
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(job.state, String(job.error)).toBe('done');
        expect(job.events).toBeGreaterThan(0);
        expect(job.readBytes).toBe(job.bytes);
      }
      // The same file again adds nothing: its batches are named by its SHA-256.
      const before = (await api('GET', '/api/status')).json.events;
      const again = await api(
        'POST',
        '/api/uploads?name=copy.jsonl',
        readFileSync(path.join(EXAMPLES, files[0])),
        {
          'content-type': 'application/octet-stream',
          ...auth(),
        },
      );
      let copy: Record<string, unknown> = again.json;
      for (let i = 0; i < 200 && copy.state !== 'done'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        copy = (await api('GET', `/api/jobs/${again.json.id}`)).json;
      }
      expect(copy.state).toBe('done');
      expect(copy.known).toBe(copy.events);
      expect((await api('GET', '/api/status')).json.events).toBe(before);
      // Once the KQL hunts have run, the server holds what `lotl hunt` raises on the same events:
      // the same rules on the same events at the same times (the correlate stage's own alerts
      // are the incidents' answer here).
      for (let i = 0; i < 200 && (await api('GET', '/api/status')).json.hunting; i++)
        await new Promise((r) => setTimeout(r, 100));
      const served = (await api('GET', '/api/alerts?limit=500')).json.alerts as Alert[];
      const bursts = (await api('GET', '/api/incidents')).json.correlationAlerts as Alert[];
      const hunted = await huntedExamples();
      const key = (a: Alert) => `${a.rule.id} ${a.time} ${a.host}`;
      expect([...served, ...bursts].map(key).sort()).toEqual(hunted.map(key).sort());
      expect(served.filter((a) => a.rule.kind === 'kql').length).toBeGreaterThan(0);
      const { json } = await api('GET', '/api/incidents');
      const incidents = json.incidents as { severity: string; hosts: string[]; accounts: string[] }[];
      const main = incidents.filter((i) => i.severity !== 'informational');
      expect(main).toHaveLength(1);
      expect(main[0].hosts.map((h) => h.split('.')[0].toUpperCase()).sort()).toEqual([
        'DC01',
        'FS02',
        'WS07',
      ]);
      expect(main[0].accounts).toEqual(['CONTOSO\\svc-fortinet']);
      const reset = (json.accounts as { account: string }[]).map((a) => a.account);
      expect(reset).toContain('CONTOSO\\svc-fortinet');
      expect(reset).toContain('CONTOSO\\mlopez');
      expect(reset.some((a) => /jdoe/i.test(a))).toBe(false);
      const signins = (await api('GET', '/api/signins')).json.signins as { account: string }[];
      expect(signins.some((s) => /svc-fortinet/i.test(s.account))).toBe(true);
      const rules = (await api('GET', '/api/rules')).json as unknown as {
        id: string;
        hits: number;
        title: string;
      }[];
      expect(
        rules.find((r) => r.title === 'LSASS Memory Dump Via Comsvcs.dll MiniDump')?.hits,
      ).toBeGreaterThan(0);
      const filtered = await api('GET', '/api/alerts?level=critical&host=FS02.contoso.local&limit=500');
      const got = filtered.json.alerts as { rule: { level: string }; host: string }[];
      expect(got.length).toBe(filtered.json.total);
      expect(got.length).toBeGreaterThan(0);
      for (const a of got) expect([a.rule.level, a.host]).toEqual(['critical', 'FS02.contoso.local']);
      // A time window (UTC without a zone), both ends included; a time that is not one is refused.
      const window = await api('GET', '/api/alerts?from=2023-05-16T14:00&to=2023-05-16T14:45:01&limit=500');
      const times = (window.json.alerts as { time: string }[]).map((a) => a.time);
      expect(times.length).toBeGreaterThan(0);
      for (const t of times)
        expect(t >= '2023-05-16T14:00:00.000Z' && t <= '2023-05-16T14:45:01.000Z').toBe(true);
      expect((await api('GET', '/api/alerts?from=yesterday')).status).toBe(400);
      // EVTX, and a zip of one (the job opens the archive), read as jobs too (after the scenario's
      // answers: these samples are intrusions of their own).
      const evtx = path.join(FIXTURES, 'evtx', 'sysmon-1-wmiexec.evtx');
      const zip = path.join(dir, 'collected.zip');
      execFileSync('zip', ['-j', '-q', zip, path.join(FIXTURES, 'evtx', 'security-4688-tchopper.evtx')]);
      for (const [name, file] of [
        ['sysmon-1-wmiexec.evtx', evtx],
        ['collected.zip', zip],
      ]) {
        const r = await api('POST', `/api/uploads?name=${name}`, readFileSync(file), {
          'content-type': 'application/octet-stream',
          ...auth(),
        });
        expect(r.status).toBe(202);
        let job: Record<string, unknown> = r.json;
        for (let i = 0; i < 200 && (job.state === 'queued' || job.state === 'running'); i++) {
          await new Promise((res) => setTimeout(res, 50));
          job = (await api('GET', `/api/jobs/${r.json.id}`)).json;
        }
        expect([name, job.state, job.problems]).toEqual([name, 'done', 0]);
        expect(job.events).toBeGreaterThan(0);
      }
    },
    60_000,
  );

  it.skipIf(!available)(
    'runs the advisory’s ntdsutil hunting query, pages results, and places a syntax error',
    async () => {
      const hunts = (await api('GET', '/api/hunts')).json as unknown as { name: string; query: string }[];
      const ntds = hunts.find(
        (h) => h.name === 'volt-typhoon-find-commands-creating-domain-controller-installation-media',
      );
      if (!ntds) throw new Error('the ntdsutil hunt is missing');
      const r = await api('POST', '/api/query', { query: ntds.query });
      expect(r.status).toBe(200);
      const rows = r.json.rows as { ProcessCommandLine: string; DeviceName: string }[];
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row.ProcessCommandLine.toLowerCase()).toContain('create full');
      expect(String(r.json.sql)).toMatch(/^SELECT /);
      // Pages: every row is reachable, a page at a time (in the query's order: it sorts).
      const sorted =
        'DeviceProcessEvents | project Timestamp, DeviceName, ProcessCommandLine | sort by Timestamp asc, ProcessCommandLine asc';
      const all = await api('POST', '/api/query', {
        query: sorted,
        limit: 10_000,
      });
      const total = (all.json.rows as unknown[]).length;
      expect(total).toBeGreaterThan(5);
      const page1 = await api('POST', '/api/query', {
        query: sorted,
        limit: 5,
      });
      const page2 = await api('POST', '/api/query', {
        query: sorted,
        limit: 5,
        offset: 5,
      });
      expect(page1.json.more).toBe(true);
      expect([...(page1.json.rows as unknown[]), ...(page2.json.rows as unknown[])]).toEqual(
        (all.json.rows as unknown[]).slice(0, 10),
      );
      const bad = await api('POST', '/api/query', { query: 'DeviceProcessEvents\n| wher FileName == "x"' });
      expect(bad.status).toBe(400);
      const problems = bad.json.problems as { line: number; column: number }[];
      expect(problems[0]).toMatchObject({ line: 2, column: 3 });
    },
  );

  it.skipIf(!available)(
    'contains hostile requests: a foreign Host (rebinding) and a query written to read files',
    async () => {
      // (fetch will not send another Host: node's http client does.)
      const status = await new Promise<number>((resolve, reject) => {
        const u = new URL(server.url);
        request(
          { host: u.hostname, port: u.port, path: '/api/status', headers: { host: 'attacker.example' } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        )
          .on('error', reject)
          .end();
      });
      expect(status).toBe(421);
      // No CORS: a page of another origin gets no permission to read an answer.
      const cross = await fetch(`${server.url}/api/status`, {
        headers: { origin: 'https://attacker.example' },
      });
      expect(cross.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await fetch(`${server.url}/api/ingest`, {
        method: 'OPTIONS',
        headers: { origin: 'https://attacker.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      const crafted = `DeviceProcessEvents | where FileName == "x'); SELECT * FROM read_csv('/etc/passwd'); --" | take 1`;
      const r = await api('POST', '/api/query', { query: crafted });
      expect(r.status).toBe(200);
      expect(r.json.rows).toEqual([]);
      const ext = await api('POST', '/api/query', {
        query: 'externaldata (line:string) [@"file:///etc/passwd"] with (format="txt") | take 1',
      });
      expect(ext.status).toBe(400);
      expect(JSON.stringify(ext.json)).not.toContain('root:');
    },
  );
});

describe('lotl serve beyond loopback', () => {
  it('asks the token for reads too', async () => {
    // 127.0.0.2 is a loopback address Linux answers on, but not the one lotl serve treats as
    // loopback: the server behaves as when listening on a network address.
    const d = mkdtempSync(path.join(tmpdir(), 'lotl-serve-open-'));
    const open = await startServer(['--db', path.join(d, 'open.duckdb'), '--host', '127.0.0.2']);
    try {
      expect(open.stderr()).toContain('every request needs the token');
      expect((await fetch(`${open.url}/api/status`)).status).toBe(401);
      expect((await fetch(`${open.url}/api/alerts`)).status).toBe(401);
      const ok = await fetch(`${open.url}/api/status`, {
        headers: { authorization: `Bearer ${open.token}` },
      });
      expect(ok.status).toBe(200);
      // The page itself is public (it holds no data); what it asks for needs the token.
      expect((await fetch(`${open.url}/`)).status).toBe(200);
    } finally {
      await open.stop();
      rmSync(d, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('lotl serve, retries and back-pressure', () => {
  /** Sysmon process starts on one host, a second apart (evtx_dump's JSON form). */
  const starts = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) =>
      JSON.stringify({
        Event: {
          System: {
            Provider: { '#attributes': { Name: 'Microsoft-Windows-Sysmon' } },
            EventID: 1,
            EventRecordID: from + i,
            Channel: 'Microsoft-Windows-Sysmon/Operational',
            Computer: 'HOST1',
            TimeCreated: {
              '#attributes': { SystemTime: new Date(Date.UTC(2024, 0, 1, 10, 0, from + i)).toISOString() },
            },
          },
          EventData: { Image: `C:\\Tools\\t${from + i}.exe`, CommandLine: `t${from + i}.exe` },
        },
      }),
    ).join('\n');

  it('does not detect a retried batch again: a correlation counts its events once', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'lotl-serve-retry-'));
    // "Many Processes On A Host Within An Hour": 3 process starts on a host.
    const s = await startServer([
      '--db',
      path.join(d, 'retry.duckdb'),
      '--no-pack',
      '--sigma',
      path.join(FIXTURES, 'sigma-correlation'),
    ]);
    const post = (body: string, key: string) =>
      fetch(`${s.url}/api/ingest`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${s.token}`,
          'content-type': 'application/x-ndjson',
          'idempotency-key': key,
        },
        body,
      }).then((r) => r.json() as Promise<Record<string, unknown>>);
    try {
      expect(await post(starts(0, 2), 'a')).toMatchObject({ duplicate: false, events: 2 });
      // The retry: had its two events been counted again, the correlation would have fired on it
      // (and, fired, started a new window), not on the third start below.
      expect(await post(starts(0, 2), 'a')).toMatchObject({ duplicate: true, events: 2 });
      expect(await post(starts(2, 1), 'b')).toMatchObject({ duplicate: false, events: 1 });
      const r = await fetch(`${s.url}/api/alerts?rule=0c5d7a10-2b7e-4f5e-9a3c-1d2e3f405002`);
      const { total, alerts } = (await r.json()) as {
        total: number;
        alerts: { time: string }[];
      };
      expect(total).toBe(1);
      // It stands on the third start (the window's last event).
      expect(alerts[0].time).toBe('2024-01-01T10:00:02.000Z');
    } finally {
      await s.stop();
      rmSync(d, { recursive: true, force: true });
    }
  }, 60_000);

  it('tells senders past the pending bound to retry (503, Retry-After), and stores every batch it acknowledged', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'lotl-serve-busy-'));
    const s = await startServer(['--db', path.join(d, 'busy.duckdb'), '--max-pending-batches', '1']);
    try {
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, k) =>
          fetch(`${s.url}/api/ingest`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${s.token}`,
              'content-type': 'application/x-ndjson',
              'idempotency-key': `k${k}`,
            },
            body: starts(k * 500, 500),
          }).then(async (r) => ({
            status: r.status,
            retry: r.headers.get('retry-after'),
            json: (await r.json()) as Record<string, unknown>,
          })),
        ),
      );
      const busy = answers.filter((a) => a.status === 503);
      const ok = answers.filter((a) => a.status === 200);
      expect(busy.length).toBeGreaterThan(0);
      expect(ok.length).toBeGreaterThan(0);
      expect(busy.length + ok.length).toBe(12);
      for (const b of busy) expect(b.retry).toBe('1');
      const status = (await (await fetch(`${s.url}/api/status`)).json()) as {
        events: number;
        batches: number;
      };
      expect(status).toMatchObject({ events: ok.length * 500, batches: ok.length });
    } finally {
      await s.stop();
      rmSync(d, { recursive: true, force: true });
    }
  }, 60_000);

  it('stops on SIGTERM with a stream open: streams ended, the store closed cleanly', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'lotl-serve-stop-'));
    const db = path.join(d, 'stop.duckdb');
    const s = await startServer(['--db', db]);
    try {
      const stream = await fetch(`${s.url}/api/stream`);
      const reader = stream.body?.getReader();
      if (!reader) throw new Error('no stream');
      const r = await fetch(`${s.url}/api/ingest`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/x-ndjson' },
        body: starts(0, 50),
      });
      expect(r.status).toBe(200);
      await s.stop();
      // The stream was ended by the server (not cut), and DuckDB closed: no log left to replay.
      for (;;) if ((await reader.read()).done) break;
      expect(existsSync(`${db}.wal`)).toBe(false);
      expect(s.stderr()).toContain('interrupted (SIGTERM)');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  }, 60_000);
});
