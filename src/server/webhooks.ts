/**
 * Alerts posted to webhooks (`--webhook URL`): each committed batch's alerts as one JSON array,
 * in order, one request at a time per hook, retried a few times with a pause; a hook that is down
 * holds a bounded queue (the oldest batches are dropped and counted), never the server.
 *
 * Each batch carries a delivery id that its retries keep (a receiver that got it twice can tell),
 * and, when the server has a secret (LOTL_WEBHOOK_SECRET), an HMAC-SHA256 of the timestamp and the
 * body: the receiver can check that the alerts came from this server and are not an old request
 * played again. The secret is read from the environment, not the command line, which `ps` shows.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Alert } from '../detect/alert.js';

export const WEBHOOK_QUEUE = 100;
/** How long a shutdown waits for alerts on their way (within the 10 s a stop may take). */
export const WEBHOOK_DRAIN_MS = 3_000;
const ATTEMPTS = 3;
const TIMEOUT_MS = 5_000;

export class Webhook {
  private readonly queue: Alert[][] = [];
  private sending = false;
  private closed = false;
  dropped = 0;
  delivered = 0;
  failed = 0;

  constructor(
    readonly url: string,
    private readonly onFailure: (message: string) => void = () => undefined,
    private readonly secret?: string,
  ) {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new Error(`a webhook is http or https: ${url}`);
  }

  post(alerts: Alert[]): void {
    if (alerts.length === 0 || this.closed) return;
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

  /**
   * On shutdown: waits up to `ms` for the queue to empty, then gives up on what is left (counted
   * as dropped) and sends no more. Returns the batches given up.
   */
  async close(ms: number): Promise<number> {
    const end = Date.now() + ms;
    while ((this.sending || this.queue.length > 0) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 20));
    this.closed = true;
    const left = this.queue.length + (this.sending ? 1 : 0);
    this.dropped += this.queue.length;
    this.queue.length = 0;
    return left;
  }

  /** The request's headers; the signature covers `TIMESTAMP.BODY`, the timestamp in Unix seconds. */
  private headers(delivery: string, body: string): Record<string, string> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-lotl-delivery': delivery,
      'x-lotl-timestamp': timestamp,
    };
    if (this.secret)
      headers['x-lotl-signature'] =
        `sha256=${createHmac('sha256', this.secret).update(`${timestamp}.${body}`).digest('hex')}`;
    return headers;
  }

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      for (let alerts = this.queue.shift(); alerts; alerts = this.queue.shift()) {
        let last = '';
        let ok = false;
        const body = JSON.stringify(alerts);
        const delivery = randomUUID();
        for (let attempt = 0; attempt < ATTEMPTS && !ok && !this.closed; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
          try {
            const res = await fetch(this.url, {
              method: 'POST',
              headers: this.headers(delivery, body),
              body,
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
