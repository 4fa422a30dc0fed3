// Puts back what a cut-off claim leased. A claim is one UPDATE … RETURNING: when its connection
// drops before the answer arrives (PgBouncer or PostgreSQL restarting mid-query), the rows may be
// leased to this sidecar, which never received them and would leave them `sending` until the
// lease runs out. A release that failed (emails of a paused or rate-limited backend sent back to
// the queue) leaves the same: rows leased to a sidecar that let go of them. So after a failed
// claim or release, before the next claim, every row leased to this
// sidecar's owner name that it does not hold in memory (waiting, paced, in flight, outcome not
// yet written) goes back to the queue, its attempt undone. Until that succeeds (the database may
// still be down) the next claim waits for it, so it runs as soon as the connection is back.
import type { Logger } from 'pino';
import type { LeaseStore } from '../store/lease-store.ts';

export class LeaseReconciler {
  private readonly owner: string;
  private readonly leases: LeaseStore;
  private readonly logger: Logger;
  private readonly held: () => string[];
  private needed = false;

  constructor(owner: string, deps: { leases: LeaseStore; logger: Logger }, held: () => string[]) {
    this.owner = owner;
    this.leases = deps.leases;
    this.logger = deps.logger;
    this.held = held;
  }

  /** A claim or release failed: rows may be leased to this sidecar that it does not hold. */
  suspect(): void {
    this.needed = true;
  }

  /** `leases` whose failed claims and releases call suspect(); for everything in delivery that claims or releases. */
  watch(leases: LeaseStore): LeaseStore {
    const watched: LeaseStore = Object.create(leases) as LeaseStore;
    const report = (err: unknown): never => {
      this.suspect();
      throw err;
    };
    watched.claim = (...args) => leases.claim(...args).catch(report);
    watched.release = (...args) => leases.release(...args).catch(report);
    return watched;
  }

  /** Called before a claim: reconciles if a claim failed since; rejects while the database is unreachable. */
  async settle(): Promise<void> {
    if (!this.needed) return;
    // The snapshot and the UPDATE see the same emails: nothing is claimed meanwhile (this runs
    // inside the claim pass), and an email that finishes meanwhile is no longer `sending`.
    const released = await this.leases.releaseStray(this.owner, this.held());
    this.needed = false;
    if (released > 0) this.logger.warn({ count: released }, 'put back emails a cut-off claim had leased to this sidecar');
  }
}
