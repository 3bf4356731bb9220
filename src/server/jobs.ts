/**
 * Uploaded files as jobs: each file (EVTX, JSON, CSV, XML, zip — whatever `lotl hunt` reads) is
 * saved under the server's temporary folder with its own name (Defender exports are known by it),
 * then read, detected and committed in batches, one job at a time (the machine's cores go to the
 * reading). A job's progress is its bytes read; its problems are kept (the first ones) and counted.
 * The saved file is removed when its job ends: its events are in the store.
 *
 * A job a stop cut short is resumed when the server starts again: each upload's folder (named by
 * the job's id) holds its file and, once the file arrived whole, a manifest beside it (ID.json; not
 * inside, where an uploaded file could have its name). The batches already committed are
 * known by their names (`upload:SHA256:N`, N counting whole batches of JOB_BATCH events, so the
 * same file always cuts the same way) and skipped; the rest are read, detected and stored.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readAll } from '../hunt/read-loop.js';
import type { InputProblem } from '../ingest/raw-event.js';
import { listInputs } from '../ingest/read.js';
import type { EventView } from '../normalize/normalize.js';
import type { LiveDetection } from './live.js';
import type { ServerStore } from './store.js';

/** Events committed together while a file is read. */
export const JOB_BATCH = 5_000;
/** Problems a job keeps to show (all are counted). */
const KEPT_PROBLEMS = 100;
/** Finished jobs remembered. */
const KEPT_JOBS = 1_000;
/** The file beside an upload's folder that says the upload arrived whole, and what it is. */
const manifestOf = (dir: string, id: string) => path.join(dir, `${id}.json`);
/** Upload folders looked at when the server starts (more than the queue can ever hold). */
const RESUME_SCAN = 10_000;

export type JobState = 'queued' | 'running' | 'done' | 'failed';

export interface Job {
  id: string;
  name: string;
  bytes: number;
  /** The file's SHA-256: its batches are named by it, so the same file again adds nothing. */
  sha256: string;
  state: JobState;
  readBytes: number;
  events: number;
  /** Of the events, those already stored (the same file, or its batches committed before a restart). */
  known: number;
  alerts: number;
  problems: number;
  firstProblems: InputProblem[];
  error: string | null;
  created: string;
  finished: string | null;
  /** Queued again when the server started: a stop had cut it short. */
  resumed: boolean;
}

/** What an upload's manifest holds: enough to queue its job again. */
interface Manifest {
  id: string;
  name: string;
  bytes: number;
  sha256: string;
  created: string;
}

export class Jobs {
  private readonly jobs = new Map<string, Job>();
  private readonly files = new Map<string, string>();
  private readonly pending: string[] = [];
  private running = false;
  private stopping = false;
  private readonly listeners = new Set<(job: Job) => void>();

  constructor(
    private readonly dir: string,
    private readonly store: ServerStore,
    private readonly live: LiveDetection,
  ) {}

  /** A folder for a new upload, and its job id. */
  reserve(): { id: string; dir: string } {
    const id = randomUUID();
    const dir = path.join(this.dir, id);
    mkdirSync(dir, { recursive: true });
    return { id, dir };
  }

  /** Drops an upload: its file, then its manifest. */
  release(id: string): void {
    rmSync(path.join(this.dir, id), { recursive: true, force: true });
    rmSync(manifestOf(this.dir, id), { force: true });
  }

  /** Queues a saved file; its manifest, written last, says it arrived whole. */
  add(id: string, name: string, file: string, bytes: number, sha256: string): Job {
    const manifest: Manifest = { id, name, bytes, sha256, created: new Date().toISOString() };
    const where = manifestOf(this.dir, id);
    writeFileSync(`${where}.part`, JSON.stringify(manifest), { mode: 0o600 });
    renameSync(`${where}.part`, where);
    return this.queue(manifest, file, false);
  }

  /**
   * Queues again, in the order they came, the uploads a stop cut short (their folders hold a
   * manifest and the whole file); removes the folders of uploads that never arrived whole and of
   * manifests that do not hold. Only entries named as this class names them (a job id) are
   * touched: the folder may be one the user named. Calls `told` for each dropped, to be said.
   */
  resume(told: (message: string) => void = () => undefined): Job[] {
    let entries: string[];
    try {
      entries = readdirSync(this.dir).slice(0, RESUME_SCAN);
    } catch {
      return [];
    }
    const found: { manifest: Manifest; file: string }[] = [];
    const names = new Set(entries);
    for (const entry of entries) {
      const id = entry.endsWith('.json') ? entry.slice(0, -5) : entry;
      if (!UUID.test(id)) continue;
      if (id !== entry) {
        // A manifest whose folder is gone: what was left of a release cut short.
        if (!names.has(id)) rmSync(path.join(this.dir, entry), { force: true });
        continue;
      }
      const folder = path.join(this.dir, entry);
      const manifest = readManifest(this.dir, entry);
      if (typeof manifest === 'string') {
        told(`upload ${entry} dropped: ${manifest}`);
        this.release(entry);
        continue;
      }
      found.push({ manifest, file: path.join(folder, manifest.name) });
    }
    found.sort((a, b) => a.manifest.created.localeCompare(b.manifest.created));
    return found.map(({ manifest, file }) => this.queue(manifest, file, true));
  }

  private queue(manifest: Manifest, file: string, resumed: boolean): Job {
    const { id, name, bytes, sha256, created } = manifest;
    const job: Job = {
      id,
      name,
      bytes,
      sha256,
      state: 'queued',
      readBytes: 0,
      events: 0,
      known: 0,
      alerts: 0,
      problems: 0,
      firstProblems: [],
      error: null,
      created,
      finished: null,
      resumed,
    };
    this.jobs.set(id, job);
    this.files.set(id, file);
    this.pending.push(id);
    this.forget();
    this.changed(job);
    if (!this.running) void this.run();
    return job;
  }

  /** Jobs waiting for their turn. */
  queued(): number {
    return this.pending.length;
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  list(): Job[] {
    return [...this.jobs.values()].reverse();
  }

  listen(fn: (job: Job) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * On shutdown: the job being read stops after the batch under way is committed; its upload and
   * the queued ones stay in the folder for the next start to resume.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    while (this.running) await new Promise((r) => setTimeout(r, 25));
  }

  /** Resolves when no job is queued or running. */
  async idle(): Promise<void> {
    while (this.running || this.pending.length > 0) await new Promise((r) => setTimeout(r, 25));
  }

  private changed(job: Job): void {
    for (const fn of this.listeners) fn(job);
  }

  private forget(): void {
    for (const [id, job] of this.jobs) {
      if (this.jobs.size <= KEPT_JOBS) break;
      if (job.state === 'done' || job.state === 'failed') this.jobs.delete(id);
    }
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopping && this.pending.length > 0) {
        const id = this.pending.shift() as string;
        const job = this.jobs.get(id);
        const file = this.files.get(id);
        if (!job || !file) continue;
        job.state = 'running';
        this.changed(job);
        try {
          if (!(await this.read(job, file))) return; // stopped: left for the next start
          job.state = 'done';
        } catch (err) {
          if (this.stopping) return; // the store closing under it: left for the next start too
          job.state = 'failed';
          job.error = (err as Error).message;
        }
        job.finished = new Date().toISOString();
        this.files.delete(id);
        this.release(id);
        this.changed(job);
      }
    } finally {
      this.running = false;
    }
  }

  /** Reads a job's file into the store; false when a stop cut the reading short. */
  private async read(job: Job, file: string): Promise<boolean> {
    let views: EventView[] = [];
    let n = 0;
    let lastTold = 0;
    // Cuts exactly JOB_BATCH events a batch, whatever the reader's own batches: the names must
    // cut the same way when the file is read again after a restart.
    const commit = async () => {
      if (views.length === 0) return;
      const rest = views.length > JOB_BATCH ? views.slice(JOB_BATCH) : [];
      if (rest.length > 0) views = views.slice(0, JOB_BATCH);
      const id = `upload:${job.sha256}:${n++}`;
      // A batch stored before (the same file again, or a job a restart cut short) is neither
      // detected again (the detectors' state must not see it twice) nor stored again.
      const known = await this.store.known(id);
      if (known) {
        views = rest;
        job.events += known.events;
        job.known += known.events;
        job.alerts += known.alerts;
        return;
      }
      const batch = views;
      views = rest;
      const result = await this.live.commit(this.store, { id, source: job.name, views: batch });
      job.events += result.events;
      job.alerts += result.alerts;
      if (!result.stored) job.known += result.events;
    };
    const listed = await listInputs([file]);
    const prefix = path.dirname(file) + path.sep;
    await readAll(
      [file],
      {
        event: (view) => {
          // Known by the name it was uploaded under, as its problems are: the server's folder
          // is its own business (and its random part would make each upload's alerts differ).
          const origin = view.raw.origin;
          if (origin.file.startsWith(prefix)) origin.file = origin.file.slice(prefix.length);
          views.push(view);
        },
        problem: (p) => {
          job.problems++;
          // The saved file's folder is the server's: the user knows the file by its name.
          if (job.firstProblems.length < KEPT_PROBLEMS)
            job.firstProblems.push({
              ...p,
              file: p.file.startsWith(prefix) ? p.file.slice(prefix.length) : p.file,
            });
        },
        flush: async () => {
          while (views.length >= JOB_BATCH) await commit();
          // Progress told at most every quarter second.
          const now = Date.now();
          if (now - lastTold > 250) {
            lastTold = now;
            this.changed(job);
          }
        },
        stop: () => this.stopping,
      },
      () => ({
        add: (b: number) => {
          job.readBytes += b;
        },
        file: () => undefined,
        stop: () => undefined,
      }),
      {},
      listed,
    );
    if (this.stopping) return false;
    while (views.length > 0) await commit();
    job.readBytes = job.bytes;
    return true;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An upload's manifest, checked against its folder and file; or why it does not hold. */
function readManifest(dir: string, id: string): Manifest | string {
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(readFileSync(manifestOf(dir, id), 'utf8'));
  } catch {
    return 'it never arrived whole';
  }
  if (
    m.id !== id ||
    typeof m.name !== 'string' ||
    m.name === '' ||
    m.name === '.' ||
    m.name === '..' ||
    path.basename(m.name) !== m.name ||
    typeof m.bytes !== 'number' ||
    typeof m.sha256 !== 'string' ||
    !/^[0-9a-f]{64}$/.test(m.sha256) ||
    typeof m.created !== 'string'
  )
    return 'its manifest does not hold';
  try {
    if (statSync(path.join(dir, id, m.name)).size !== m.bytes) return 'its file is not the size it was';
  } catch {
    return 'its file is gone';
  }
  return m as Manifest;
}
