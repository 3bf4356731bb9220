/**
 * Uploaded files as jobs: each file (EVTX, JSON, CSV, XML, zip — whatever `lotl hunt` reads) is
 * saved under the server's temporary folder with its own name (Defender exports are known by it),
 * then read, detected and committed in batches, one job at a time (the machine's cores go to the
 * reading). A job's progress is its bytes read; its problems are kept (the first ones) and counted.
 * The saved file is removed when its job ends: its events are in the store.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
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
}

export class Jobs {
  private readonly jobs = new Map<string, Job>();
  private readonly files = new Map<string, string>();
  private readonly pending: string[] = [];
  private running = false;
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

  /** Drops a reserved upload that did not arrive whole. */
  release(id: string): void {
    rmSync(path.join(this.dir, id), { recursive: true, force: true });
  }

  /** Queues a saved file. */
  add(id: string, name: string, file: string, bytes: number, sha256: string): Job {
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
      created: new Date().toISOString(),
      finished: null,
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
      for (let id = this.pending.shift(); id !== undefined; id = this.pending.shift()) {
        const job = this.jobs.get(id);
        const file = this.files.get(id);
        if (!job || !file) continue;
        job.state = 'running';
        this.changed(job);
        try {
          await this.read(job, file);
          job.state = 'done';
        } catch (err) {
          job.state = 'failed';
          job.error = (err as Error).message;
        } finally {
          job.finished = new Date().toISOString();
          this.files.delete(id);
          this.release(id);
          this.changed(job);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async read(job: Job, file: string): Promise<void> {
    let views: EventView[] = [];
    let n = 0;
    let lastTold = 0;
    const commit = async () => {
      if (views.length === 0) return;
      const id = `upload:${job.sha256}:${n++}`;
      // A batch stored before (the same file again, or a job a restart cut short) is neither
      // detected again (the detectors' state must not see it twice) nor stored again.
      const known = await this.store.known(id);
      if (known) {
        views = [];
        job.events += known.events;
        job.known += known.events;
        job.alerts += known.alerts;
        return;
      }
      const alerts = this.live.detect(views);
      const result = await this.store.commit({
        id,
        source: job.name,
        views,
        alerts,
      });
      views = [];
      job.events += result.events;
      job.alerts += result.alerts;
      if (result.stored) this.live.committed(alerts.map((a) => a.alert));
      else job.known += result.events;
    };
    const listed = await listInputs([file]);
    const prefix = path.dirname(file) + path.sep;
    await readAll(
      [file],
      {
        event: (view) => {
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
          if (views.length >= JOB_BATCH) await commit();
          // Progress told at most every quarter second.
          const now = Date.now();
          if (now - lastTold > 250) {
            lastTold = now;
            this.changed(job);
          }
        },
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
    await commit();
    job.readBytes = job.bytes;
  }
}
