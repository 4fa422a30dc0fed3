// Emails on a retry may take at most half of a backend's send slots: emails failing on their
// own (a call that never returns) cannot hold every connection, and fresh mail keeps flowing.
import type { ClaimedEmail } from '../store/lease-store.ts';

export class RetryShare {
  private readonly inFlight = new Map<string, number>();
  private readonly capacity: () => number;

  /** `capacity`: the pool's send slots (the share is half of them). */
  constructor(capacity: () => number) {
    this.capacity = capacity;
  }

  /** Would this email, a retry, take more than half the slots of its backend (with `joining` about to go)? */
  full(email: ClaimedEmail, joining: readonly ClaimedEmail[] = []): boolean {
    if (email.attempt === 1) return false;
    const going = joining.filter((other) => other.attempt > 1).length;
    return (this.inFlight.get(email.via) ?? 0) + going >= this.capacity() / 2;
  }

  /** Counts a retry going out (+1) or coming back (-1). */
  count(email: ClaimedEmail, change: 1 | -1 = 1): void {
    if (email.attempt > 1) this.inFlight.set(email.via, (this.inFlight.get(email.via) ?? 0) + change);
  }
}
