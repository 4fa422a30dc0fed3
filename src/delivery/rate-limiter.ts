// Fleet-wide rate limits, the policy side (the SQL is in src/store/rate-limit-store.ts; the
// whole design is in docs/rate-limits.md).
//
// A backend with `per_second` is paced: its sends get slots an even interval apart, given out
// from one row in the database that every sidecar shares (GCRA), at most HORIZON_MS ahead. A
// claimed email is sent at its slot, or — when the horizon is full or the day's allowance is
// spent — goes back to the queue, due when its turn may come, its attempt unspent:
//
//   claimed ──reserve──▶ slot in ≤ 1 s ──timer──▶ at slot ≤ JITTER_MS late ──▶ sent
//                  │                                    └── later than that ──▶ reserve again
//                  └──▶ no slot ──▶ back in the queue (its place in line, or the next UTC day)
//
// Why the interval is (1 s + 2 × JITTER_MS) / per_second rather than 1 s / per_second: a send
// can only start after its slot, never before, and is given up when it would start more than
// JITTER_MS late, so per_second + 1 sends are always more than 1 s + JITTER_MS apart: no
// one-second window holds more than per_second, even if the way from here to the provider
// varies by up to JITTER_MS more.
import type { RateLimitSettings } from '../providers/kinds.ts';
import type { RateLimitStore } from '../store/rate-limit-store.ts';

/** Slots are handed out at most this far ahead: what a sidecar that dies can waste. */
export const HORIZON_MS = 1000;
/** How late a send may start after its slot; also the timing slack left for the network. */
export const JITTER_MS = 25;
// Emails told to come back are due on this grid, so they return (and are claimed) in batches.
const RETURN_GRID_MS = 250;

export interface Slot {
  /** When the send may start (this process's clock, ms); never before the slot. */
  at: number;
  /** After this, the slot is given up rather than crowd the next second. */
  latest: number;
}

export interface Reservation {
  /** The UTC day the slots count against, for refunds. */
  day: string;
  /** Slots for the first `slots.length` emails asked about, in order. */
  slots: Slot[];
  /** For the others, in order: when each is due back in the queue. */
  dueBack: Date[];
}

interface Limit {
  intervalMs: number;
  perDay: number | null;
}

export class RateLimiter {
  private readonly limitsByBackend = new Map<string, Limit>();
  private readonly store: RateLimitStore;

  constructor(limits: Readonly<Record<string, RateLimitSettings | undefined>>, store: RateLimitStore) {
    this.store = store;
    for (const [backend, limit] of Object.entries(limits)) {
      if (limit === undefined) continue;
      this.limitsByBackend.set(backend, {
        intervalMs: limit.per_second === undefined ? 0 : (1000 + 2 * JITTER_MS) / limit.per_second,
        perDay: limit.per_day ?? null,
      });
    }
  }

  /** The backends that have a limit. */
  get backends(): string[] {
    return [...this.limitsByBackend.keys()];
  }

  limits(backend: string): boolean {
    return this.limitsByBackend.has(backend);
  }

  /** Reserves slots for `count` emails of a backend; the rest get the time they are due back. */
  async reserve(backend: string, count: number): Promise<Reservation> {
    const limit = this.limitsByBackend.get(backend);
    if (limit === undefined) throw new Error(`backend "${backend}" has no rate limit`);
    const asked = Date.now();
    const grant = await this.store.reserve({
      backend,
      count,
      intervalSeconds: limit.intervalMs / 1000,
      perDay: limit.perDay,
      horizonSeconds: HORIZON_MS / 1000,
    });
    const answered = Date.now();
    // The slot's time on this clock lies between asked + offset and answered + offset: start at
    // the later bound (never early) and measure lateness from the earlier (never underestimated).
    const slots = Array.from({ length: grant.granted }, (_, k) => {
      const offset = grant.firstSlotMs + k * limit.intervalMs;
      return { at: answered + offset, latest: limit.intervalMs === 0 ? Number.POSITIVE_INFINITY : asked + offset + JITTER_MS };
    });
    const dueBack = Array.from({ length: count - grant.granted }, (_, i) => {
      if (grant.dayFull) return grant.nextDay;
      // Back when its place in line comes within the horizon, so it finds a slot then.
      const due = grant.lineStart.getTime() + i * limit.intervalMs - HORIZON_MS;
      return new Date(Math.ceil(due / RETURN_GRID_MS) * RETURN_GRID_MS);
    });
    return { day: grant.day, slots, dueBack };
  }

  /** No slots, everyone back in a second: what to do when reserving failed. */
  nothing(count: number): Reservation {
    return { day: '', slots: [], dueBack: Array.from({ length: count }, () => new Date(Date.now() + 1000)) };
  }

  /** Day allowance reserved for emails that were not sent after all goes back. */
  async refund(backend: string, day: string, count: number): Promise<void> {
    if (day === '' || (this.limitsByBackend.get(backend)?.perDay ?? null) === null) return;
    await this.store.refund(backend, day, count);
  }
}
