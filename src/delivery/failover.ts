// Failover: which backend each claimed email's attempt goes through (its `via`). A backend may name
// a `fallback` (docs/providers.md "Failover"); following fallbacks makes a chain, a → b → c.
//   plan  — at the claim: the first attempt goes through the email's own backend; an attempt after
//           a retryable failure through the fallback of the backend that made the failed one
//           (`sent_via`); after the chain's end, the email's own backend again (it may be back);
//   route — in fill: while the circuit of that backend is paused, the first of its fallbacks whose
//           circuit is not; none left, and the email is held back as without failover.
// Each hop an email makes along its chain counts once in postoffice_failovers_total{from,to}, as
// the email goes out (not when held back, which would count it again at its next claim).
import type { MainMetrics } from '../metrics/main-metrics.ts';
import type { BackendSettings } from '../providers/kinds.ts';
import type { ClaimedEmail } from '../store/lease-store.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';

type Attempt = Pick<ClaimedEmail, 'backend' | 'attempt' | 'sentVia'>;

export class Failover {
  private readonly fallbacks = new Map<string, string>();
  private readonly breaker: CircuitBreaker;
  private readonly metrics: MainMetrics;

  constructor(backends: Readonly<Record<string, BackendSettings>>, deps: { breaker: CircuitBreaker; metrics: MainMetrics }) {
    this.breaker = deps.breaker;
    this.metrics = deps.metrics;
    for (const [alias, settings] of Object.entries(backends)) {
      if (settings.fallback !== undefined) this.fallbacks.set(alias, settings.fallback);
    }
  }

  /** Where this attempt starts along the chain: the backend whose failure moved it on, or the email's own. */
  private start(email: Attempt): string {
    return email.attempt > 1 && email.sentVia !== null && this.fallbacks.has(email.sentVia) ? email.sentVia : email.backend;
  }

  /** The backend this attempt goes through, before circuits are asked (see the top of this file). */
  plan(email: Attempt): string {
    if (email.attempt === 1 || email.sentVia === null) return email.backend;
    return this.fallbacks.get(email.sentVia) ?? email.backend;
  }

  /**
   * Moves `email.via` on to the first backend of its chain whose circuit is not paused (asking
   * without taking a half-open backend's probe); false, and `via` kept, when all are paused.
   */
  route(email: { via: string }): boolean {
    const via = this.chain(email.via).find((backend) => !this.breaker.paused(backend));
    if (via === undefined) return false;
    email.via = via;
    return true;
  }

  /** When an email held back from `via` (every backend of its chain paused) is due: as the first pause ends. */
  pausedUntil(via: string): Date {
    return new Date(Math.min(...this.chain(via).map((backend) => this.breaker.pausedUntil(backend).getTime())));
  }

  /** `via` and the fallbacks after it, in order (chains end: cycles are refused at start). */
  chain(via: string): string[] {
    const chain = [via];
    for (let next = this.fallbacks.get(via); next !== undefined && !chain.includes(next); next = this.fallbacks.get(next)) chain.push(next);
    return chain;
  }

  /** Counts the hops from where the email's attempt started to the backend it goes out through. */
  count(email: Attempt & { via: string }): void {
    const chain = this.chain(this.start(email));
    const hops = chain.indexOf(email.via);
    for (let i = 0; i < hops; i++) this.metrics.failovers.inc({ from: chain[i]!, to: chain[i + 1]! });
  }
}
