/**
 * Detection as events arrive: the server's detectors (the built-in pack, the user's Sigma rules)
 * run on every event of a batch before it is committed, so its alerts are stored with it; once
 * committed they go to the listeners (server-sent events) and the webhooks.
 */
import type { Alert } from '../detect/alert.js';
import type { CorrelationSignal } from '../detect/sigma/correlation.js';
import type { Detector } from '../hunt/detectors.js';
import type { EventView } from '../normalize/normalize.js';
import type { CommitResult, ServerStore } from './store.js';

type StoredListener = (
  views: EventView[],
  alerts: { alert: Alert; event: number | null }[],
  newEvents: boolean,
) => void;

export class LiveDetection {
  /** Alerts on a listener's queue past this are dropped for it (a stalled browser holds nothing). */
  static readonly LISTENER_QUEUE = 1_000;
  private readonly listeners = new Set<(alerts: Alert[]) => void>();
  private signals: CorrelationSignal[] = [];

  constructor(private readonly detectors: Detector[]) {}

  /**
   * Detects a batch, commits it with its alerts and correlation matches, and once it is stored
   * tells the followers (the correlate stage; the page, the webhooks, the KQL hunts). `stored`:
   * the row ids of events already in the store (lotl ingest's), numbered instead of inserted.
   */
  async commit(
    store: ServerStore,
    batch: { id: string; source: string; views: EventView[]; stored?: number[] },
  ): Promise<CommitResult> {
    const { alerts, signals } = this.detect(batch.views);
    const result = await store.commit({ ...batch, alerts, signals });
    if (result.stored) {
      this.stored(batch.views, alerts, batch.stored === undefined);
      this.committed(alerts.map((a) => a.alert));
    }
    return result;
  }

  /** The Sigma engine tells this of each match that feeds a correlation (its `onSignal`). */
  readonly signal = (s: CorrelationSignal): void => {
    this.signals.push(s);
  };

  /**
   * The alerts of a batch, each with the index of the event it was raised on, and the matches
   * that fed correlation windows (stored with the batch, so a restart can open them again).
   */
  detect(views: EventView[]): {
    alerts: { alert: Alert; event: number | null }[];
    signals: CorrelationSignal[];
  } {
    const alerts: { alert: Alert; event: number | null }[] = [];
    this.signals = [];
    for (const [i, view] of views.entries())
      for (const d of this.detectors) for (const alert of d.evaluate(view)) alerts.push({ alert, event: i });
    const signals = this.signals;
    this.signals = [];
    return { alerts, signals };
  }

  /** Registers a listener of committed alerts; returns its removal. */
  listen(fn: (alerts: Alert[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private readonly batchListeners = new Set<StoredListener>();

  /** Registers a follower of every stored batch, its events and alerts (the correlate stage). */
  onStored(fn: StoredListener): void {
    this.batchListeners.add(fn);
  }

  /**
   * A batch is in the store (called once, by whoever committed it, in commit order). `newEvents`
   * false: its events were in the store before (lotl ingest's, detected now), only its alerts are new.
   */
  stored(views: EventView[], alerts: { alert: Alert; event: number | null }[], newEvents = true): void {
    for (const fn of this.batchListeners) fn(views, alerts, newEvents);
  }

  private readonly commitListeners = new Set<() => void>();

  /** Registers a listener of commits (whatever their alerts: the KQL hunts rerun on new events). */
  onCommit(fn: () => void): void {
    this.commitListeners.add(fn);
  }

  /**
   * Tells every listener about a committed batch and its alerts. `events`: whether it brought
   * events (the KQL hunts' own batches bring none, and do not start them again).
   */
  committed(alerts: Alert[], events = true): void {
    if (events) for (const fn of this.commitListeners) fn();
    if (alerts.length === 0) return;
    for (const fn of this.listeners) fn(alerts);
  }
}
