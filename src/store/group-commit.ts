// Group commit for enqueues. Requests that arrive while a commit is in flight wait and go
// together in the next single multi-row INSERT; each request is answered only after the
// statement holding its rows has committed. One row per commit caps PostgreSQL at a few
// thousand emails a second; one statement for many rows reaches tens of thousands.
// Sharing a statement must never share a failure: when one is refused for anything but a
// database outage, the group is split and retried until each request has its own answer.
import type { NewEmail } from '../email/message.ts';
import { isDatabaseUnavailable } from '../errors.ts';

type Flush = (emails: NewEmail[]) => Promise<void>;

interface Waiter {
  emails: readonly NewEmail[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class GroupCommit {
  private readonly flush: Flush;
  private readonly maxConcurrent: number;
  private readonly maxRows: number;
  private waiting: Waiter[] = [];
  private running = 0;

  /** `maxConcurrent` statements may be in flight at once; a group holds at most `maxRows` rows. */
  constructor(flush: Flush, options: { maxConcurrent: number; maxRows: number }) {
    this.flush = flush;
    this.maxConcurrent = options.maxConcurrent;
    this.maxRows = options.maxRows;
  }

  /** Resolves once `emails` are committed; rejects if their statement failed. */
  add(emails: readonly NewEmail[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ emails, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.running < this.maxConcurrent && this.waiting.length > 0) {
      const group = this.takeGroup();
      this.running++;
      this.commit(group).finally(() => {
        this.running--;
        this.drain();
      });
    }
  }

  /**
   * Commits the group in one statement. If PostgreSQL refuses it (a row it cannot store, say),
   * each half is committed alone, down to single requests: one bad request among n costs about
   * 2·log2(n) statements, and only its own promise rejects. An outage is answered at once — every
   * retry would fail the same way, and the callers' 503 tells them to retry.
   */
  private async commit(group: Waiter[]): Promise<void> {
    try {
      await this.flush(group.flatMap((waiter) => waiter.emails));
      group.forEach((waiter) => waiter.resolve());
    } catch (err) {
      if (group.length === 1 || isDatabaseUnavailable(err)) {
        group.forEach((waiter) => waiter.reject(err));
        return;
      }
      const half = Math.ceil(group.length / 2);
      await this.commit(group.slice(0, half));
      await this.commit(group.slice(half));
    }
  }

  private takeGroup(): Waiter[] {
    let rows = 0;
    let count = 0;
    // Always take at least one request, even one larger than maxRows (a whole batch call).
    while (count < this.waiting.length && (count === 0 || rows + this.waiting[count]!.emails.length <= this.maxRows)) {
      rows += this.waiting[count]!.emails.length;
      count++;
    }
    return this.waiting.splice(0, count);
  }
}
