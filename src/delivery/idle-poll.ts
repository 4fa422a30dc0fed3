// The dispatcher's poll: the timer that wakes the producer when no NOTIFY does. While there is
// mail, or while LISTEN is not in use (POST_OFFICE_LISTEN=off, a transaction pooler), it wakes
// it every POST_OFFICE_POLL_SECONDS. An idle fleet would spend most of its database queries on
// those empty claims, so when LISTEN works and claims come back empty the interval doubles, with
// ±20 % jitter, up to POST_OFFICE_IDLE_POLL_SECONDS. Nothing due is found later for it:
//   - a new email sends a NOTIFY, and every wake (NOTIFY, a local enqueue) ends the back-off;
//   - after an empty claim the poll asks when the next queued email is due (a scheduled send, a
//     retry) and never sleeps past that moment;
// so only an email made due without a NOTIFY by another sidecar (released at its shutdown,
// rescued from a dead one) waits up to POST_OFFICE_IDLE_POLL_SECONDS.
import type { LeaseStore } from '../store/lease-store.ts';
import { ErrorLog } from '../error-log.ts';
import type { Logger } from 'pino';

export interface IdlePollOptions {
  pollSeconds: number;
  /** The longest interval while idle; equal to pollSeconds turns the back-off off. */
  idlePollSeconds: number;
}

export class IdlePoll {
  private readonly options: IdlePollOptions;
  private readonly leases: LeaseStore;
  private readonly wake: () => void;
  private readonly errors: ErrorLog;
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires (ms since the epoch). */
  private dueAt = 0;
  /** Claims in a row that came back empty. */
  private emptyClaims = 0;
  private nextDue: Date | null = null;
  /** Whether NOTIFY reaches this sidecar right now (set by the LISTEN connection's owner). */
  listening: () => boolean = () => false;

  constructor(options: IdlePollOptions, deps: { leases: LeaseStore; logger: Logger }, wake: () => void) {
    this.options = options;
    this.leases = deps.leases;
    this.errors = new ErrorLog(deps.logger);
    this.wake = wake;
  }

  /** `leases` whose claims tell the poll whether there is mail. */
  watch(leases: LeaseStore): LeaseStore {
    const watched: LeaseStore = Object.create(leases) as LeaseStore;
    watched.claim = async (...args) => {
      const claimed = await leases.claim(...args);
      if (claimed.length > 0) {
        this.emptyClaims = 0;
      } else {
        this.emptyClaims++;
        if (this.backingOff()) void this.askNextDue();
      }
      return claimed;
    };
    return watched;
  }

  private backingOff(): boolean {
    return this.options.idlePollSeconds > this.options.pollSeconds && this.listening();
  }

  private async askNextDue(): Promise<void> {
    this.nextDue = await this.leases.nextDue().catch((err: unknown) => {
      this.errors.error('asking when the next email is due failed', err);
      return null;
    });
    // A sooner due time than the timer's shortens the wait.
    if (this.timer !== undefined && this.nextDue !== null && this.nextDue.getTime() < this.dueAt) this.schedule();
  }

  /** A NOTIFY or a local enqueue: mail is coming, back to the short interval. */
  woken(): void {
    if (this.emptyClaims === 0) return;
    this.emptyClaims = 0;
    if (this.timer !== undefined) this.schedule();
  }

  /** The wait before the next poll. */
  private delayMs(): number {
    const { pollSeconds, idlePollSeconds } = this.options;
    if (!this.backingOff() || this.emptyClaims < 2) return pollSeconds * 1000;
    const backedOff = Math.min(idlePollSeconds, pollSeconds * 2 ** (this.emptyClaims - 1)) * (0.8 + 0.4 * Math.random());
    const untilDue = this.nextDue === null ? Number.POSITIVE_INFINITY : this.nextDue.getTime() - Date.now() + 20;
    return Math.max(pollSeconds * 1000, Math.min(backedOff * 1000, untilDue));
  }

  start(): void {
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    const delay = this.delayMs();
    this.dueAt = Date.now() + delay;
    this.timer = setTimeout(() => {
      this.wake();
      this.schedule();
    }, delay);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
