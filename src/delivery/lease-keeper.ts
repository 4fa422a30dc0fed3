// The lease keeper: every lease/3 it extends the leases of everything this sidecar holds (a send
// may be slow), and every lease/2 it rescues emails whose lease expired because the sidecar
// holding them died — putting them back in the queue, or failing those out of attempts.
import type { Logger } from 'pino';
import type { Finished, LeaseStore } from '../store/lease-store.ts';
import { ErrorLog } from '../error-log.ts';

export interface LeaseKeeperOptions {
  owner: string;
  leaseSeconds: number;
}

export interface LeaseKeeperHooks {
  /** The ids of every email this sidecar holds a lease on right now. */
  held(): string[];
  /** Emails rescued from dead sidecars: some finished (failed), the rest are due again. */
  rescued(finished: Finished[]): void;
}

export class LeaseKeeper {
  private readonly options: LeaseKeeperOptions;
  private readonly leases: LeaseStore;
  private readonly hooks: LeaseKeeperHooks;
  private readonly logger: Logger;
  private readonly errors: ErrorLog;
  private timers: NodeJS.Timeout[] = [];

  constructor(options: LeaseKeeperOptions, deps: { leases: LeaseStore; logger: Logger }, hooks: LeaseKeeperHooks) {
    this.options = options;
    this.leases = deps.leases;
    this.logger = deps.logger;
    this.hooks = hooks;
    this.errors = new ErrorLog(deps.logger);
  }

  start(): void {
    if (this.timers.length > 0) return;
    const every = (seconds: number, task: () => Promise<void>) => {
      const timer = setInterval(() => void task(), seconds * 1000);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.leaseSeconds / 3, () => this.heartbeat());
    every(this.options.leaseSeconds / 2, () => this.rescue());
    void this.rescue();
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  async heartbeat(): Promise<void> {
    const { owner, leaseSeconds } = this.options;
    await this.leases.extendLeases(owner, this.hooks.held(), leaseSeconds)
      .catch((err: unknown) => this.errors.error('extending leases failed', err));
  }

  async rescue(): Promise<void> {
    try {
      const rescued = await this.leases.rescueExpiredLeases();
      if (rescued.length === 0) return;
      this.logger.warn({ count: rescued.length }, 'rescued emails whose sidecar let the lease expire');
      this.hooks.rescued(rescued);
    } catch (err) {
      this.errors.error('rescuing expired leases failed', err);
    }
  }
}
