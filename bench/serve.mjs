/**
 * `lotl serve` throughput: events acknowledged per second over POST /api/ingest (one client, each
 * batch acknowledged only once committed, as a shipper with at-least-once delivery runs), by batch
 * size, and an upload read as a job. Real events: the Security-Datasets JSON lines bench/hunt.mjs
 * makes (bench/out/security-datasets-250000.jsonl), else the example scenario's.
 *
 *   node bench/serve.mjs [--seconds 20]
 *
 * Prints a table (markdown) and the server's peak RSS.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' } } });
const SECONDS = Number(values.seconds);
const big = path.join(root, 'bench', 'out', 'security-datasets-250000.jsonl');

/** Up to n lines of the source, without reading a 380 MB file whole. */
function sourceLines(n) {
  if (!existsSync(big)) {
    const lines = readFileSync(path.join(root, 'examples', 'sysmon-fs02-ws07.jsonl'), 'utf8')
      .trim()
      .split('\n');
    return {
      name: 'examples/sysmon-fs02-ws07.jsonl (repeated)',
      lines: Array.from({ length: n }, (_, i) => lines[i % lines.length]),
    };
  }
  // The lines average about 1.5 KB: read enough bytes for n of them.
  const buffer = Buffer.alloc(2_000 * n);
  const fd = openSync(big, 'r');
  const got = readSync(fd, buffer, 0, buffer.length, 0);
  closeSync(fd);
  const lines = buffer
    .toString('utf8', 0, got)
    .split('\n')
    .slice(0, -1)
    .filter((l) => l.trim() !== '')
    .slice(0, n);
  return { name: 'Security-Datasets JSON lines', lines };
}

function startServer(db) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(root, 'dist', 'cli', 'main.js'), 'serve', '--db', db, '--port', '0', '--token', 'bench'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/[^/\s]+)\//.exec(err);
      if (m) resolve({ url: m[1], child, said: () => err });
    });
    child.once('exit', (code) => reject(new Error(`lotl serve exited ${code}: ${err}`)));
  });
}

/** The server's peak RSS so far (VmHWM), in MB. */
function peakRss(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : null;
}

const headers = { authorization: 'Bearer bench', 'content-type': 'application/x-ndjson' };
const { name, lines } = sourceLines(60_000);
process.stderr.write(`source: ${name}, ${lines.length} events; ${SECONDS} s per row\n`);
const rows = [];
const answers = [];
for (const batch of [200, 1_000, 5_000]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'lotl-bench-serve-'));
  const { url, child } = await startServer(path.join(dir, 'serve.duckdb'));
  const started = performance.now();
  let events = 0;
  let k = 0;
  while (performance.now() - started < SECONDS * 1000) {
    const from = (k * batch) % lines.length;
    const body = lines.slice(from, from + batch).join('\n');
    const res = await fetch(`${url}/api/ingest`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': `k${k}` },
      body,
    });
    const json = await res.json();
    if (!json.committed) throw new Error(JSON.stringify(json));
    events += json.events;
    k++;
  }
  const seconds = (performance.now() - started) / 1000;
  rows.push([`NDJSON, batches of ${batch.toLocaleString('en-US')}`, events, seconds, peakRss(child.pid)]);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
{
  const dir = mkdtempSync(path.join(tmpdir(), 'lotl-bench-serve-'));
  const file = path.join(dir, 'upload.jsonl');
  writeFileSync(file, `${lines.slice(0, 50_000).join('\n')}\n`);
  const { url, child } = await startServer(path.join(dir, 'serve.duckdb'));
  const started = performance.now();
  const res = await fetch(`${url}/api/uploads?name=upload.jsonl`, {
    method: 'POST',
    headers: { authorization: 'Bearer bench', 'content-type': 'application/octet-stream' },
    body: readFileSync(file),
  });
  const job = await res.json();
  let state = job;
  while (state.state === 'queued' || state.state === 'running') {
    await new Promise((r) => setTimeout(r, 100));
    state = await (await fetch(`${url}/api/jobs/${job.id}`)).json();
  }
  const seconds = (performance.now() - started) / 1000;
  rows.push([
    `upload of ${(job.bytes / 1048576).toFixed(0)} MB JSONL as a job (${state.state})`,
    state.events,
    seconds,
    peakRss(child.pid),
  ]);
  // The answers: asked after the upload (worked out from the correlate stage the batches fed),
  // asked again (kept until the next batch), and the stage given the store when it starts again.
  const ask = async (at) => {
    const t = performance.now();
    const body = await (await fetch(`${at}/api/incidents`)).json();
    return { ms: performance.now() - t, incidents: body.incidents.length };
  };
  const first = await ask(url);
  const again = await ask(url);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const restarted = await startServer(path.join(dir, 'serve.duckdb'));
  const load = /([\d,]+) stored events correlated in ([\d.]+) s/.exec(restarted.said());
  const afterRestart = await ask(restarted.url);
  answers.push(
    `incidents asked after the upload: ${first.ms.toFixed(0)} ms (${first.incidents} incidents); again: ${again.ms.toFixed(0)} ms`,
    `restart on the same file: ${load ? `${load[1]} stored events correlated in ${load[2]} s` : 'no load said'}; incidents then: ${afterRestart.ms.toFixed(0)} ms (${afterRestart.incidents} incidents)`,
  );
  restarted.child.kill('SIGTERM');
  await new Promise((r) => restarted.child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(
  '| what | events | seconds | events/s | server peak RSS |\n| --- | ---: | ---: | ---: | ---: |\n',
);
for (const [what, events, seconds, rss] of rows)
  process.stdout.write(
    `| ${what} | ${events.toLocaleString('en-US')} | ${seconds.toFixed(1)} | ${Math.round(events / seconds).toLocaleString('en-US')} | ${rss ?? '?'} MB |\n`,
  );
for (const line of answers) process.stdout.write(`\n${line}`);
process.stdout.write('\n');
