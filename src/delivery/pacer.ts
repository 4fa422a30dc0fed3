// The pacer: emails of a backend with a `rate_limit` are not sent when claimed but at a send slot
// reserved fleet-wide (rate-limiter.ts). Between claim and send an email is "paced":
//
//  hold ──reserve──▶ slot ──timer──▶ at the slot: send (or, the circuit open, hold back)
//               │                         └── too late for it ──▶ back to the producer, new slot
//               └── no slot ──▶ released to the queue, due when its turn may come, attempt unspent
//
// Paced emails count as load for the producer (an email at its slot must find a free task slot).
// An email is paced by the backend it goes through (its `via`, src/delivery/failover.ts).
import type { Logger } from 'pino';
import type { MainMetrics } from '../metrics/main-metrics.ts';
import type { ClaimedEmail, LeaseStore } from '../store/lease-store.ts';
import { ErrorLog } from '../error-log.ts';
import type { RateLimiter, Slot } from './rate-limiter.ts';

export interface PacerHooks {
  /** The email's slot has come and its backend may be tried: send it now. */
  send(email: ClaimedEmail): void;
  /** The slot came too late (a busy event loop): the email asks for a new one. */
  retry(email: ClaimedEmail): void;
  /** The slot has come but the backend's circuit is open: a fallback, or back to the queue. */
  holdBack(email: ClaimedEmail): void;
  /** May this backend be tried now (its circuit)? */
  allow(backend: string): boolean;
  /** Emails went back to the queue: another claim may find work. */
  released(): void;
}

interface Paced {
  email: ClaimedEmail;
  /** Set once a slot is reserved: the day it counts against, and the timer that sends it. */
  slot?: { day: string; timer: NodeJS.Timeout };
}

export class Pacer {
  private readonly owner: string;
  private readonly limiter: RateLimiter;
  private readonly leases: LeaseStore;
  private readonly metrics: MainMetrics;
  private readonly hooks: PacerHooks;
  private readonly errors: ErrorLog;
  private readonly paced = new Map<string, Paced>();

  constructor(owner: string, deps: { limiter: RateLimiter; leases: LeaseStore; metrics: MainMetrics; logger: Logger }, hooks: PacerHooks) {
    this.owner = owner;
    this.limiter = deps.limiter;
    this.leases = deps.leases;
    this.metrics = deps.metrics;
    this.hooks = hooks;
    this.errors = new ErrorLog(deps.logger);
  }

  /** How many emails wait for a slot or at one. */
  get size(): number {
    return this.paced.size;
  }

  ids(): string[] {
    return [...this.paced.keys()];
  }

  /** Does this backend's email go through the pacer? */
  paces(backend: string): boolean {
    return this.limiter.limits(backend);
  }

  /** Takes an email in at once, so it counts as load before its slot is reserved. */
  hold(email: ClaimedEmail): void {
    this.paced.set(email.id, { email });
  }

  /** Reserves slots for held emails of one backend and sends each at its own. */
  async reserve(backend: string, emails: readonly ClaimedEmail[]): Promise<void> {
    const reservation = await this.limiter.reserve(backend, emails.length).catch((err: unknown) => {
      this.errors.error('reserving send slots failed', err);
      return this.limiter.nothing(emails.length);
    });
    const { day, slots, dueBack } = reservation;
    let unused = 0;
    emails.slice(0, slots.length).forEach((email, i) => {
      const paced = this.paced.get(email.id);
      if (paced === undefined) {
        unused++; // cancelled by stop() while the reservation was on its way
        return;
      }
      const timer = setTimeout(() => this.atSlot(email, day, slots[i]!), Math.max(0, slots[i]!.at - Date.now()));
      timer.unref();
      paced.slot = { day, timer };
    });
    if (unused > 0) void this.refund(backend, day, unused);
    const back = emails.slice(slots.length).flatMap((email, i) =>
      this.paced.delete(email.id) ? [{ id: email.id, dueAt: dueBack[i]! }] : []);
    if (back.length === 0) return;
    this.metrics.rateLimited.inc({ backend }, back.length);
    await this.leases.release(this.owner, back)
      .catch((err: unknown) => this.errors.error('sending rate-limited emails back to the queue failed', err));
    this.hooks.released();
  }

  private atSlot(email: ClaimedEmail, day: string, slot: Slot): void {
    this.paced.delete(email.id);
    if (Date.now() > slot.latest) {
      // Sending now could crowd the next second, so the email asks for a new slot instead.
      void this.refund(email.via, day, 1);
      this.metrics.rateLimited.inc({ backend: email.via });
      this.hooks.retry(email);
    } else if (this.hooks.allow(email.via)) {
      this.hooks.send(email);
    } else {
      void this.refund(email.via, day, 1);
      this.hooks.holdBack(email);
    }
  }

  private refund(backend: string, day: string, count: number): Promise<void> {
    return this.limiter.refund(backend, day, count).catch((err: unknown) => this.errors.error('refunding rate-limit allowance failed', err));
  }

  /** Cancels every paced email's slot (refunding the day's allowance) and returns their ids. */
  async cancelAll(): Promise<string[]> {
    const unused = new Map<string, { backend: string; day: string; count: number }>();
    for (const { email, slot } of this.paced.values()) {
      if (slot === undefined) continue;
      clearTimeout(slot.timer);
      const key = `${email.via}\n${slot.day}`;
      const entry = unused.get(key) ?? { backend: email.via, day: slot.day, count: 0 };
      entry.count++;
      unused.set(key, entry);
    }
    const ids = this.ids();
    this.paced.clear();
    await Promise.all([...unused.values()].map(({ backend, day, count }) => this.refund(backend, day, count)));
    return ids;
  }
}
