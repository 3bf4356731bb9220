/**
 * Alerts posted to webhooks (`--webhook URL`): each committed batch's alerts as one JSON array,
 * in order, one request at a time per hook, retried a few times with a pause; a hook that is down
 * holds a bounded queue (the oldest batches are dropped and counted), never the server.
 */
import type { Alert } from '../detect/alert.js';

export const WEBHOOK_QUEUE = 100;
const ATTEMPTS = 3;
const TIMEOUT_MS = 5_000;

export class Webhook {
  private readonly queue: Alert[][] = [];
  private sending = false;
  dropped = 0;
  delivered = 0;
  failed = 0;

  constructor(
    readonly url: string,
    private readonly onFailure: (message: string) => void = () => undefined,
  ) {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new Error(`a webhook is http or https: ${url}`);
  }

  post(alerts: Alert[]): void {
    if (alerts.length === 0) return;
    if (this.queue.length >= WEBHOOK_QUEUE) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(alerts);
    if (!this.sending) void this.drain();
  }

  /** Resolves when the queue is empty (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.sending || this.queue.length > 0) await new Promise((r) => setTimeout(r, 20));
  }

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      for (let alerts = this.queue.shift(); alerts; alerts = this.queue.shift()) {
        let last = '';
        let ok = false;
        for (let attempt = 0; attempt < ATTEMPTS && !ok; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
          try {
            const res = await fetch(this.url, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(alerts),
              signal: AbortSignal.timeout(TIMEOUT_MS),
              redirect: 'error',
            });
            ok = res.ok;
            last = `HTTP ${res.status}`;
            await res.body?.cancel();
          } catch (err) {
            last = (err as Error).message;
          }
        }
        if (ok) this.delivered++;
        else {
          this.failed++;
          this.onFailure(`webhook ${this.url}: ${alerts.length} alerts not delivered (${last})`);
        }
      }
    } finally {
      this.sending = false;
    }
  }
}
